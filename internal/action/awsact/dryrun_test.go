package awsact_test

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"reflect"
	"testing"

	"github.com/trailbook/trailbook/internal/action"
	"github.com/trailbook/trailbook/internal/awslocal"
)

var update = flag.Bool("update", false, "rewrite testdata/dryrun.golden")

// planCase is an action with the state it applies to.
type planCase struct {
	name string
	seed func(*awslocal.Server)
	a    action.Action
}

// planCases are actions that TestDryRun plans, then applies, and that
// TestDeterminism applies twice.
func planCases() []planCase {
	return []planCase{{
		name: "tag ec2 instance",
		seed: func(s *awslocal.Server) {
			s.PutInstance(awslocal.Instance{Region: "eu-west-1", ID: "i-0abc", Tags: map[string]string{"old": "x"}})
		},
		a: action.Action{Kind: action.KindTag, Tags: &action.TagChange{
			ARN: "arn:aws:ec2:eu-west-1:" + account + ":instance/i-0abc",
			Set: map[string]string{"team": "core", "env": "prod", "note": `say "hi"`}, Remove: []string{"old"},
		}},
	}, {
		name: "revert tags on iam role",
		seed: func(s *awslocal.Server) { s.PutRole(awslocal.Principal{Name: "deploy"}) },
		a: action.Action{Kind: action.KindRevertTags, Tags: &action.TagChange{
			ARN: "arn:aws:iam::" + account + ":role/service/deploy",
			Set: map[string]string{"owner": "platform"}, Remove: []string{"b", "a"},
		}},
	}, {
		name: "tag lambda function",
		a: action.Action{Kind: action.KindTag, Tags: &action.TagChange{
			ARN: "arn:aws:lambda:us-west-2:" + account + ":function:handler",
			Set: map[string]string{"b": "2", "a": "1", "c": "3"}, Remove: []string{"z", "y"},
		}},
	}, {
		name: "quarantine instance",
		seed: func(s *awslocal.Server) {
			s.PutInstance(awslocal.Instance{Region: "eu-west-1", ID: "i-0abc", Groups: []string{"sg-1", "sg-2"}})
		},
		a: action.Action{Kind: action.KindQuarantine, Reason: "crypto mining; see ticket #42", Quarantine: &action.Quarantine{
			ARN: "arn:aws:ec2:eu-west-1:" + account + ":instance/i-0abc", IsolationGroup: "sg-isolate", Tag: true,
		}},
	}, {
		name: "quarantine role",
		seed: func(s *awslocal.Server) { s.PutRole(awslocal.Principal{Name: "deploy"}) },
		a: action.Action{Kind: action.KindQuarantine, Reason: "access key leaked", Quarantine: &action.Quarantine{
			ARN: "arn:aws:iam::" + account + ":role/deploy", Tag: true,
		}},
	}, {
		name: "quarantine user",
		seed: func(s *awslocal.Server) { s.PutUser(awslocal.Principal{Name: "alice"}) },
		a: action.Action{Kind: action.KindQuarantine, Quarantine: &action.Quarantine{
			ARN: "arn:aws:iam::" + account + ":user/alice",
		}},
	}, {
		name: "quarantine bucket",
		seed: func(s *awslocal.Server) {
			s.PutBucket(awslocal.Bucket{Name: "logs", Policy: `{"Version":"2012-10-17","Statement":[]}`})
		},
		a: action.Action{Kind: action.KindQuarantine, Reason: "made public", Quarantine: &action.Quarantine{
			ARN: "arn:aws:s3:::logs", BreakGlass: []string{"arn:aws:iam::" + account + ":role/trailbook"}, Tag: true,
		}},
	}}
}

// TestDryRun checks that an action that is not enforced makes no request
// and that its Detail names, in order, the calls the enforced action
// makes. The Details are kept in testdata/dryrun.golden; -update rewrites
// it.
func TestDryRun(t *testing.T) {
	var golden bytes.Buffer
	for i, c := range planCases() {
		e := newEnv(t)
		if c.seed != nil {
			c.seed(e.srv)
		}
		a := c.a
		a.Key = fmt.Sprintf("rb/ev/%d", i)

		out, err := e.exec.Execute(context.Background(), a)
		checkOutcome(t, out, err, a.Key, action.StatusPlanned, nil)
		if n := len(e.srv.Requests()); n != 0 {
			t.Errorf("%s: dry run made %d requests: %v", c.name, n, ops(e.srv))
		}
		if out.Undo != nil {
			t.Errorf("%s: dry run has undo %s", c.name, out.Undo)
		}
		fmt.Fprintf(&golden, "# %s\n%s\n\n", c.name, out.Detail)

		a.Enforce = true
		applied, err := e.exec.Execute(context.Background(), a)
		checkOutcome(t, applied, err, a.Key, action.StatusApplied, nil)
		checkDetail(t, out.Detail, "dry run; would call ", ops(e.srv))
	}
	compareGolden(t, "testdata/dryrun.golden", golden.Bytes())
}

// TestDeterminism checks that an action makes the same requests, with
// the same parameters, each time.
func TestDeterminism(t *testing.T) {
	for _, c := range planCases() {
		var runs [2][]awslocal.Request
		for i := range runs {
			e := newEnv(t)
			if c.seed != nil {
				c.seed(e.srv)
			}
			a := c.a
			a.Enforce = true
			if _, err := e.exec.Execute(context.Background(), a); err != nil {
				t.Fatalf("%s: %v", c.name, err)
			}
			runs[i] = e.srv.Requests()
		}
		if !reflect.DeepEqual(runs[0], runs[1]) {
			t.Errorf("%s: requests differ:\n%+v\n%+v", c.name, runs[0], runs[1])
		}
	}
}

func compareGolden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs (go test -update rewrites it); got:\n%s", path, got)
	}
}
