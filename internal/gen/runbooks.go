package gen

import (
	"fmt"
	"strings"
)

// RunbookVariant is one synthetic runbook: its name and its YAML.
type RunbookVariant struct{ Name, YAML string }

// variantTest is every variant's test: a call of a service no pattern
// names does not trigger it.
const variantTest = `tests:
  - name: a call of another service does not trigger it
    event: {"eventVersion": "1.09", "eventTime": "2024-05-01T12:00:00Z", "eventSource": "benchmark.example.com", "eventName": "Benchmark", "awsRegion": "us-east-1", "eventID": "bench-1", "recipientAccountId": "111122223333", "userIdentity": {"type": "AWSService", "invokedBy": "benchmark.example.com"}}
    expect:
      decision: no-match
`

const (
	actorParam = `  actor: "event.?userIdentity.arn.orValue('')"
`
	arnParam = `  arn: "has(event.resources) && size(event.resources) > 0 && has(event.resources[0].ARN) ? string(event.resources[0].ARN) : ''"
`
	automatedParam = `  automated: "params.actor.contains(':assumed-role/github-actions') || params.actor.contains(':assumed-role/terraform') || event.?userIdentity.invokedBy.orValue('') != ''"
`
)

func quoted(names []string) string { return strings.Join(names, ", ") }

// RunbookVariants are 94 runbooks of the kinds a real library holds, for
// benchmarks to load beside the shipped ones (100 in all): watches on
// sensitive calls, eventName prefixes, anything-but on identities and
// regions, exists on errorCode, request fields, EventBridge envelope
// patterns; params and CEL conditions on all; queries on some (error
// bursts, first use of a call by a principal, the Environment tag of the
// resource touched). Each lints clean and passes its one test. n, when
// less, keeps the first n.
func RunbookVariants(n int) []RunbookVariant {
	var out []RunbookVariant
	add := func(name, yaml string) { out = append(out, RunbookVariant{Name: name, YAML: yaml + variantTest}) }

	// Watches on sensitive calls that succeeded, by people rather than
	// automation: a pattern on eventSource, eventName and errorCode.
	watches := []struct {
		name, source string
		calls        []string
	}{
		{"s3-bucket-policy", "s3", []string{"PutBucketPolicy", "DeleteBucketPolicy", "PutBucketAcl"}},
		{"s3-public-access", "s3", []string{"PutBucketPublicAccessBlock", "DeleteBucketPublicAccessBlock"}},
		{"s3-encryption", "s3", []string{"PutBucketEncryption", "DeleteBucketEncryption"}},
		{"s3-versioning", "s3", []string{"PutBucketVersioning", "PutBucketLifecycle", "PutBucketReplication"}},
		{"kms-key-deletion", "kms", []string{"ScheduleKeyDeletion", "DisableKey", "CancelKeyDeletion"}},
		{"kms-grants", "kms", []string{"CreateGrant", "RetireGrant", "RevokeGrant"}},
		{"kms-key-policy", "kms", []string{"PutKeyPolicy", "RotateKey"}},
		{"secret-deletion", "secretsmanager", []string{"DeleteSecret", "PutResourcePolicy", "RestoreSecret"}},
		{"secret-writes", "secretsmanager", []string{"PutSecretValue", "RotateSecret", "UpdateSecret"}},
		{"iam-users", "iam", []string{"CreateUser", "DeleteUser", "CreateLoginProfile"}},
		{"iam-roles", "iam", []string{"CreateRole", "DeleteRole", "UpdateRole"}},
		{"iam-access-keys", "iam", []string{"DeleteAccessKey", "UpdateAccessKey"}},
		{"iam-policies", "iam", []string{"CreatePolicy", "DeletePolicy", "DeletePolicyVersion"}},
		{"iam-detach", "iam", []string{"DetachRolePolicy", "DetachUserPolicy", "DeleteRolePolicy"}},
		{"ec2-instance-attributes", "ec2", []string{"ModifyInstanceAttribute", "ModifyInstanceMetadataOptions"}},
		{"ec2-stop-terminate", "ec2", []string{"StopInstances", "TerminateInstances"}},
		{"ec2-snapshots", "ec2", []string{"CreateSnapshot", "ModifySnapshotAttribute", "CopySnapshot"}},
		{"ec2-security-groups", "ec2", []string{"RevokeSecurityGroupIngress", "AuthorizeSecurityGroupEgress", "DeleteSecurityGroup"}},
		{"ec2-network", "ec2", []string{"CreateVpc", "DeleteVpc", "CreateInternetGateway", "AttachInternetGateway"}},
		{"rds-instances", "rds", []string{"ModifyDBInstance", "DeleteDBInstance", "ModifyDBCluster"}},
		{"rds-snapshots", "rds", []string{"CreateDBSnapshot", "ModifyDBSnapshotAttribute", "CopyDBSnapshot"}},
		{"lambda-code", "lambda", []string{"UpdateFunctionCode20150331v2", "UpdateFunctionConfiguration20150331v2"}},
		{"lambda-permissions", "lambda", []string{"AddPermission20150331v2", "RemovePermission20150331v2", "CreateFunction20150331"}},
		{"sqs-queues", "sqs", []string{"SetQueueAttributes", "DeleteQueue", "AddPermission"}},
		{"sns-topics", "sns", []string{"Subscribe", "SetTopicAttributes", "DeleteTopic"}},
		{"ssm-parameters", "ssm", []string{"PutParameter", "DeleteParameter", "SendCommand", "StartSession"}},
		{"log-retention", "logs", []string{"DeleteLogGroup", "DeleteLogStream", "PutRetentionPolicy"}},
		{"elb-targets", "elasticloadbalancing", []string{"RegisterTargets", "DeregisterTargets", "DeleteLoadBalancer", "ModifyListener"}},
		{"dynamodb-tables", "dynamodb", []string{"DeleteTable", "UpdateTable", "UpdateContinuousBackups"}},
		{"alarms", "monitoring", []string{"DeleteAlarms", "DisableAlarmActions", "PutMetricAlarm"}},
	}
	for i, w := range watches {
		gate := ""
		if i%5 == 0 {
			gate = `  - gate:
      name: deploy-prod
      state: halt
      reason: "{{.event.eventName}} by {{.params.actor}}"
      ttl: 2h
    when: "!params.actor.endsWith(':root')"
`
		}
		add("watch-"+w.name, fmt.Sprintf(`name: watch-%s
description: A %s change by a person
owner: platform-security
severity: high
trigger:
  pattern:
    eventSource: [%s.amazonaws.com]
    eventName: [%s]
    errorCode: [{exists: false}]
params:
%s%scondition: "!params.automated"
actions:
  - alert:
      to: [stdout]
      title: "{{.event.eventName}} by {{.params.actor}}"
      text: "In {{.event.awsRegion}} at {{.event.eventTime}} from {{.event.sourceIPAddress}}."
%s`, w.name, w.name, w.source, quoted(w.calls), actorParam, automatedParam, gate))
	}

	// Destructive or configuring calls by name prefix.
	prefixes := []struct{ source, prefix string }{
		{"ec2", "Delete"}, {"ec2", "Create"}, {"s3", "Delete"}, {"s3", "Put"}, {"iam", "Delete"},
		{"iam", "Create"}, {"iam", "Attach"}, {"kms", "Disable"}, {"rds", "Delete"}, {"lambda", "Delete"},
		{"dynamodb", "Delete"}, {"sns", "Delete"}, {"sqs", "Delete"}, {"logs", "Delete"},
	}
	for _, p := range prefixes {
		name := fmt.Sprintf("%s-%s-calls", p.source, strings.ToLower(p.prefix))
		add(name, fmt.Sprintf(`name: %s
description: A %s call on %s outside automation
owner: cloud-platform
severity: medium
trigger:
  pattern:
    eventSource: [%s.amazonaws.com]
    eventName: [{prefix: %s}]
    readOnly: [false]
params:
%s%s%scondition: "params.actor != '' && !params.automated"
actions:
  - alert:
      to: [stdout]
      title: "{{.event.eventName}} on {{.params.arn}} by {{.params.actor}}"
`, name, p.prefix, p.source, p.source, p.prefix, actorParam, automatedParam, arnParam))
	}

	// Long-term access keys, root or federation used on a service:
	// anything-but on the identity type.
	for _, source := range []string{"ec2", "s3", "kms", "iam", "secretsmanager", "ssm", "lambda", "rds", "dynamodb", "sts"} {
		name := "long-term-keys-" + source
		add(name, fmt.Sprintf(`name: %s
description: A long-term access key was used on %s
owner: identity
severity: low
trigger:
  pattern:
    eventSource: [%s.amazonaws.com]
    userIdentity:
      type: [{anything-but: [AssumedRole, AWSService]}]
params:
%s  key: "event.?userIdentity.accessKeyId.orValue('')"
condition: "params.key.startsWith('AKIA') && !params.actor.endsWith('/break-glass')"
actions:
  - alert:
      to: [stdout]
      title: "{{.params.key}} of {{.params.actor}} called {{.event.eventName}}"
`, name, source, source, actorParam))
	}

	// Error bursts on a service: exists on errorCode, and a query over the
	// last 15 minutes of the principal's errors.
	for _, source := range []string{"ec2", "s3", "iam", "kms", "secretsmanager"} {
		name := "error-burst-" + source
		add(name, fmt.Sprintf(`name: %s
description: One principal had many failed %s calls in 15 minutes
owner: security-operations
severity: medium
trigger:
  pattern:
    eventSource: [%s.amazonaws.com]
    errorCode: [{exists: true}]
params:
  principal: "event.?userIdentity.arn.orValue('')"
  threshold: "10"
query: |
  SELECT count(*) AS errors, count(DISTINCT errorCode) AS codes
  FROM events
  WHERE userIdentity.arn = :principal
    AND eventSource = '%s.amazonaws.com'
    AND errorCode IS NOT NULL
    AND eventTime > CAST(:event_time AS TIMESTAMP) - INTERVAL '15' MINUTE
    AND eventTime <= CAST(:event_time AS TIMESTAMP)
condition: rows[0].errors >= int(params.threshold)
cooldown: 30m
dedup: params.principal
actions:
  - alert:
      to: [stdout]
      title: "{{.params.principal}} failed {{(index .rows 0).errors}} %s calls in 15 minutes"
`, name, source, source, source, source))
	}

	// First use of a sensitive call by a principal in 30 days.
	firsts := []struct {
		name, source string
		calls        []string
	}{
		{"access-key", "iam", []string{"CreateAccessKey"}},
		{"role-policy", "iam", []string{"PutRolePolicy", "AttachRolePolicy"}},
		{"user-policy", "iam", []string{"PutUserPolicy", "AttachUserPolicy", "AddUserToGroup"}},
		{"federation-token", "sts", []string{"GetFederationToken"}},
		{"session-token", "sts", []string{"GetSessionToken"}},
		{"credential-report", "iam", []string{"GenerateCredentialReport"}},
		{"instance-profile", "iam", []string{"AddRoleToInstanceProfile", "PassRole"}},
		{"secret-policy", "secretsmanager", []string{"PutResourcePolicy", "DeleteResourcePolicy"}},
		{"kms-key-creation", "kms", []string{"CreateKey", "CreateAlias"}},
	}
	for _, f := range firsts {
		name := "first-" + f.name
		add(name, fmt.Sprintf(`name: %s
description: A principal made a %s call for the first time in 30 days
owner: identity
severity: medium
trigger:
  pattern:
    eventSource: [%s.amazonaws.com]
    eventName: [%s]
    errorCode: [{exists: false}]
params:
%s  call: event.eventName
query: |
  SELECT count(*) AS seen
  FROM events
  WHERE userIdentity.arn = :actor AND eventName = :call
    AND eventTime < CAST(:event_time AS TIMESTAMP)
    AND eventTime >= CAST(:event_time AS TIMESTAMP) - INTERVAL '30' DAY
condition: rows[0].seen == 0
actions:
  - alert:
      to: [stdout]
      title: "First {{.params.call}} by {{.params.actor}} in 30 days"
`, name, f.name, f.source, quoted(f.calls), actorParam))
	}

	// Changes to resources tagged Environment=Production at the time.
	prods := []struct {
		name, source string
		calls        []string
	}{
		{"instances", "ec2", []string{"StopInstances", "TerminateInstances", "ModifyInstanceAttribute"}},
		{"buckets", "s3", []string{"PutBucketPolicy", "DeleteBucketPolicy", "PutBucketAcl", "DeleteBucket"}},
		{"databases", "rds", []string{"ModifyDBInstance", "DeleteDBInstance", "RebootDBInstance"}},
		{"functions", "lambda", []string{"UpdateFunctionCode20150331v2", "DeleteFunction20150331"}},
		{"queues", "sqs", []string{"SetQueueAttributes", "DeleteQueue", "PurgeQueue"}},
		{"keys", "kms", []string{"ScheduleKeyDeletion", "DisableKey", "PutKeyPolicy"}},
		{"secrets", "secretsmanager", []string{"DeleteSecret", "UpdateSecret"}},
		{"tables", "dynamodb", []string{"DeleteTable", "UpdateTable"}},
	}
	for _, p := range prods {
		name := "prod-" + p.name + "-changed"
		add(name, fmt.Sprintf(`name: %s
description: A production %s was changed
owner: platform-security
severity: high
trigger:
  pattern:
    eventSource: [%s.amazonaws.com]
    eventName: [%s]
    errorCode: [{exists: false}]
params:
%s%s%squery: |
  SELECT t."value" AS env
  FROM resource_tags AS t
  WHERE t.arn = :arn AND t."key" = 'Environment'
    AND t.valid_from <= CAST(:event_time AS TIMESTAMP)
    AND coalesce(t.valid_to, TIMESTAMP '9999-12-31') > CAST(:event_time AS TIMESTAMP)
  ORDER BY t."value"
condition: "!params.automated && rows.exists(r, r.env == 'Production')"
actions:
  - alert:
      to: [stdout]
      title: "{{.event.eventName}} on production {{.params.arn}} by {{.params.actor}}"
`, name, strings.TrimSuffix(p.name, "s"), p.source, quoted(p.calls), actorParam, automatedParam, arnParam))
	}

	// Patterns pasted from EventBridge rules: the envelope form.
	envelopes := []struct{ name, source, detailType, detail string }{
		{"eb-ec2-launches", "aws.ec2", "AWS API Call via CloudTrail", `"eventName": ["RunInstances", "TerminateInstances"]`},
		{"eb-iam-roles", "aws.iam", "AWS API Call via CloudTrail", `"eventName": ["CreateRole", "DeleteRole", "UpdateAssumeRolePolicy"]`},
		{"eb-s3-buckets", "aws.s3", "AWS API Call via CloudTrail", `"eventName": ["CreateBucket", "DeleteBucket"]`},
		{"eb-console-without-mfa", "aws.signin", "AWS Console Sign In via CloudTrail", `"additionalEventData": {"MFAUsed": ["No"]}`},
	}
	for _, e := range envelopes {
		add(e.name, fmt.Sprintf(`name: %s
description: An EventBridge rule's pattern, as pasted
owner: cloud-platform
severity: low
trigger:
  pattern: |
    {"source": ["%s"], "detail-type": ["%s"], "detail": {%s}}
params:
%s  region: event.awsRegion
condition: "params.region != 'ap-southeast-2'"
actions:
  - alert:
      to: [stdout]
      title: "{{.event.eventName}} by {{.params.actor}} in {{.params.region}}"
`, e.name, e.source, e.detailType, e.detail, actorParam))
	}

	// Request fields, identities and regions.
	misc := []struct{ name, pattern, params, condition string }{
		{"console-login-failures",
			"    eventSource: [signin.amazonaws.com]\n    eventName: [ConsoleLogin]\n    responseElements:\n      ConsoleLogin: [Failure]\n",
			"  ip: event.sourceIPAddress\n", "params.ip != ''"},
		{"assume-admin-roles",
			"    eventSource: [sts.amazonaws.com]\n    eventName: [AssumeRole]\n    requestParameters:\n      roleArn: [{wildcard: \"*:role/*dmin*\"}]\n",
			"  role: \"event.?requestParameters.roleArn.orValue('')\"\n", "!params.actor.contains('/sso.amazonaws.com/')"},
		{"egress-to-world",
			"    eventSource: [ec2.amazonaws.com]\n    eventName: [AuthorizeSecurityGroupEgress]\n    requestParameters:\n      cidrIp: [{prefix: \"0.0.0.0\"}]\n",
			"  group: \"event.?requestParameters.groupId.orValue('')\"\n", "params.group != ''"},
		{"ec2-writes-outside-regions",
			"    eventSource: [ec2.amazonaws.com]\n    readOnly: [false]\n    awsRegion: [{anything-but: [us-east-1, us-west-2, eu-west-1]}]\n",
			"  region: event.awsRegion\n", "params.region != ''"},
		{"iam-writes-outside-us-east-1",
			"    eventSource: [iam.amazonaws.com]\n    readOnly: [false]\n    awsRegion: [{anything-but: [us-east-1]}]\n",
			"  region: event.awsRegion\n", "params.region != ''"},
		{"kms-decrypt-by-users",
			"    eventSource: [kms.amazonaws.com]\n    eventName: [Decrypt, GenerateDataKey]\n    userIdentity:\n      type: [IAMUser, Root]\n",
			"  key: \"has(event.resources) && size(event.resources) > 0 ? string(event.resources[0].ARN) : ''\"\n", "!params.actor.endsWith('/ci')"},
		{"prod-secret-reads",
			"    eventSource: [secretsmanager.amazonaws.com]\n    eventName: [GetSecretValue]\n    errorCode: [{exists: false}]\n",
			"  secret: \"string(event.?requestParameters.secretId.orValue(''))\"\n", "params.secret.contains('prod/') && !params.actor.contains('-lambda-role/')"},
		{"recon-get-caller-identity",
			"    eventSource: [sts.amazonaws.com]\n    eventName: [GetCallerIdentity]\n    userIdentity:\n      type: [IAMUser]\n",
			"  agent: event.userAgent\n", "params.agent.contains('curl') || params.agent.contains('python-requests')"},
		{"scanner-addresses",
			"    eventSource: [s3.amazonaws.com, ec2.amazonaws.com, iam.amazonaws.com]\n    sourceIPAddress: [{prefix: \"203.0.113.\"}, {prefix: \"198.51.100.\"}]\n",
			"  ip: event.sourceIPAddress\n", "params.ip != ''"},
		{"ssm-decrypted-parameters",
			"    eventSource: [ssm.amazonaws.com]\n    eventName: [GetParameter, GetParameters]\n    requestParameters:\n      withDecryption: [true]\n",
			"  name: \"string(event.?requestParameters.name.orValue(''))\"\n", "params.name.startsWith('/prod/') && !params.actor.contains('-lambda-role/')"},
		{"trail-calls-any-case",
			"    eventSource: [cloudtrail.amazonaws.com]\n    eventName: [{equals-ignore-case: deletetrail}, {equals-ignore-case: stoplogging}, {equals-ignore-case: updatetrail}]\n",
			"  trail: \"string(event.?requestParameters.name.orValue(''))\"\n", "true"},
		{"lambda-invoke-denied",
			"    eventSource: [lambda.amazonaws.com]\n    eventName: [Invoke]\n    errorCode: [{exists: true}]\n",
			"  function: \"string(event.?requestParameters.functionName.orValue(''))\"\n", "params.function != ''"},
		{"web-identity-roles",
			"    eventSource: [sts.amazonaws.com]\n    eventName: [AssumeRoleWithWebIdentity]\n    errorCode: [{exists: false}]\n",
			"  role: \"string(event.?requestParameters.roleArn.orValue(''))\"\n", "!params.role.contains('github-actions')"},
		{"ec2-instance-console",
			"    eventSource: [ec2.amazonaws.com]\n    eventName: [GetConsoleOutput, GetConsoleScreenshot, GetPasswordData, SendSerialConsoleSSHPublicKey]\n",
			"  instance: \"string(event.?requestParameters.instanceId.orValue(''))\"\n", "true"},
	}
	for _, m := range misc {
		add(m.name, fmt.Sprintf(`name: %s
description: A %s event
owner: security-operations
severity: medium
trigger:
  pattern:
%sparams:
%s%scondition: "%s"
actions:
  - alert:
      to: [stdout]
      title: "{{.event.eventName}} by {{.params.actor}}"
`, m.name, strings.ReplaceAll(m.name, "-", " "), m.pattern, actorParam, m.params, m.condition))
	}
	return out[:min(n, len(out))]
}
