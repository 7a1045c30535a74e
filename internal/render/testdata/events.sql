-- CloudTrail-like rows as a Lake query returns them: nested identity,
-- request parameters in record order, and hostile strings from the record.
CREATE TABLE events (
	eventTime TIMESTAMP,
	eventSource VARCHAR,
	eventName VARCHAR,
	awsRegion VARCHAR,
	userIdentity STRUCT("type" VARCHAR, arn VARCHAR, accountId VARCHAR, sessionContext STRUCT(attributes STRUCT(creationDate TIMESTAMP, mfaAuthenticated VARCHAR))),
	userAgent VARCHAR,
	errorMessage VARCHAR,
	requestParameters MAP(VARCHAR, VARCHAR),
	readOnly BOOLEAN,
	resources STRUCT(accountId VARCHAR, "type" VARCHAR, arn VARCHAR)[]
);
INSERT INTO events VALUES
(
	'2023-07-10 12:37:50', 's3.amazonaws.com', 'GetObject', 'us-east-1',
	{'type': 'AssumedRole', 'arn': 'arn:aws:sts::111122223333:assumed-role/Admin/alice', 'accountId': '111122223333',
	 'sessionContext': {'attributes': {'creationDate': '2023-07-10 11:00:00', 'mfaAuthenticated': 'false'}}},
	'[aws-cli/2.13.0 Python/3.11.4 Linux/6.1 exe/x86_64.ubuntu.22 prompt/off command/s3.cp]',
	NULL,
	MAP {'bucketName': 'logs', 'key': 'a/b.txt', 'Host': 'logs.s3.amazonaws.com'},
	true,
	[{'accountId': '111122223333', 'type': 'AWS::S3::Object', 'arn': 'arn:aws:s3:::logs/a/b.txt'}]
), (
	'2023-07-10 12:38:01.5', 'iam.amazonaws.com', 'CreateUser', 'us-east-1',
	{'type': 'IAMUser', 'arn': 'arn:aws:iam::111122223333:user/bob', 'accountId': '111122223333', 'sessionContext': NULL},
	'evil' || chr(27) || '[31mred' || chr(27) || '[0m' || chr(8238) || 'txt.exe',
	'line one' || chr(10) || 'line two' || chr(9) || 'tabbed',
	MAP {'userName': '日本語のユーザー名', 'tags': '[{"key":"a","value":"b"}]'},
	false,
	[]
), (
	'2023-07-10 12:39:00', 'ec2.amazonaws.com', 'RunInstances', 'eu-west-1',
	NULL,
	'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/115.0.0.0 Safari/537.36',
	'You are not authorized to perform this operation. Encoded authorization failure message: 4mNV2',
	NULL,
	NULL,
	NULL
);
-- query
SELECT eventTime, eventSource, eventName, awsRegion, userIdentity, userAgent,
	errorMessage, requestParameters, readOnly, resources,
	element_at(requestParameters, 'bucketName')[1] AS bucket
FROM events ORDER BY eventTime
