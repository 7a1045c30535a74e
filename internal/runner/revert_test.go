package runner_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/trailbook/trailbook/internal/action"
	"github.com/trailbook/trailbook/internal/action/awsact"
	"github.com/trailbook/trailbook/internal/audit"
	"github.com/trailbook/trailbook/internal/awslocal"
	"github.com/trailbook/trailbook/internal/cloudtrail"
	"github.com/trailbook/trailbook/internal/engine"
	"github.com/trailbook/trailbook/internal/runbook"
	"github.com/trailbook/trailbook/internal/runner"
	"github.com/trailbook/trailbook/internal/store"
)

// record is one CloudTrail record of a revert case, in us-east-1 of
// account 111122223333. By names the caller: "provisioner" (the role that
// provisions production, which prod-tag-change lets retag) or an IAM user.
// Req and Resp are the requestParameters and responseElements JSON.
type record struct {
	ID, At, Source, Name, By, Req, Resp string
}

func (r record) json() string {
	who := `{"type": "IAMUser", "arn": "arn:aws:iam::111122223333:user/` + r.By + `", "accountId": "111122223333", "userName": "` + r.By + `"}`
	if r.By == "provisioner" {
		who = `{"type": "AssumedRole", "arn": "arn:aws:sts::111122223333:assumed-role/provisioner/ci", "accountId": "111122223333",
			"sessionContext": {"sessionIssuer": {"type": "Role", "arn": "arn:aws:iam::111122223333:role/provisioner", "userName": "provisioner"}}}`
	}
	resp := r.Resp
	if resp == "" {
		resp = "null"
	}
	return fmt.Sprintf(`{"eventVersion": "1.09", "eventTime": %q, "eventSource": %q, "eventName": %q, "awsRegion": "us-east-1",
		"eventID": %q, "recipientAccountId": "111122223333", "userAgent": "aws-cli/2.15.0", "userIdentity": %s,
		"requestParameters": %s, "responseElements": %s}`, r.At, r.Source, r.Name, r.ID, who, r.Req, resp)
}

// request is what awslocal must have received: "service:Operation", the
// region it was signed for, and every parameter it carried.
type request struct {
	Op, Region string
	Params     map[string]string
}

// revertCase is one revert through the whole chain: history is stored
// with event, event is evaluated by runbook (YAML; the shipped
// prod-tag-change in enforce mode when empty), and the plan is carried out
// by the runner with the awsact executor against awslocal, whose
// resources start with the tags event left them (before, by ARN; nil for
// none).
type revertCase struct {
	name    string
	runbook string
	history []record
	event   record
	before  map[string]map[string]string
	// want are the requests awslocal must receive, in order; reasons the
	// revert actions' reasons, in order; after the resources' tags once
	// they are carried out.
	want    []request
	reasons []string
	after   map[string]map[string]string
}

const (
	alice       = "arn:aws:iam::111122223333:user/alice"
	bucketARN   = "arn:aws:s3:::payments-prod"
	instanceARN = "arn:aws:ec2:us-east-1:111122223333:instance/i-0abc123"
	lambdaARN   = "arn:aws:lambda:us-east-1:111122223333:function:payments"
	roleARN     = "arn:aws:iam::111122223333:role/deploy"
)

// roleCreatedOutsideThePipeline reverts the tags a role was created with
// when it is created tagged Environment=Production by anyone but the
// provisioning role: a create-time tagging event as the trigger itself.
const roleCreatedOutsideThePipeline = `name: prod-role-created-by-hand
description: A role was created tagged Environment=Production outside the provisioning pipeline
owner: platform-security
severity: high
mode: enforce
trigger:
  pattern:
    eventSource: [iam.amazonaws.com]
    eventName: [CreateRole]
    errorCode: [{exists: false}]
condition: >-
  has(event.requestParameters.tags) &&
  event.requestParameters.tags.exists(t, t.key == 'Environment' && t.value == 'Production') &&
  !(has(event.userIdentity.sessionContext) && has(event.userIdentity.sessionContext.sessionIssuer) &&
    event.userIdentity.sessionContext.sessionIssuer.userName == 'provisioner')
actions:
  - revert-tags: {}
tests:
  - name: alice creates a production role
    event: {"eventVersion": "1.09", "eventTime": "2024-05-01T12:00:00Z", "eventSource": "iam.amazonaws.com", "eventName": "CreateRole", "awsRegion": "us-east-1", "eventID": "t-1", "recipientAccountId": "111122223333", "userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::111122223333:user/alice", "accountId": "111122223333"}, "requestParameters": {"roleName": "deploy", "tags": [{"key": "Environment", "value": "Production"}]}}
    expect:
      decision: act
      actions: [revert-tags]
`

var revertCases = []revertCase{
	{
		name: "S3 PutBucketTagging replacing the whole set gets the prior set back",
		history: []record{{ID: "s3-1", At: "2024-05-01T10:00:00Z", Source: "s3.amazonaws.com", Name: "PutBucketTagging", By: "provisioner",
			Req: `{"bucketName": "payments-prod", "tagging": "", "Tagging": {"xmlns": "http://s3.amazonaws.com/doc/2006-03-01/",
				"TagSet": {"Tag": [{"Key": "Environment", "Value": "Production"}, {"Key": "Owner", "Value": "a"}]}}}`}},
		// One tag: CloudTrail writes Tag as an object, not a list.
		event: record{ID: "s3-2", At: "2024-05-01T12:00:00Z", Source: "s3.amazonaws.com", Name: "PutBucketTagging", By: "alice",
			Req: `{"bucketName": "payments-prod", "tagging": "", "Tagging": {"TagSet": {"Tag": {"Key": "Owner", "Value": "b"}}}}`},
		before: map[string]map[string]string{bucketARN: {"Owner": "b"}},
		want: []request{{Op: "tagging:TagResources", Region: "us-east-1", Params: map[string]string{
			"ResourceARNList.1": bucketARN, "Tags.Environment": "Production", "Tags.Owner": "a"}}},
		reasons: []string{"undo PutBucketTagging by " + alice + " on " + bucketARN},
		after:   map[string]map[string]string{bucketARN: {"Environment": "Production", "Owner": "a"}},
	},
	{
		name: "S3 PutBucketTagging replacing the set with a new key: the new key goes too",
		history: []record{{ID: "s3-1", At: "2024-05-01T10:00:00Z", Source: "s3.amazonaws.com", Name: "PutBucketTagging", By: "provisioner",
			Req: `{"bucketName": "payments-prod", "tagging": "", "Tagging": {"TagSet": {"Tag": [{"Key": "Environment", "Value": "Production"}, {"Key": "Owner", "Value": "a"}]}}}`}},
		event: record{ID: "s3-2", At: "2024-05-01T12:00:00Z", Source: "s3.amazonaws.com", Name: "PutBucketTagging", By: "alice",
			Req: `{"bucketName": "payments-prod", "tagging": "", "Tagging": {"TagSet": {"Tag": [{"Key": "Owner", "Value": "b"}, {"Key": "CostCenter", "Value": "x"}]}}}`},
		before: map[string]map[string]string{bucketARN: {"Owner": "b", "CostCenter": "x"}},
		want: []request{
			{Op: "tagging:TagResources", Region: "us-east-1", Params: map[string]string{
				"ResourceARNList.1": bucketARN, "Tags.Environment": "Production", "Tags.Owner": "a"}},
			{Op: "tagging:UntagResources", Region: "us-east-1", Params: map[string]string{
				"ResourceARNList.1": bucketARN, "TagKeys.1": "CostCenter"}},
		},
		reasons: []string{"undo PutBucketTagging by " + alice + " on " + bucketARN},
		after:   map[string]map[string]string{bucketARN: {"Environment": "Production", "Owner": "a"}},
	},
	{
		name: "S3 DeleteBucketTagging of a production bucket puts the whole set back",
		history: []record{{ID: "s3-1", At: "2024-05-01T10:00:00Z", Source: "s3.amazonaws.com", Name: "PutBucketTagging", By: "provisioner",
			Req: `{"bucketName": "payments-prod", "tagging": "", "Tagging": {"TagSet": {"Tag": [{"Key": "Environment", "Value": "Production"}, {"Key": "Owner", "Value": "a"}]}}}`}},
		event: record{ID: "s3-3", At: "2024-05-01T12:00:00Z", Source: "s3.amazonaws.com", Name: "DeleteBucketTagging", By: "alice",
			Req: `{"bucketName": "payments-prod", "tagging": ""}`},
		before: map[string]map[string]string{bucketARN: nil},
		want: []request{{Op: "tagging:TagResources", Region: "us-east-1", Params: map[string]string{
			"ResourceARNList.1": bucketARN, "Tags.Environment": "Production", "Tags.Owner": "a"}}},
		reasons: []string{"undo DeleteBucketTagging by " + alice + " on " + bucketARN},
		after:   map[string]map[string]string{bucketARN: {"Environment": "Production", "Owner": "a"}},
	},
	{
		name: "EC2 CreateTags over a RunInstances tag: the create-time value comes back",
		history: []record{{ID: "run-1", At: "2024-05-01T10:00:00Z", Source: "ec2.amazonaws.com", Name: "RunInstances", By: "provisioner",
			Req: `{"instancesSet": {"items": [{"imageId": "ami-0abc1234", "minCount": 1, "maxCount": 1}]}, "instanceType": "t3.micro",
				"tagSpecificationSet": {"items": [{"resourceType": "instance", "tags": [{"key": "Environment", "value": "Production"}, {"key": "Owner", "value": "payments"}]}]}}`,
			Resp: `{"reservationId": "r-0abc", "ownerId": "111122223333", "instancesSet": {"items": [{"instanceId": "i-0abc123", "imageId": "ami-0abc1234",
				"tagSet": {"items": [{"key": "Environment", "value": "Production"}, {"key": "Owner", "value": "payments"}]}}]}}`}},
		event: record{ID: "ct-1", At: "2024-05-01T12:00:00Z", Source: "ec2.amazonaws.com", Name: "CreateTags", By: "mallory",
			Req: `{"resourcesSet": {"items": [{"resourceId": "i-0abc123"}]}, "tagSet": {"items": [{"key": "Environment", "value": "Development"}]}}`},
		before: map[string]map[string]string{instanceARN: {"Environment": "Development", "Owner": "payments"}},
		want: []request{{Op: "ec2:CreateTags", Region: "us-east-1", Params: map[string]string{
			"Action": "CreateTags", "Version": "2016-11-15", "ResourceId.1": "i-0abc123", "Tag.1.Key": "Environment", "Tag.1.Value": "Production"}}},
		reasons: []string{"undo CreateTags by arn:aws:iam::111122223333:user/mallory on " + instanceARN},
		after:   map[string]map[string]string{instanceARN: {"Environment": "Production", "Owner": "payments"}},
	},
	{
		name: "EC2 DeleteTags naming no keys empties the set: CreateTags puts all of it back",
		history: []record{{ID: "ct-0", At: "2024-05-01T10:00:00Z", Source: "ec2.amazonaws.com", Name: "CreateTags", By: "provisioner",
			Req: `{"resourcesSet": {"items": [{"resourceId": "i-0abc123"}]}, "tagSet": {"items": [{"key": "Environment", "value": "Production"}, {"key": "Owner", "value": "payments"}]}}`}},
		event: record{ID: "dt-1", At: "2024-05-01T12:00:00Z", Source: "ec2.amazonaws.com", Name: "DeleteTags", By: "alice",
			Req: `{"resourcesSet": {"items": [{"resourceId": "i-0abc123"}]}}`},
		before: map[string]map[string]string{instanceARN: nil},
		want: []request{{Op: "ec2:CreateTags", Region: "us-east-1", Params: map[string]string{
			"Action": "CreateTags", "Version": "2016-11-15", "ResourceId.1": "i-0abc123",
			"Tag.1.Key": "Environment", "Tag.1.Value": "Production", "Tag.2.Key": "Owner", "Tag.2.Value": "payments"}}},
		reasons: []string{"undo DeleteTags by " + alice + " on " + instanceARN},
		after:   map[string]map[string]string{instanceARN: {"Environment": "Production", "Owner": "payments"}},
	},
	{
		// docs/runbooks.md: revert-tags is computed from the tags just
		// before the event, and keys the event set are removed. Before a
		// create there were none: every key it set is removed.
		name:    "CreateRole with tags as the trigger: revert removes every tag the create set",
		runbook: roleCreatedOutsideThePipeline,
		event: record{ID: "cr-1", At: "2024-05-01T12:00:00Z", Source: "iam.amazonaws.com", Name: "CreateRole", By: "alice",
			Req:  `{"roleName": "deploy", "assumeRolePolicyDocument": "{}", "tags": [{"key": "Environment", "value": "Production"}, {"key": "Owner", "value": "alice"}]}`,
			Resp: `{"role": {"path": "/", "roleName": "deploy", "roleId": "AROAEXAMPLE", "arn": "arn:aws:iam::111122223333:role/deploy"}}`},
		before: map[string]map[string]string{roleARN: {"Environment": "Production", "Owner": "alice"}},
		want: []request{{Op: "iam:UntagRole", Region: "us-east-1", Params: map[string]string{
			"Action": "UntagRole", "Version": "2010-05-08", "RoleName": "deploy", "TagKeys.member.1": "Environment", "TagKeys.member.2": "Owner"}}},
		reasons: []string{"undo CreateRole by " + alice + " on " + roleARN + " (it created the resource: the keys it set are removed)"},
		after:   map[string]map[string]string{roleARN: {}},
	},
	{
		// An earlier role of the same name, deleted without the deletion
		// being stored, carried Team=old: the new role never had it, so the
		// revert must not put it on.
		name:    "CreateRole reusing an earlier role's name: nothing from the earlier role comes back",
		runbook: roleCreatedOutsideThePipeline,
		history: []record{{ID: "cr-0", At: "2024-04-01T12:00:00Z", Source: "iam.amazonaws.com", Name: "CreateRole", By: "provisioner",
			Req: `{"roleName": "deploy", "assumeRolePolicyDocument": "{}", "tags": [{"key": "Team", "value": "old"}]}`}},
		event: record{ID: "cr-1", At: "2024-05-01T12:00:00Z", Source: "iam.amazonaws.com", Name: "CreateRole", By: "alice",
			Req: `{"roleName": "deploy", "assumeRolePolicyDocument": "{}", "tags": [{"key": "Environment", "value": "Production"}]}`},
		before: map[string]map[string]string{roleARN: {"Environment": "Production"}},
		want: []request{{Op: "iam:UntagRole", Region: "us-east-1", Params: map[string]string{
			"Action": "UntagRole", "Version": "2010-05-08", "RoleName": "deploy", "TagKeys.member.1": "Environment"}}},
		reasons: []string{"undo CreateRole by " + alice + " on " + roleARN + " (it created the resource: the keys it set are removed)"},
		after:   map[string]map[string]string{roleARN: {}},
	},
	{
		// prod-tag-change reverts only the resources its query found
		// production: the development function keeps alice's change.
		name: "Tagging API TagResources over a production instance and a development function: only the instance goes back",
		history: []record{
			{ID: "tr-p", At: "2024-05-01T10:00:00Z", Source: "tagging.amazonaws.com", Name: "TagResources", By: "provisioner",
				Req:  `{"resourceARNList": ["` + instanceARN + `"], "tags": {"Environment": "Production"}}`,
				Resp: `{"failedResourcesMap": {}}`},
			{ID: "tr-d", At: "2024-05-01T10:00:00Z", Source: "tagging.amazonaws.com", Name: "TagResources", By: "provisioner",
				Req:  `{"resourceARNList": ["` + lambdaARN + `"], "tags": {"Environment": "Development"}}`,
				Resp: `{"failedResourcesMap": {}}`},
		},
		event: record{ID: "tr-x", At: "2024-05-01T12:00:00Z", Source: "tagging.amazonaws.com", Name: "TagResources", By: "alice",
			Req:  `{"resourceARNList": ["` + instanceARN + `", "` + lambdaARN + `"], "tags": {"Environment": "Staging"}}`,
			Resp: `{"failedResourcesMap": {}}`},
		before: map[string]map[string]string{
			instanceARN: {"Environment": "Staging"},
			lambdaARN:   {"Environment": "Staging"},
		},
		want: []request{{Op: "ec2:CreateTags", Region: "us-east-1", Params: map[string]string{
			"Action": "CreateTags", "Version": "2016-11-15", "ResourceId.1": "i-0abc123", "Tag.1.Key": "Environment", "Tag.1.Value": "Production"}}},
		reasons: []string{"undo TagResources by " + alice + " on " + instanceARN},
		after: map[string]map[string]string{
			instanceARN: {"Environment": "Production"},
			lambdaARN:   {"Environment": "Staging"},
		},
	},
	{
		name: "CreateRole with tags does not trigger the shipped prod-tag-change",
		event: record{ID: "cr-1", At: "2024-05-01T12:00:00Z", Source: "iam.amazonaws.com", Name: "CreateRole", By: "alice",
			Req: `{"roleName": "deploy", "assumeRolePolicyDocument": "{}", "tags": [{"key": "Environment", "value": "Production"}]}`},
		before: map[string]map[string]string{roleARN: {"Environment": "Production"}},
		after:  map[string]map[string]string{roleARN: {"Environment": "Production"}},
	},
	{
		name: "Tagging API TagResources over an EC2 and a Lambda ARN: each goes back through its own API",
		history: []record{{ID: "tr-1", At: "2024-05-01T10:00:00Z", Source: "tagging.amazonaws.com", Name: "TagResources", By: "provisioner",
			Req:  `{"resourceARNList": ["` + instanceARN + `", "` + lambdaARN + `"], "tags": {"Environment": "Production", "Owner": "payments"}}`,
			Resp: `{"failedResourcesMap": {}}`}},
		event: record{ID: "tr-2", At: "2024-05-01T12:00:00Z", Source: "tagging.amazonaws.com", Name: "TagResources", By: "alice",
			Req:  `{"resourceARNList": ["` + instanceARN + `", "` + lambdaARN + `"], "tags": {"Environment": "Staging"}}`,
			Resp: `{"failedResourcesMap": {}}`},
		before: map[string]map[string]string{
			instanceARN: {"Environment": "Staging", "Owner": "payments"},
			lambdaARN:   {"Environment": "Staging", "Owner": "payments"},
		},
		want: []request{
			{Op: "ec2:CreateTags", Region: "us-east-1", Params: map[string]string{
				"Action": "CreateTags", "Version": "2016-11-15", "ResourceId.1": "i-0abc123", "Tag.1.Key": "Environment", "Tag.1.Value": "Production"}},
			{Op: "tagging:TagResources", Region: "us-east-1", Params: map[string]string{
				"ResourceARNList.1": lambdaARN, "Tags.Environment": "Production"}},
		},
		reasons: []string{
			"undo TagResources by " + alice + " on " + instanceARN,
			"undo TagResources by " + alice + " on " + lambdaARN,
		},
		after: map[string]map[string]string{
			instanceARN: {"Environment": "Production", "Owner": "payments"},
			lambdaARN:   {"Environment": "Production", "Owner": "payments"},
		},
	},
	{
		name: "Tagging API TagResources over an instance and a function tagged when their own services created them",
		history: []record{
			{ID: "run-1", At: "2024-05-01T09:00:00Z", Source: "ec2.amazonaws.com", Name: "RunInstances", By: "provisioner",
				Req: `{"instancesSet": {"items": [{"imageId": "ami-0abc1234", "minCount": 1, "maxCount": 1}]},
					"tagSpecificationSet": {"items": [{"resourceType": "instance", "tags": [{"key": "Environment", "value": "Production"}]}]}}`,
				Resp: `{"instancesSet": {"items": [{"instanceId": "i-0abc123"}]}}`},
			{ID: "fn-1", At: "2024-05-01T09:30:00Z", Source: "lambda.amazonaws.com", Name: "CreateFunction20150331", By: "provisioner",
				Req:  `{"functionName": "payments", "runtime": "go1.x", "tags": {"Environment": "Production", "Owner": "payments"}}`,
				Resp: `{"functionName": "payments", "functionArn": "` + lambdaARN + `"}`},
		},
		event: record{ID: "tr-3", At: "2024-05-01T12:00:00Z", Source: "tagging.amazonaws.com", Name: "UntagResources", By: "alice",
			Req:  `{"resourceARNList": ["` + lambdaARN + `", "` + instanceARN + `"], "tagKeys": ["Environment"]}`,
			Resp: `{"failedResourcesMap": {}}`},
		before: map[string]map[string]string{instanceARN: nil, lambdaARN: {"Owner": "payments"}},
		want: []request{
			{Op: "tagging:TagResources", Region: "us-east-1", Params: map[string]string{
				"ResourceARNList.1": lambdaARN, "Tags.Environment": "Production"}},
			{Op: "ec2:CreateTags", Region: "us-east-1", Params: map[string]string{
				"Action": "CreateTags", "Version": "2016-11-15", "ResourceId.1": "i-0abc123", "Tag.1.Key": "Environment", "Tag.1.Value": "Production"}},
		},
		reasons: []string{
			"undo UntagResources by " + alice + " on " + lambdaARN,
			"undo UntagResources by " + alice + " on " + instanceARN,
		},
		after: map[string]map[string]string{
			instanceARN: {"Environment": "Production"},
			lambdaARN:   {"Environment": "Production", "Owner": "payments"},
		},
	},
	{
		name: "IAM UntagRole on a production role: TagRole puts the key back",
		history: []record{{ID: "cr-0", At: "2024-05-01T10:00:00Z", Source: "iam.amazonaws.com", Name: "CreateRole", By: "provisioner",
			Req: `{"roleName": "deploy", "assumeRolePolicyDocument": "{}", "tags": [{"key": "Environment", "value": "Production"}, {"key": "Owner", "value": "payments"}]}`}},
		event: record{ID: "ut-1", At: "2024-05-01T12:00:00Z", Source: "iam.amazonaws.com", Name: "UntagRole", By: "alice",
			Req: `{"roleName": "deploy", "tagKeys": ["Environment"]}`},
		before: map[string]map[string]string{roleARN: {"Owner": "payments"}},
		want: []request{{Op: "iam:TagRole", Region: "us-east-1", Params: map[string]string{
			"Action": "TagRole", "Version": "2010-05-08", "RoleName": "deploy", "Tags.member.1.Key": "Environment", "Tags.member.1.Value": "Production"}}},
		reasons: []string{"undo UntagRole by " + alice + " on " + roleARN},
		after:   map[string]map[string]string{roleARN: {"Environment": "Production", "Owner": "payments"}},
	},
}

// TestRevertTags runs each revert case through the store, the engine, the
// runner and the awsact executor, with the real AWS SDK against awslocal:
// the requests awslocal receives and the tags they leave must be exactly
// those of the case, and applying the plan again must send nothing.
func TestRevertTags(t *testing.T) {
	shipped, err := os.ReadFile(filepath.Join("..", "..", "runbooks", "prod-tag-change.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	enforced := strings.Replace(string(shipped), "\nmode: dry-run\n", "\nmode: enforce\n", 1)
	if enforced == string(shipped) {
		t.Fatal("runbooks/prod-tag-change.yaml: no mode: dry-run line to turn into enforce")
	}
	for _, tc := range revertCases {
		t.Run(tc.name, func(t *testing.T) {
			rb := tc.runbook
			if rb == "" {
				rb = enforced
			}
			testRevert(t, tc, rb)
		})
	}
}

func testRevert(t *testing.T, tc revertCase, rb string) {
	ctx := context.Background()
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	set, err := runbook.Load(ctx, []runbook.File{{Name: "runbook.yaml", Data: []byte(rb)}}, runbook.Options{Conn: db})
	if err != nil {
		t.Fatal(err)
	}

	var lines bytes.Buffer
	records := append(slices.Clone(tc.history), tc.event)
	for _, r := range records {
		if err := json.Compact(&lines, []byte(r.json())); err != nil {
			t.Fatalf("record %s: %v", r.ID, err)
		}
		lines.WriteByte('\n')
	}
	res := cloudtrail.Decode(lines.Bytes(), cloudtrail.Options{})
	if len(res.Rejects) > 0 || len(res.Events) != len(records) {
		t.Fatalf("decoded %d events of %d records; rejects %+v", len(res.Events), len(records), res.Rejects)
	}
	evs := res.Events
	st, conn := storeWith(ctx, t, evs)

	aws := awslocal.New()
	defer aws.Close()
	aws.FailUnknownARNs(true)
	for _, arn := range slices.Sorted(maps.Keys(tc.before)) {
		aws.PutResource(arn, tc.before[arn])
	}
	cfg, err := awsact.LoadConfig(ctx, "us-east-1", aws.URL())
	if err != nil {
		t.Fatal(err)
	}
	cfg.Credentials = credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", "")
	log, err := audit.Open(filepath.Join(t.TempDir(), "audit.jsonl"), audit.Options{Mirror: st})
	if err != nil {
		t.Fatal(err)
	}
	defer log.Close()
	now := func() time.Time { return time.Date(2024, 5, 1, 12, 0, 5, 0, time.UTC) }
	run := &runner.Runner{Store: st, Audit: log, Now: now, Executors: map[string]action.Executor{
		action.KindRevertTags: awsact.New(cfg, awsact.Options{}),
		action.KindAlert: action.Func(func(context.Context, action.Action) (action.Outcome, error) {
			return action.Outcome{Status: action.StatusApplied}, nil
		}),
	}}
	eng, err := engine.New(set, engine.Options{Enforce: true})
	if err != nil {
		t.Fatal(err)
	}
	ev := &evs[len(evs)-1]
	plan, err := eng.Evaluate(ctx, ev, store.EventKey(ev), engine.StoreSnapshot{Conn: conn}, now())
	if err != nil {
		t.Fatal(err)
	}
	var reasons []string
	for _, r := range plan.Runs {
		if r.Decision == engine.Failed {
			t.Fatalf("%s: %s", r.Runbook, r.Reason)
		}
		for _, a := range r.Actions {
			if a.Kind == action.KindRevertTags {
				reasons = append(reasons, a.Reason)
			}
		}
	}
	if !slices.Equal(reasons, tc.reasons) {
		t.Errorf("revert reasons:\n got %q\nwant %q", reasons, tc.reasons)
	}

	for attempt := range 2 {
		outs, err := run.Apply(ctx, plan)
		if err != nil {
			t.Fatal(err)
		}
		want := action.StatusApplied
		if attempt == 1 {
			want = action.StatusSkipped
		}
		for _, o := range outs {
			if o.Status != want {
				t.Errorf("attempt %d: %s: %s %s (%s), want %s", attempt, o.Key, o.Status, o.Detail, o.Error, want)
			}
		}
	}

	var got []request
	for _, r := range aws.Requests() {
		if r.Error != "" {
			t.Errorf("%s:%s failed with %s", r.Service, r.Operation, r.Error)
		}
		if !strings.Contains(r.UserAgent, awsact.UserAgentProduct+"/") {
			t.Errorf("%s:%s: user agent %q lacks %s/: loop protection would not see it", r.Service, r.Operation, r.UserAgent, awsact.UserAgentProduct)
		}
		got = append(got, request{Op: r.Service + ":" + r.Operation, Region: r.Region, Params: r.Params})
	}
	if !slices.EqualFunc(got, tc.want, func(a, b request) bool {
		return a.Op == b.Op && a.Region == b.Region && maps.Equal(a.Params, b.Params)
	}) {
		t.Errorf("AWS received:\n%s\nwant:\n%s", describeRequests(got), describeRequests(tc.want))
	}
	for _, arn := range slices.Sorted(maps.Keys(tc.after)) {
		if tags := aws.Tags(arn); !maps.Equal(tags, tc.after[arn]) || tags == nil {
			t.Errorf("tags of %s after the revert: %v, want %v", arn, tags, tc.after[arn])
		}
	}
}

func describeRequests(rs []request) string {
	var b strings.Builder
	for _, r := range rs {
		fmt.Fprintf(&b, "  %s in %s:", r.Op, r.Region)
		for _, k := range slices.Sorted(maps.Keys(r.Params)) {
			fmt.Fprintf(&b, " %s=%q", k, r.Params[k])
		}
		b.WriteByte('\n')
	}
	if len(rs) == 0 {
		b.WriteString("  nothing\n")
	}
	return b.String()
}
