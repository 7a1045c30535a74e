package awsact_test

import (
	"context"
	"maps"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/trailbook/trailbook/internal/action"
	"github.com/trailbook/trailbook/internal/action/awsact"
	"github.com/trailbook/trailbook/internal/awslocal"
)

const account = "123456789012"

// env is an Executor pointed at a fresh awslocal Server.
type env struct {
	srv  *awslocal.Server
	cfg  aws.Config
	exec *awsact.Executor
}

// isolate hides the machine's AWS configuration from the SDK.
func isolate(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "config"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "credentials"))
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("AWS_PROFILE", "")
	t.Setenv("AWS_REGION", "")
	t.Setenv("AWS_ENDPOINT_URL", "")
}

// newEnv starts an awslocal Server and an Executor that uses it through
// LoadConfig and static credentials, isolated from the machine's AWS
// configuration. When the test ends it checks that every request carried
// the Trailbook user agent once.
func newEnv(t *testing.T) env {
	t.Helper()
	srv := awslocal.New()
	t.Cleanup(srv.Close)
	isolate(t)

	cfg, err := awsact.LoadConfig(context.Background(), "us-east-1", srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	cfg.Credentials = credentials.NewStaticCredentialsProvider("AKIDTRAILBOOKTEST", "secret", "")
	t.Cleanup(func() { checkUserAgents(t, srv) })
	return env{srv: srv, cfg: cfg, exec: awsact.New(cfg, awsact.Options{})}
}

func checkUserAgents(t *testing.T, srv *awslocal.Server) {
	t.Helper()
	token := awsact.UserAgentProduct + "/"
	for _, r := range srv.Requests() {
		if n := strings.Count(r.UserAgent, token); n != 1 {
			t.Errorf("%s:%s user agent %q has %s %d times, want once", r.Service, r.Operation, r.UserAgent, token, n)
		}
	}
}

// ops returns the requests srv received as service:Operation.
func ops(srv *awslocal.Server) []string { return srv.Operations() }

// requests returns the requests of one operation.
func requests(srv *awslocal.Server, service, op string) []awslocal.Request {
	var out []awslocal.Request
	for _, r := range srv.Requests() {
		if r.Service == service && r.Operation == op {
			out = append(out, r)
		}
	}
	return out
}

func TestTags(t *testing.T) {
	instance := "arn:aws:ec2:eu-west-1:" + account + ":instance/i-0abc"
	volume := "arn:aws:ec2:eu-west-1:" + account + ":volume/vol-0abc"
	role := "arn:aws:iam::" + account + ":role/service/deploy"
	user := "arn:aws:iam::" + account + ":user/alice"
	function := "arn:aws:lambda:us-west-2:" + account + ":function:handler"
	bucket := "arn:aws:s3:::logs"

	cases := []struct {
		name   string
		seed   func(*awslocal.Server)
		change action.TagChange
		// wantOps are the requests made, as service:Operation.
		wantOps []string
		// wantRegion is the region of every request.
		wantRegion string
		// wantParams are parameters every request of wantOps[i] carries.
		wantParams []map[string]string
		wantTags   map[string]string // of change.ARN afterwards
		wantStatus string
		wantErr    []string // substrings of the error
	}{{
		name: "ec2 instance set and remove",
		seed: func(s *awslocal.Server) {
			s.PutInstance(awslocal.Instance{Region: "eu-west-1", ID: "i-0abc", Groups: []string{"sg-1"},
				Tags: map[string]string{"keep": "y", "old": "x", "older": "z"}})
		},
		change:     action.TagChange{ARN: instance, Set: map[string]string{"team": "core", "env": "prod"}, Remove: []string{"older", "old", "old"}},
		wantOps:    []string{"ec2:CreateTags", "ec2:DeleteTags"},
		wantRegion: "eu-west-1",
		wantParams: []map[string]string{
			{"ResourceId.1": "i-0abc", "Tag.1.Key": "env", "Tag.1.Value": "prod", "Tag.2.Key": "team", "Tag.2.Value": "core"},
			{"ResourceId.1": "i-0abc", "Tag.1.Key": "old", "Tag.2.Key": "older"},
		},
		wantTags:   map[string]string{"keep": "y", "env": "prod", "team": "core"},
		wantStatus: action.StatusApplied,
	}, {
		name:       "ec2 volume set only",
		change:     action.TagChange{ARN: volume, Set: map[string]string{"owner": "ops"}},
		wantOps:    []string{"ec2:CreateTags"},
		wantRegion: "eu-west-1",
		wantParams: []map[string]string{{"ResourceId.1": "vol-0abc", "Tag.1.Key": "owner"}},
		wantTags:   map[string]string{"owner": "ops"},
		wantStatus: action.StatusApplied,
	}, {
		name:       "ec2 unknown instance",
		change:     action.TagChange{ARN: instance, Set: map[string]string{"env": "prod"}},
		wantOps:    []string{"ec2:CreateTags"},
		wantRegion: "eu-west-1",
		wantStatus: action.StatusFailed,
		wantErr:    []string{"ec2:CreateTags on instance i-0abc in eu-west-1", "InvalidInstanceID.NotFound"},
	}, {
		name: "iam role with a path",
		seed: func(s *awslocal.Server) {
			s.PutRole(awslocal.Principal{Name: "deploy", Tags: map[string]string{"owner": "bob", "cost": "1"}})
		},
		change:     action.TagChange{ARN: role, Set: map[string]string{"owner": "platform"}, Remove: []string{"cost"}},
		wantOps:    []string{"iam:TagRole", "iam:UntagRole"},
		wantRegion: "us-east-1",
		wantParams: []map[string]string{
			{"RoleName": "deploy", "Tags.member.1.Key": "owner", "Tags.member.1.Value": "platform"},
			{"RoleName": "deploy", "TagKeys.member.1": "cost"},
		},
		wantTags:   map[string]string{"owner": "platform"},
		wantStatus: action.StatusApplied,
	}, {
		name: "iam user remove only",
		seed: func(s *awslocal.Server) {
			s.PutUser(awslocal.Principal{Name: "alice", Tags: map[string]string{"temp": "1"}})
		},
		change:     action.TagChange{ARN: user, Remove: []string{"temp"}},
		wantOps:    []string{"iam:UntagUser"},
		wantRegion: "us-east-1",
		wantParams: []map[string]string{{"UserName": "alice", "TagKeys.member.1": "temp"}},
		wantTags:   map[string]string{},
		wantStatus: action.StatusApplied,
	}, {
		name:       "iam role missing",
		change:     action.TagChange{ARN: role, Set: map[string]string{"owner": "platform"}},
		wantOps:    []string{"iam:TagRole"},
		wantRegion: "us-east-1",
		wantStatus: action.StatusFailed,
		wantErr:    []string{"iam:TagRole on role deploy", "NoSuchEntity"},
	}, {
		name:       "lambda function through the tagging api",
		seed:       func(s *awslocal.Server) { s.PutResource(function, map[string]string{"stage": "dev"}) },
		change:     action.TagChange{ARN: function, Set: map[string]string{"stage": "prod", "team": "core"}, Remove: []string{"legacy"}},
		wantOps:    []string{"tagging:TagResources", "tagging:UntagResources"},
		wantRegion: "us-west-2",
		wantParams: []map[string]string{
			{"ResourceARNList.1": function, "Tags.stage": "prod", "Tags.team": "core"},
			{"ResourceARNList.1": function, "TagKeys.1": "legacy"},
		},
		wantTags:   map[string]string{"stage": "prod", "team": "core"},
		wantStatus: action.StatusApplied,
	}, {
		name:       "s3 bucket through the tagging api in the configured region",
		seed:       func(s *awslocal.Server) { s.PutBucket(awslocal.Bucket{Name: "logs"}) },
		change:     action.TagChange{ARN: bucket, Set: map[string]string{"data": "public"}},
		wantOps:    []string{"tagging:TagResources"},
		wantRegion: "us-east-1",
		wantParams: []map[string]string{{"ResourceARNList.1": bucket, "Tags.data": "public"}},
		wantTags:   map[string]string{"data": "public"},
		wantStatus: action.StatusApplied,
	}, {
		name:       "s3 bucket in the region of the event the action answers",
		seed:       func(s *awslocal.Server) { s.PutBucket(awslocal.Bucket{Name: "logs"}) },
		change:     action.TagChange{ARN: bucket, Set: map[string]string{"data": "public"}, Region: "ap-southeast-2"},
		wantOps:    []string{"tagging:TagResources"},
		wantRegion: "ap-southeast-2",
		wantParams: []map[string]string{{"ResourceARNList.1": bucket, "Tags.data": "public"}},
		wantTags:   map[string]string{"data": "public"},
		wantStatus: action.StatusApplied,
	}, {
		name:       "an arn's own region wins over the action's",
		seed:       func(s *awslocal.Server) { s.PutResource(function, nil) },
		change:     action.TagChange{ARN: function, Set: map[string]string{"stage": "prod"}, Region: "ap-southeast-2"},
		wantOps:    []string{"tagging:TagResources"},
		wantRegion: "us-west-2",
		wantTags:   map[string]string{"stage": "prod"},
		wantStatus: action.StatusApplied,
	}, {
		name:       "tagging api failure names the arn and the code",
		seed:       func(s *awslocal.Server) { s.FailUnknownARNs(true) },
		change:     action.TagChange{ARN: function, Set: map[string]string{"stage": "prod"}, Remove: []string{"x"}},
		wantOps:    []string{"tagging:TagResources"},
		wantRegion: "us-west-2",
		wantStatus: action.StatusFailed,
		wantErr:    []string{"tag:TagResources on " + function, function + ": InvalidParameterException"},
	}, {
		name:       "nothing to change",
		change:     action.TagChange{ARN: instance},
		wantStatus: action.StatusSkipped,
	}, {
		name:       "bad arn",
		change:     action.TagChange{ARN: "arn:aws:ec2:eu-west-1:1:instance"},
		wantStatus: action.StatusFailed,
		wantErr:    []string{"ec2 resource is not TYPE/ID"},
	}}

	for _, c := range cases {
		for _, kind := range []string{action.KindTag, action.KindRevertTags} {
			t.Run(c.name+"/"+kind, func(t *testing.T) {
				e := newEnv(t)
				if c.seed != nil {
					c.seed(e.srv)
				}
				change := c.change
				a := action.Action{Key: "rb/ev/0", Kind: kind, Enforce: true, Tags: &change}
				out, err := e.exec.Execute(context.Background(), a)
				checkOutcome(t, out, err, a.Key, c.wantStatus, c.wantErr)
				if got := ops(e.srv); !slices.Equal(got, c.wantOps) {
					t.Fatalf("requests %v, want %v", got, c.wantOps)
				}
				for i, r := range e.srv.Requests() {
					if r.Region != c.wantRegion {
						t.Errorf("%s in region %q, want %q", r.Operation, r.Region, c.wantRegion)
					}
					if i < len(c.wantParams) {
						for k, v := range c.wantParams[i] {
							if r.Params[k] != v {
								t.Errorf("%s %s = %q, want %q (params %v)", r.Operation, k, r.Params[k], v, r.Params)
							}
						}
					}
				}
				if c.wantTags != nil {
					if got := e.srv.Tags(c.change.ARN); !maps.Equal(got, c.wantTags) {
						t.Errorf("tags %v, want %v", got, c.wantTags)
					}
				}
			})
		}
	}
}

// checkOutcome checks the invariants of every Outcome and its status and
// error.
func checkOutcome(t *testing.T, out action.Outcome, err error, key, status string, wantErr []string) {
	t.Helper()
	if out.Key != key {
		t.Errorf("outcome key %q, want %q", out.Key, key)
	}
	if out.Status != status {
		t.Fatalf("status %q (detail %q, error %q), want %q", out.Status, out.Detail, out.Error, status)
	}
	if (err != nil) != (status == action.StatusFailed) {
		t.Fatalf("error %v with status %s", err, out.Status)
	}
	if err != nil && out.Error != err.Error() {
		t.Errorf("outcome error %q, want the error's %q", out.Error, err)
	}
	for _, w := range wantErr {
		if !strings.Contains(out.Error, w) {
			t.Errorf("error %q does not contain %q", out.Error, w)
		}
	}
	for _, secret := range []string{"AKIDTRAILBOOKTEST", "secret"} {
		if strings.Contains(out.Detail, secret) || strings.Contains(out.Error, secret) {
			t.Errorf("outcome %+v contains credentials", out)
		}
	}
}

func TestExecuteOtherKinds(t *testing.T) {
	e := newEnv(t)
	for _, a := range []action.Action{
		{Key: "k", Kind: action.KindAlert, Enforce: true, Alert: &action.Alert{Title: "x"}},
		{Key: "k", Kind: action.KindGate, Enforce: true},
		{Key: "k", Kind: "nonsense", Enforce: true},
		{Key: "k", Kind: action.KindTag, Enforce: true},
		{Key: "k", Kind: action.KindQuarantine},
	} {
		out, err := e.exec.Execute(context.Background(), a)
		if err == nil || out.Status != action.StatusFailed {
			t.Errorf("Execute(%s) = %+v, %v; want failed", a.Kind, out, err)
		}
	}
	if got := ops(e.srv); len(got) != 0 {
		t.Errorf("requests %v, want none", got)
	}
}

func TestPublish(t *testing.T) {
	e := newEnv(t)
	topic := "arn:aws:sns:eu-central-1:" + account + ":alerts"
	var publish func(ctx context.Context, topicARN, subject, message string) error = e.exec.Publish
	if err := publish(context.Background(), topic, "Root login\nin prod", "body\nwith lines"); err != nil {
		t.Fatal(err)
	}
	if err := publish(context.Background(), topic, "", "no subject"); err != nil {
		t.Fatal(err)
	}
	got := e.srv.Published()
	want := []awslocal.Message{
		{Region: "eu-central-1", TopicARN: topic, Subject: "Root login in prod", Message: "body\nwith lines"},
		{Region: "eu-central-1", TopicARN: topic, Message: "no subject"},
	}
	for i := range got {
		got[i].ID = ""
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("published %+v, want %+v", got, want)
	}
	if r := requests(e.srv, "sns", "Publish"); len(r) != 2 || r[1].Params["Subject"] != "" {
		t.Errorf("publish requests %+v", r)
	}

	for _, bad := range []struct{ topic, message string }{
		{"not-an-arn", "m"},
		{"arn:aws:sqs:eu-central-1:" + account + ":queue", "m"},
		{topic, ""},
	} {
		if err := publish(context.Background(), bad.topic, "s", bad.message); err == nil {
			t.Errorf("Publish(%q, %q) succeeded", bad.topic, bad.message)
		}
	}
	if n := len(e.srv.Requests()); n != 2 {
		t.Errorf("%d requests, want the 2 good publishes", n)
	}
}

// TestUserAgentWithoutLoadConfig checks that an Executor adds the
// Trailbook user agent to a config that LoadConfig did not make.
func TestUserAgentWithoutLoadConfig(t *testing.T) {
	srv := awslocal.New()
	defer srv.Close()
	cfg := aws.Config{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(srv.URL()),
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDTRAILBOOKTEST", "secret", ""),
	}
	exec := awsact.New(cfg, awsact.Options{})
	if err := exec.Publish(context.Background(), "arn:aws:sns:us-east-1:"+account+":t", "s", "m"); err != nil {
		t.Fatal(err)
	}
	if len(srv.Requests()) != 1 {
		t.Fatalf("requests %v", srv.Operations())
	}
	checkUserAgents(t, srv)
}

func TestLoadConfig(t *testing.T) {
	isolate(t)
	cfg, err := awsact.LoadConfig(context.Background(), "ap-south-1", "http://127.0.0.1:1")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Region != "ap-south-1" || aws.ToString(cfg.BaseEndpoint) != "http://127.0.0.1:1" {
		t.Errorf("region %q endpoint %q", cfg.Region, aws.ToString(cfg.BaseEndpoint))
	}
	cfg, err = awsact.LoadConfig(context.Background(), "", "")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.BaseEndpoint != nil {
		t.Errorf("endpoint %q without an override", *cfg.BaseEndpoint)
	}
}
