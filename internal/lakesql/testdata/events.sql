-- Twelve hand-written events (DuckDB syntax, one INSERT) that the dialect
-- tests in dialect.txtar query. Every expected answer there was worked out
-- by hand from this table:
--
--   id   eventTime (UTC)          ISO dow  source   eventName                      region     who
--   e10  2024-04-30 22:00:00      2 Tue    iam      CreateUser                     us-east-1  alice
--   e01  2024-05-01 08:15:30      3 Wed    signin   ConsoleLogin                   us-east-1  alice
--   e02  2024-05-01 23:59:59      3 Wed    sts      AssumeRole                     us-east-1  deployer (role)
--   e03  2024-05-02 10:00:00.250  4 Thu    s3       CreateBucket                   us-west-2  deployer (role)
--   e04  2024-05-02 14:30:00      4 Thu    s3       GetObject (AccessDenied, Data) us-west-2  bob
--   e05  2024-05-03 09:00:00      5 Fri    ec2      RunInstances                   us-east-1  alice
--   e11  2024-05-03 16:20:00      5 Fri    iam      AddUserToGroup                 us-east-1  alice
--   e12  2024-05-04 03:30:00      6 Sat    config   PutEvaluations                 eu-west-1  config service
--   e06  2024-05-04 12:00:00      6 Sat    ec2      AuthorizeSecurityGroupIngress  eu-west-1  alice
--   e07  2024-05-05 18:45:00      7 Sun    iam      PutRolePolicy                  us-east-1  alice
--   e08  2024-05-06 00:00:00      1 Mon    s3       DeleteBucket (NoSuchBucket)    us-west-2  bob
--   e09  2024-05-06 07:07:07      1 Mon    s3       ListBuckets                    us-east-1  deployer (role)
--
-- 2024-05-01 is a Wednesday (2024-01-01 was a Monday; 121 days later, 121 mod 7 = 2).
INSERT INTO events (eventID, eventTime, eventSource, eventName, awsRegion, sourceIPAddress, userAgent,
    userIdentity, errorCode, errorMessage, requestParameters, responseElements, additionalEventData,
    readOnly, resources, eventType, managementEvent, recipientAccountId, eventCategory, tlsDetails,
    sessionCredentialFromConsole, eventJson)
VALUES
('e10', TIMESTAMP '2024-04-30 22:00:00', 'iam.amazonaws.com', 'CreateUser', 'us-east-1', '192.0.2.10', 'console.amazonaws.com',
    {'type': 'IAMUser', 'principalId': 'AIDAALICE', 'arn': 'arn:aws:iam::111111111111:user/alice', 'accountId': '111111111111', 'accessKeyId': 'AKIAALICE', 'userName': 'alice'},
    NULL, NULL, MAP {'userName': 'carol'},
    MAP {'user': '{"userName":"carol","userId":"AIDACAROL","arn":"arn:aws:iam::111111111111:user/carol"}'}, NULL,
    false, NULL, 'AwsApiCall', true, '111111111111', 'Management',
    {'tlsVersion': 'TLSv1.2', 'cipherSuite': 'ECDHE-RSA-AES128-GCM-SHA256', 'clientProvidedHostHeader': 'iam.amazonaws.com'}, NULL, NULL),
('e01', TIMESTAMP '2024-05-01 08:15:30', 'signin.amazonaws.com', 'ConsoleLogin', 'us-east-1', '192.0.2.10', 'Mozilla/5.0',
    {'type': 'IAMUser', 'principalId': 'AIDAALICE', 'arn': 'arn:aws:iam::111111111111:user/alice', 'accountId': '111111111111', 'accessKeyId': 'AKIAALICE', 'userName': 'alice'},
    NULL, NULL, NULL, MAP {'ConsoleLogin': 'Success'},
    MAP {'MFAUsed': 'No', 'LoginTo': 'https://console.aws.amazon.com/'},
    false, NULL, 'AwsConsoleSignIn', true, '111111111111', 'Management', NULL, NULL, NULL),
('e02', TIMESTAMP '2024-05-01 23:59:59', 'sts.amazonaws.com', 'AssumeRole', 'us-east-1', '192.0.2.20', 'aws-cli/2.15.0',
    {'type': 'AssumedRole', 'principalId': 'AROADEPLOY:session1', 'arn': 'arn:aws:sts::111111111111:assumed-role/deployer/session1', 'accountId': '111111111111', 'accessKeyId': 'ASIADEPLOY',
     'sessionContext': {'attributes': {'creationDate': TIMESTAMP '2024-05-01 23:00:00', 'mfaAuthenticated': 'false'},
                        'sessionIssuer': {'type': 'Role', 'principalId': 'AROADEPLOY', 'arn': 'arn:aws:iam::111111111111:role/deployer', 'accountId': '111111111111', 'userName': 'deployer'}}},
    NULL, NULL, MAP {'roleArn': 'arn:aws:iam::111111111111:role/deployer', 'roleSessionName': 'session1', 'durationSeconds': '3600'}, NULL, NULL,
    true, [{'accountId': '111111111111', 'type': 'AWS::IAM::Role', 'arn': 'arn:aws:iam::111111111111:role/deployer', 'arnPrefix': NULL}],
    'AwsApiCall', true, '111111111111', 'Management',
    {'tlsVersion': 'TLSv1.3', 'cipherSuite': 'TLS_AES_128_GCM_SHA256', 'clientProvidedHostHeader': 'sts.amazonaws.com'}, NULL, NULL),
('e03', TIMESTAMP '2024-05-02 10:00:00.250', 's3.amazonaws.com', 'CreateBucket', 'us-west-2', '198.51.100.7', 'aws-cli/2.15.0',
    {'type': 'AssumedRole', 'principalId': 'AROADEPLOY:session1', 'arn': 'arn:aws:sts::111111111111:assumed-role/deployer/session1', 'accountId': '111111111111', 'accessKeyId': 'ASIADEPLOY',
     'sessionContext': {'attributes': {'creationDate': TIMESTAMP '2024-05-01 23:00:00', 'mfaAuthenticated': 'false'},
                        'sessionIssuer': {'type': 'Role', 'principalId': 'AROADEPLOY', 'arn': 'arn:aws:iam::111111111111:role/deployer', 'accountId': '111111111111', 'userName': 'deployer'}}},
    NULL, NULL, MAP {'bucketName': 'logs-bucket', 'x-amz-acl': 'private'}, NULL, NULL,
    false, [{'accountId': '111111111111', 'type': 'AWS::S3::Bucket', 'arn': 'arn:aws:s3:::logs-bucket', 'arnPrefix': NULL}],
    'AwsApiCall', true, '111111111111', 'Management',
    {'tlsVersion': 'TLSv1.2', 'cipherSuite': 'ECDHE-RSA-AES128-GCM-SHA256', 'clientProvidedHostHeader': 's3.amazonaws.com'}, NULL,
    '{"eventVersion":"1.09","eventName":"CreateBucket","requestParameters":{"bucketName":"logs-bucket","CreateBucketConfiguration":{"LocationConstraint":"us-west-2"}},"tags":[{"key":"env","value":"prod"},{"key":"team","value":"sec"}],"n":42,"flag":true,"nothing":null}'),
('e04', TIMESTAMP '2024-05-02 14:30:00', 's3.amazonaws.com', 'GetObject', 'us-west-2', '203.0.113.5', 'aws-sdk-go/1.0',
    {'type': 'IAMUser', 'principalId': 'AIDABOB', 'arn': 'arn:aws:iam::222222222222:user/bob', 'accountId': '222222222222', 'accessKeyId': 'AKIABOB', 'userName': 'bob'},
    'AccessDenied', 'Access Denied', MAP {'bucketName': 'logs-bucket', 'key': 'a/b.txt'}, NULL, NULL,
    true, [{'accountId': NULL, 'type': 'AWS::S3::Object', 'arn': 'arn:aws:s3:::logs-bucket/a/b.txt', 'arnPrefix': NULL},
           {'accountId': '111111111111', 'type': 'AWS::S3::Bucket', 'arn': 'arn:aws:s3:::logs-bucket', 'arnPrefix': NULL}],
    'AwsApiCall', false, '111111111111', 'Data',
    {'tlsVersion': 'TLSv1.1', 'cipherSuite': 'ECDHE-RSA-AES128-SHA', 'clientProvidedHostHeader': 'logs-bucket.s3.amazonaws.com'}, NULL, NULL),
('e05', TIMESTAMP '2024-05-03 09:00:00', 'ec2.amazonaws.com', 'RunInstances', 'us-east-1', '192.0.2.10', 'console.amazonaws.com',
    {'type': 'IAMUser', 'principalId': 'AIDAALICE', 'arn': 'arn:aws:iam::111111111111:user/alice', 'accountId': '111111111111', 'accessKeyId': 'AKIAALICE', 'userName': 'alice'},
    NULL, NULL, MAP {'instanceType': 't3.micro', 'minCount': '2'},
    MAP {'instancesSet': '{"items":[{"instanceId":"i-0abc"},{"instanceId":"i-0def"}]}'}, NULL,
    false, [], 'AwsApiCall', true, '111111111111', 'Management',
    {'tlsVersion': 'TLSv1.2', 'cipherSuite': 'ECDHE-RSA-AES128-GCM-SHA256', 'clientProvidedHostHeader': 'ec2.us-east-1.amazonaws.com'}, 'true', NULL),
('e11', TIMESTAMP '2024-05-03 16:20:00', 'iam.amazonaws.com', 'AddUserToGroup', 'us-east-1', '192.0.2.10', 'console.amazonaws.com',
    {'type': 'IAMUser', 'principalId': 'AIDAALICE', 'arn': 'arn:aws:iam::111111111111:user/alice', 'accountId': '111111111111', 'accessKeyId': 'AKIAALICE', 'userName': 'alice'},
    NULL, NULL, MAP {'userName': 'carol', 'groupName': 'Admins'}, NULL, NULL,
    false, NULL, 'AwsApiCall', true, '111111111111', 'Management',
    {'tlsVersion': 'TLSv1.2', 'cipherSuite': 'ECDHE-RSA-AES128-GCM-SHA256', 'clientProvidedHostHeader': 'iam.amazonaws.com'}, 'true', NULL),
('e12', TIMESTAMP '2024-05-04 03:30:00', 'config.amazonaws.com', 'PutEvaluations', 'eu-west-1', 'config.amazonaws.com', 'config.amazonaws.com',
    {'type': 'AWSService', 'invokedBy': 'config.amazonaws.com'},
    NULL, NULL,
    MAP {'evaluations': '[{"complianceType":"NON_COMPLIANT","complianceResourceType":"AWS::S3::Bucket","complianceResourceId":"logs-bucket"},{"complianceType":"COMPLIANT","complianceResourceType":"AWS::S3::Bucket","complianceResourceId":"old-bucket"}]',
         'resultToken': 'tok'},
    NULL, MAP {'configRuleName': 's3-public', 'configRuleArn': 'arn:aws:config:eu-west-1:111111111111:config-rule/config-rule-abc'},
    false, NULL, 'AwsApiCall', true, '111111111111', 'Management', NULL, NULL, NULL),
('e06', TIMESTAMP '2024-05-04 12:00:00', 'ec2.amazonaws.com', 'AuthorizeSecurityGroupIngress', 'eu-west-1', '192.0.2.10', 'console.amazonaws.com',
    {'type': 'IAMUser', 'principalId': 'AIDAALICE', 'arn': 'arn:aws:iam::111111111111:user/alice', 'accountId': '111111111111', 'accessKeyId': 'AKIAALICE', 'userName': 'alice'},
    NULL, NULL,
    MAP {'groupId': 'sg-0123', 'ipPermissions': '{"items":[{"ipProtocol":"tcp","fromPort":22,"ipRanges":{"items":[{"cidrIp":"0.0.0.0/0"}]}}]}'}, NULL, NULL,
    false, NULL, 'AwsApiCall', true, '111111111111', 'Management',
    {'tlsVersion': 'TLSv1.2', 'cipherSuite': 'ECDHE-RSA-AES128-GCM-SHA256', 'clientProvidedHostHeader': 'ec2.eu-west-1.amazonaws.com'}, 'true', NULL),
('e07', TIMESTAMP '2024-05-05 18:45:00', 'iam.amazonaws.com', 'PutRolePolicy', 'us-east-1', '192.0.2.10', 'aws-cli/2.15.0',
    {'type': 'IAMUser', 'principalId': 'AIDAALICE', 'arn': 'arn:aws:iam::111111111111:user/alice', 'accountId': '111111111111', 'accessKeyId': 'AKIAALICE', 'userName': 'alice'},
    NULL, NULL, MAP {'roleName': 'deployer', 'policyName': 'inline', 'policyDocument': '{"Version":"2012-10-17","Statement":[]}'}, NULL, NULL,
    false, NULL, 'AwsApiCall', true, '111111111111', 'Management',
    {'tlsVersion': 'TLSv1.3', 'cipherSuite': 'TLS_AES_128_GCM_SHA256', 'clientProvidedHostHeader': 'iam.amazonaws.com'}, NULL, NULL),
('e08', TIMESTAMP '2024-05-06 00:00:00', 's3.amazonaws.com', 'DeleteBucket', 'us-west-2', '203.0.113.5', 'aws-sdk-go/1.0',
    {'type': 'IAMUser', 'principalId': 'AIDABOB', 'arn': 'arn:aws:iam::222222222222:user/bob', 'accountId': '222222222222', 'accessKeyId': 'AKIABOB', 'userName': 'bob'},
    'NoSuchBucket', 'The specified bucket does not exist', MAP {'bucketName': 'old-bucket'}, NULL, NULL,
    false, NULL, 'AwsApiCall', true, '111111111111', 'Management',
    {'tlsVersion': 'TLSv1.2', 'cipherSuite': 'ECDHE-RSA-AES128-GCM-SHA256', 'clientProvidedHostHeader': 's3.amazonaws.com'}, NULL, NULL),
('e09', TIMESTAMP '2024-05-06 07:07:07', 's3.amazonaws.com', 'ListBuckets', 'us-east-1', '192.0.2.20', 'aws-cli/2.15.0',
    {'type': 'AssumedRole', 'principalId': 'AROADEPLOY:session1', 'arn': 'arn:aws:sts::111111111111:assumed-role/deployer/session1', 'accountId': '111111111111', 'accessKeyId': 'ASIADEPLOY',
     'sessionContext': {'attributes': {'creationDate': TIMESTAMP '2024-05-01 23:00:00', 'mfaAuthenticated': 'false'},
                        'sessionIssuer': {'type': 'Role', 'principalId': 'AROADEPLOY', 'arn': 'arn:aws:iam::111111111111:role/deployer', 'accountId': '111111111111', 'userName': 'deployer'}}},
    NULL, NULL, MAP {}, NULL, NULL,
    true, NULL, 'AwsApiCall', true, '111111111111', 'Management',
    {'tlsVersion': 'TLSv1.3', 'cipherSuite': 'TLS_AES_128_GCM_SHA256', 'clientProvidedHostHeader': 's3.amazonaws.com'}, NULL, NULL)
