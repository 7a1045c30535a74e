package awsact_test

import (
	"context"
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/trailbook/trailbook/internal/action"
	"github.com/trailbook/trailbook/internal/action/awsact"
	"github.com/trailbook/trailbook/internal/awslocal"
)

const denyAll = `{"Version":"2012-10-17","Statement":[{"Sid":"TrailbookQuarantine","Effect":"Deny","Action":"*","Resource":"*"}]}`

// previousPolicy has characters that IAM's URL encoding must carry
// through: spaces, plus signs, slashes.
const previousPolicy = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::docs/a b+c"}]}`

const reason = "root login (no MFA), from 203.0.113.9"

var quarantineTags = map[string]string{
	"quarantine":        "true",
	"quarantined-by":    "trailbook",
	"quarantine-reason": "root login no MFA from 203.0.113.9",
}

// quarantineCase quarantines one resource, then releases it, and checks
// the requests and the state after each.
type quarantineCase struct {
	name string
	seed func(*awslocal.Server)
	q    action.Quarantine
	// state returns what the quarantine changes and the release restores.
	state func(*awslocal.Server) any
	// quarantined is state after the quarantine.
	quarantined any
	wantOps     []string
	wantUndo    string // JSON
	releaseOps  []string
	// region, when set, is the region of every request of the quarantine
	// and the release.
	region string
}

func instanceState(region, id string) func(*awslocal.Server) any {
	return func(s *awslocal.Server) any { in, _ := s.Instance(region, id); return in }
}

func roleState(name string) func(*awslocal.Server) any {
	return func(s *awslocal.Server) any { p, _ := s.Role(name); return p }
}

func userState(name string) func(*awslocal.Server) any {
	return func(s *awslocal.Server) any { p, _ := s.User(name); return p }
}

func bucketState(name string) func(*awslocal.Server) any {
	return func(s *awslocal.Server) any { b, _ := s.Bucket(name); return b }
}

func withTags(base, extra map[string]string) map[string]string {
	out := maps.Clone(base)
	if out == nil {
		out = map[string]string{}
	}
	maps.Copy(out, extra)
	return out
}

func TestQuarantineAndRelease(t *testing.T) {
	instanceARN := "arn:aws:ec2:eu-west-1:" + account + ":instance/i-0abc"
	breakGlass := []string{"arn:aws:iam::" + account + ":role/trailbook", "arn:aws:iam::" + account + ":role/breakglass", ""}
	quarantinePolicy := `{"Version":"2012-10-17","Statement":[{"Sid":"TrailbookQuarantine","Effect":"Deny","Principal":"*","Action":"s3:*",` +
		`"Resource":["arn:aws:s3:::logs","arn:aws:s3:::logs/*"],` +
		`"Condition":{"ArnNotLike":{"aws:PrincipalArn":["arn:aws:iam::` + account + `:role/breakglass","arn:aws:iam::` + account + `:role/trailbook"]}}}]}`
	bucketPolicy := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + account + `:root"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::logs/*"}]}`

	cases := []quarantineCase{{
		name: "ec2 instance, tagged",
		seed: func(s *awslocal.Server) {
			s.PutInstance(awslocal.Instance{Region: "eu-west-1", ID: "i-0abc", Groups: []string{"sg-web", "sg-ssh"}, Tags: map[string]string{"Name": "web"}})
		},
		q:     action.Quarantine{ARN: instanceARN, IsolationGroup: "sg-isolate", Tag: true},
		state: instanceState("eu-west-1", "i-0abc"),
		quarantined: awslocal.Instance{Region: "eu-west-1", ID: "i-0abc", Groups: []string{"sg-isolate"},
			Tags: withTags(map[string]string{"Name": "web"}, quarantineTags)},
		wantOps:    []string{"ec2:DescribeInstances", "ec2:ModifyInstanceAttribute", "ec2:CreateTags"},
		wantUndo:   `{"groups":["sg-web","sg-ssh"]}`,
		releaseOps: []string{"ec2:ModifyInstanceAttribute", "ec2:DeleteTags"},
	}, {
		name: "ec2 instance, untagged",
		seed: func(s *awslocal.Server) {
			s.PutInstance(awslocal.Instance{Region: "eu-west-1", ID: "i-0abc", Groups: []string{"sg-web"}})
		},
		q:           action.Quarantine{ARN: instanceARN, IsolationGroup: "sg-isolate"},
		state:       instanceState("eu-west-1", "i-0abc"),
		quarantined: awslocal.Instance{Region: "eu-west-1", ID: "i-0abc", Groups: []string{"sg-isolate"}},
		wantOps:     []string{"ec2:DescribeInstances", "ec2:ModifyInstanceAttribute"},
		wantUndo:    `{"groups":["sg-web"]}`,
		releaseOps:  []string{"ec2:ModifyInstanceAttribute"},
	}, {
		name: "iam role with a path, no previous policy, tagged",
		seed: func(s *awslocal.Server) {
			s.PutRole(awslocal.Principal{Name: "deploy", Policies: map[string]string{"other": previousPolicy}})
		},
		q:     action.Quarantine{ARN: "arn:aws:iam::" + account + ":role/service/deploy", Tag: true},
		state: roleState("deploy"),
		quarantined: awslocal.Principal{Name: "deploy", Tags: quarantineTags,
			Policies: map[string]string{"other": previousPolicy, "trailbook-quarantine": denyAll}},
		wantOps:    []string{"iam:GetRolePolicy", "iam:PutRolePolicy", "iam:TagRole"},
		wantUndo:   `{"policy_name":"trailbook-quarantine","previous":null}`,
		releaseOps: []string{"iam:DeleteRolePolicy", "iam:UntagRole"},
	}, {
		name: "iam user with a previous policy of that name",
		seed: func(s *awslocal.Server) {
			s.PutUser(awslocal.Principal{Name: "alice", Policies: map[string]string{"trailbook-quarantine": previousPolicy}})
		},
		q:           action.Quarantine{ARN: "arn:aws:iam::" + account + ":user/alice"},
		state:       userState("alice"),
		quarantined: awslocal.Principal{Name: "alice", Policies: map[string]string{"trailbook-quarantine": denyAll}},
		wantOps:     []string{"iam:GetUserPolicy", "iam:PutUserPolicy"},
		wantUndo:    `{"policy_name":"trailbook-quarantine","previous":` + previousPolicy + `}`,
		releaseOps:  []string{"iam:PutUserPolicy"},
	}, {
		name: "iam user without a previous policy",
		seed: func(s *awslocal.Server) {
			s.PutUser(awslocal.Principal{Name: "alice"})
		},
		q:           action.Quarantine{ARN: "arn:aws:iam::" + account + ":user/alice"},
		state:       userState("alice"),
		quarantined: awslocal.Principal{Name: "alice", Policies: map[string]string{"trailbook-quarantine": denyAll}},
		wantOps:     []string{"iam:GetUserPolicy", "iam:PutUserPolicy"},
		wantUndo:    `{"policy_name":"trailbook-quarantine","previous":null}`,
		releaseOps:  []string{"iam:DeleteUserPolicy"},
	}, {
		name:        "s3 bucket without a previous policy",
		seed:        func(s *awslocal.Server) { s.PutBucket(awslocal.Bucket{Name: "logs"}) },
		q:           action.Quarantine{ARN: "arn:aws:s3:::logs", BreakGlass: breakGlass},
		state:       bucketState("logs"),
		quarantined: awslocal.Bucket{Name: "logs", Policy: quarantinePolicy},
		wantOps:     []string{"s3:GetBucketPolicy", "s3:PutBucketPolicy"},
		wantUndo:    `{"policy":null}`,
		releaseOps:  []string{"s3:DeleteBucketPolicy"},
		region:      "us-east-1", // the configured one
	}, {
		name:  "s3 bucket with a previous policy, tagged, in the region of the event",
		seed:  func(s *awslocal.Server) { s.PutBucket(awslocal.Bucket{Name: "logs", Policy: bucketPolicy}) },
		q:     action.Quarantine{ARN: "arn:aws:s3:::logs", BreakGlass: breakGlass, Tag: true, Region: "eu-central-1"},
		state: bucketState("logs"),
		quarantined: awslocal.Bucket{Name: "logs", Policy: quarantinePolicy,
			Tags: quarantineTags},
		wantOps:    []string{"s3:GetBucketPolicy", "s3:PutBucketPolicy", "tagging:TagResources"},
		wantUndo:   `{"policy":` + bucketPolicy + `}`,
		releaseOps: []string{"s3:PutBucketPolicy", "tagging:UntagResources"},
		region:     "eu-central-1",
	}}

	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t)
			c.seed(e.srv)
			before := c.state(e.srv)

			a := action.Action{Key: "rb/ev/1", Kind: action.KindQuarantine, Enforce: true, Reason: reason, Quarantine: &c.q}
			out, err := e.exec.Execute(context.Background(), a)
			checkOutcome(t, out, err, a.Key, action.StatusApplied, nil)
			if got := ops(e.srv); !slices.Equal(got, c.wantOps) {
				t.Fatalf("quarantine requests %v, want %v", got, c.wantOps)
			}
			if string(out.Undo) != c.wantUndo {
				t.Errorf("undo %s, want %s", out.Undo, c.wantUndo)
			}
			if got := c.state(e.srv); !reflect.DeepEqual(got, c.quarantined) {
				t.Errorf("quarantined state\n%+v\nwant\n%+v", got, c.quarantined)
			}
			checkDetail(t, out.Detail, "called ", c.wantOps)
			checkRegion(t, e.srv, c.region)

			e.srv.ResetRequests()
			if err := e.exec.Release(context.Background(), c.q, out.Undo); err != nil {
				t.Fatal(err)
			}
			if got := ops(e.srv); !slices.Equal(got, c.releaseOps) {
				t.Fatalf("release requests %v, want %v", got, c.releaseOps)
			}
			checkRegion(t, e.srv, c.region)
			after := c.state(e.srv)
			if !reflect.DeepEqual(after, before) {
				t.Errorf("released state\n%+v\nwant the state before\n%+v", after, before)
			}
		})
	}
}

// checkRegion checks that every request srv got was made in region,
// unless region is empty.
func checkRegion(t *testing.T, srv *awslocal.Server, region string) {
	t.Helper()
	for _, r := range srv.Requests() {
		if region != "" && r.Region != region {
			t.Errorf("%s in region %q, want %q", r.Operation, r.Region, region)
		}
	}
}

// checkDetail checks that detail, after prefix, names the calls of ops
// in order ("s3:Op" for s3, "tag:Op" for the tagging service).
func checkDetail(t *testing.T, detail, prefix string, ops []string) {
	t.Helper()
	rest, ok := strings.CutPrefix(detail, prefix)
	if !ok {
		t.Fatalf("detail %q does not start with %q", detail, prefix)
	}
	var calls []string
	for _, part := range strings.Split(rest, "; then ") {
		api, _, _ := strings.Cut(part, " ")
		calls = append(calls, strings.Replace(api, "tag:", "tagging:", 1))
	}
	if !slices.Equal(calls, ops) {
		t.Errorf("detail %q names calls %v, want %v", detail, calls, ops)
	}
}

func TestQuarantineFailures(t *testing.T) {
	instanceARN := "arn:aws:ec2:eu-west-1:" + account + ":instance/i-0abc"
	cases := []struct {
		name    string
		seed    func(*awslocal.Server)
		q       action.Quarantine
		wantOps []string
		wantErr []string
		// wantUndo is the Undo of a quarantine that changed the resource
		// before it failed.
		wantUndo string
	}{{
		name:    "lambda function",
		q:       action.Quarantine{ARN: "arn:aws:lambda:us-east-1:" + account + ":function:f"},
		wantErr: []string{"cannot quarantine arn:aws:lambda:us-east-1:" + account + ":function:f"},
	}, {
		name:    "ec2 volume",
		q:       action.Quarantine{ARN: "arn:aws:ec2:us-east-1:" + account + ":volume/vol-1", IsolationGroup: "sg-1"},
		wantErr: []string{"cannot quarantine"},
	}, {
		name:    "s3 object",
		q:       action.Quarantine{ARN: "arn:aws:s3:::logs/key"},
		wantErr: []string{"cannot quarantine"},
	}, {
		name:    "instance without an isolation group",
		q:       action.Quarantine{ARN: instanceARN},
		wantErr: []string{"no isolation group"},
	}, {
		name:    "unknown instance",
		q:       action.Quarantine{ARN: instanceARN, IsolationGroup: "sg-1"},
		wantOps: []string{"ec2:DescribeInstances"},
		wantErr: []string{"ec2:DescribeInstances on instance i-0abc in eu-west-1", "InvalidInstanceID.NotFound"},
	}, {
		name:    "unknown role",
		q:       action.Quarantine{ARN: "arn:aws:iam::" + account + ":role/ghost"},
		wantOps: []string{"iam:GetRolePolicy", "iam:PutRolePolicy"},
		wantErr: []string{"iam:PutRolePolicy on role ghost", "NoSuchEntity"},
	}, {
		name:    "unknown bucket",
		q:       action.Quarantine{ARN: "arn:aws:s3:::ghost"},
		wantOps: []string{"s3:GetBucketPolicy"},
		wantErr: []string{"s3:GetBucketPolicy on bucket ghost", "NoSuchBucket"},
	}, {
		name: "tagging fails after the isolation",
		seed: func(s *awslocal.Server) {
			s.PutRole(awslocal.Principal{Name: "deploy"})
			s.FailOperation("iam", "TagRole", "LimitExceeded", "too many tags")
		},
		q:        action.Quarantine{ARN: "arn:aws:iam::" + account + ":role/deploy", Tag: true},
		wantOps:  []string{"iam:GetRolePolicy", "iam:PutRolePolicy", "iam:TagRole"},
		wantErr:  []string{"iam:TagRole on role deploy", "LimitExceeded"},
		wantUndo: `{"policy_name":"trailbook-quarantine","previous":null}`,
	}}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t)
			if c.seed != nil {
				c.seed(e.srv)
			}
			for _, enforce := range []bool{false, true} {
				e.srv.ResetRequests()
				a := action.Action{Key: "rb/ev/2", Kind: action.KindQuarantine, Enforce: enforce, Quarantine: &c.q}
				out, err := e.exec.Execute(context.Background(), a)
				if !enforce && len(c.wantOps) > 0 {
					// A plan AWS refuses is still a plan.
					checkOutcome(t, out, err, a.Key, action.StatusPlanned, nil)
				} else {
					checkOutcome(t, out, err, a.Key, action.StatusFailed, c.wantErr)
				}
				want := c.wantOps
				if !enforce {
					want = nil
				}
				if got := ops(e.srv); !slices.Equal(got, want) {
					t.Errorf("enforce %v: requests %v, want %v", enforce, got, want)
				}
				if enforce && string(out.Undo) != c.wantUndo {
					t.Errorf("undo %s, want %q", out.Undo, c.wantUndo)
				}
				if enforce && len(c.wantOps) > 1 {
					checkDetail(t, out.Detail, "called ", c.wantOps[:len(c.wantOps)-1])
				}
			}
		})
	}
}

func TestReleaseErrors(t *testing.T) {
	e := newEnv(t)
	for _, c := range []struct {
		q    action.Quarantine
		undo string
	}{
		{action.Quarantine{ARN: "arn:aws:ec2:eu-west-1:1:instance/i-1"}, ``},
		{action.Quarantine{ARN: "arn:aws:ec2:eu-west-1:1:instance/i-1"}, `{"groups":[]}`},
		{action.Quarantine{ARN: "arn:aws:ec2:eu-west-1:1:instance/i-1"}, `{"groups":`},
		{action.Quarantine{ARN: "arn:aws:iam::1:role/r"}, `{"previous":null}`},
		{action.Quarantine{ARN: "arn:aws:s3:::b"}, `{"policy":[1]}`},
		{action.Quarantine{ARN: "arn:aws:lambda:us-east-1:1:function:f"}, `{}`},
		{action.Quarantine{ARN: "bad"}, `{}`},
	} {
		if err := e.exec.Release(context.Background(), c.q, []byte(c.undo)); err == nil {
			t.Errorf("Release(%s, %s) succeeded", c.q.ARN, c.undo)
		}
	}
	if got := ops(e.srv); len(got) != 0 {
		t.Errorf("requests %v, want none", got)
	}
}

func TestPolicyName(t *testing.T) {
	e := newEnv(t)
	e.srv.PutRole(awslocal.Principal{Name: "deploy"})
	exec := awsact.New(e.cfg, awsact.Options{PolicyName: "isolate"})
	q := action.Quarantine{ARN: "arn:aws:iam::" + account + ":role/deploy"}
	out, err := exec.Execute(context.Background(), action.Action{Kind: action.KindQuarantine, Enforce: true, Quarantine: &q})
	if err != nil {
		t.Fatal(err)
	}
	if p, _ := e.srv.Role("deploy"); p.Policies["isolate"] != denyAll {
		t.Errorf("policies %v", p.Policies)
	}
	if want := `{"policy_name":"isolate","previous":null}`; string(out.Undo) != want {
		t.Errorf("undo %s, want %s", out.Undo, want)
	}
}
