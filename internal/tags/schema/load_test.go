package schema

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/trailbook/trailbook/internal/tags"
)

func TestLoadNothing(t *testing.T) {
	s, err := Load(nil)
	if err != nil {
		t.Fatal(err)
	}
	if !s.Empty() || s.EffectivePolicy() != nil || len(s.Warnings()) != 0 {
		t.Errorf("Load(nil) is not empty")
	}
	if vs := s.Check(Resource{ARN: "arn:aws:ec2:us-east-1:111111111111:instance/i-1"}); vs != nil {
		t.Errorf("an empty schema found %v", vs)
	}
	s, err = Load([]File{{Name: "none.yml", Data: []byte("version: 1\nrules: []\n")}})
	if err != nil || !s.Empty() {
		t.Errorf("rules: [] gave %v, %v", s, err)
	}
}

// TestAWSDocsPolicies: each policy of AWS's guide loads alone, unchanged,
// without a problem; the effective policies too, as plain values.
func TestAWSDocsPolicies(t *testing.T) {
	paths, err := filepath.Glob("testdata/aws/*.json")
	if err != nil || len(paths) < 10 {
		t.Fatalf("%d policies: %v", len(paths), err)
	}
	for _, path := range paths {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		s, err := Load([]File{{Name: path, Data: data}})
		if err != nil {
			t.Errorf("%v", err)
			continue
		}
		if s.EffectivePolicy() == nil || s.Empty() || len(s.Warnings()) > 0 {
			t.Errorf("%s: loaded as %d rules, warnings %v", path, len(s.Rules()), s.Warnings())
		}
	}
}

// TestFormatDetection: what decides between the two formats.
func TestFormatDetection(t *testing.T) {
	policy := `{"tags": {"env": {"tag_key": {"@@assign": "Env"}}}}`
	for _, c := range []struct {
		name, data string
		policy     bool   // loads as an AWS policy
		err        string // or fails with this
	}{
		{name: "p.json", data: policy, policy: true},
		{name: "p.JSON", data: policy, policy: true},
		{name: "policy", data: "\xef\xbb\xbf \n" + policy, policy: true},
		{name: "p.yml", data: policy, policy: true},
		{name: "s.json", data: `{"version": 1, "rules": [{"name": "r", "tagged": true}]}`},
		{name: "s.yml", data: `{version: 1, rules: [{name: r, tagged: true}]}`},
		{name: "s.json", data: `{version: 1, rules: []}`, err: `s.json:1:2: syntax: invalid character 'v' looking for a key`},
		{name: "s.yml", data: `{"tags": {"env": {]}`, err: `s.yml:1:19: syntax: invalid character ']' looking for a key`},
		{name: "s.yml", data: "{a: [1,\n", err: `s.yml:2:1: syntax: did not find expected node content`},
		{name: "s.json", data: `["tags"]`, err: `s.json:1:1: wrong-type: a schema must be a mapping, not a list`},
	} {
		s, err := Load([]File{{Name: c.name, Data: []byte(c.data)}})
		switch {
		case c.err != "":
			if err == nil || err.Error() != c.err {
				t.Errorf("%s %q: got error %v, want %s", c.name, c.data, err, c.err)
			}
		case err != nil:
			t.Errorf("%s %q: %v", c.name, c.data, err)
		case (s.EffectivePolicy() != nil) != c.policy:
			t.Errorf("%s %q: loaded as a policy: %v, want %v", c.name, c.data, !c.policy, c.policy)
		}
	}
}

func TestErrorList(t *testing.T) {
	var l ErrorList
	if l.Err() != nil {
		t.Error("an empty list is an error")
	}
	l = ErrorList{
		{File: "b.yml", Line: 1, Col: 1, Code: CodeSyntax, Msg: "x"},
		{File: "a.json", Line: 9, Col: 2, Code: CodeUnknownKey, Msg: "y"},
		{File: "a.json", Line: 9, Col: 1, Code: CodeUnknownKey, Msg: "z"},
	}
	l.Sort()
	want := "a.json:9:1: unknown-key: z\na.json:9:2: unknown-key: y\nb.yml:1:1: syntax: x"
	if err := l.Err(); err == nil || err.Error() != want {
		t.Errorf("got %v, want %s", err, want)
	}
	var target ErrorList
	if !errors.As(l.Err(), &target) || len(target) != 3 {
		t.Error("errors.As does not find the list")
	}
}

// TestCheckDefaults: the type, account and region come from the ARN when
// the Resource leaves them empty, and a Resource that sets them wins.
func TestCheckDefaults(t *testing.T) {
	s, err := Load([]File{{Name: "s.yml", Data: []byte(`version: 1
rules:
  - name: r
    resources: [ec2:instance]
    accounts: ["111111111111"]
    regions: [eu-west-1]
    tagged: true
`)}})
	if err != nil {
		t.Fatal(err)
	}
	arn := "arn:aws:ec2:eu-west-1:111111111111:instance/i-1"
	for _, c := range []struct {
		r    Resource
		want int
	}{
		{Resource{ARN: arn}, 1},
		{Resource{ARN: arn, Tags: []tags.Tag{{Key: "aws:autoscaling:groupName", Value: "g"}}}, 1},
		{Resource{ARN: arn, Tags: []tags.Tag{{Key: "Name", Value: ""}}}, 0},
		{Resource{ARN: arn, Type: "ec2:volume"}, 0},
		{Resource{ARN: arn, Account: "222222222222"}, 0},
		{Resource{ARN: arn, Region: "us-east-1"}, 0},
		{Resource{ARN: "i-1", Type: "ec2:instance", Account: "111111111111", Region: "eu-west-1"}, 1},
	} {
		if got := s.Check(c.r); len(got) != c.want {
			t.Errorf("%+v: %d violations %v, want %d", c.r, len(got), got, c.want)
		}
	}
	if ids := s.Rules(); len(ids) != 1 || ids[0] != "s.yml:3: r" {
		t.Errorf("Rules() = %q", ids)
	}
	if !strings.Contains(s.Check(Resource{ARN: arn})[0].String(), "untagged: the resource has no tags (s.yml:3: r)") {
		t.Errorf("Violation.String: %s", s.Check(Resource{ARN: arn})[0])
	}
}
