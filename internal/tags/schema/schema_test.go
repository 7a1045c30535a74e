package schema

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/tools/txtar"

	"github.com/trailbook/trailbook/internal/tags"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata: the .err files and the sections of testdata/check/*.txtar that Load and Check produce")

// badFixtures are the files that must not load: testdata/*.bad.yml and
// testdata/*.bad.json.
func badFixtures(t testing.TB) []string {
	t.Helper()
	var paths []string
	for _, pat := range []string{"testdata/*.bad.yml", "testdata/*.bad.json"} {
		m, err := filepath.Glob(pat)
		if err != nil {
			t.Fatal(err)
		}
		paths = append(paths, m...)
	}
	if len(paths) == 0 {
		t.Fatal("no bad fixtures")
	}
	slices.Sort(paths)
	return paths
}

// TestBad loads each bad fixture alone and compares every error with its
// golden file, <fixture>.err.
func TestBad(t *testing.T) {
	for _, path := range badFixtures(t) {
		name := filepath.Base(path)
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			s, err := Load([]File{{Name: name, Data: data}})
			if err == nil {
				t.Fatalf("loaded, with %d rules; want errors", len(s.Rules()))
			}
			if s != nil {
				t.Errorf("a Schema came back with the errors")
			}
			var list ErrorList
			if !errors.As(err, &list) {
				t.Fatalf("error %T is not an ErrorList", err)
			}
			for _, e := range list {
				if e.Line < 1 || e.Col < 1 || e.Code == "" || e.File != name {
					t.Errorf("error without a full position or code: %#v", e)
				}
				if msg := e.Msg; msg == "" || strings.ToLower(msg[:1]) != msg[:1] || strings.HasSuffix(msg, ".") {
					t.Errorf("message %q is not lowercase without a final period", msg)
				}
			}
			golden(t, path+".err", err.Error()+"\n")
		})
	}
}

// golden compares got with the file at path, or rewrites it under -update.
func golden(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to write it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs:\n--- got\n%s--- want\n%s", path, got, want)
	}
}

// checkCase is one testdata/check/*.txtar archive. Its files are:
//
//   - schema files, *.yml, *.yaml and *.json, loaded in the order of the
//     archive unless a "load" file lists the names to load, one a line;
//     a name not in the archive is read from testdata/;
//   - resources.jsonl: one resource a line, {"arn", "type", "account",
//     "region", "tags": {key: value}};
//   - want: the violations, one a line, as formatViolation writes them;
//   - warnings: what Schema.Warnings says;
//   - errors: what Load says, when it must fail;
//   - effective: an AWS effective policy that EffectivePolicy must equal,
//     as JSON, with policy keys compared in lowercase (AWS prints them so).
//
// The want, warnings and errors files are rewritten by -update.
type checkCase struct {
	path     string
	ar       *txtar.Archive
	files    []File
	res      []Resource
	sections map[string]string
}

func formatViolation(v Violation) string {
	s := fmt.Sprintf("%s | %s | %s | %q | %s | %s", v.ARN, v.Code, v.Key, v.Value, v.Rule, v.Message)
	if v.Enforced {
		s += " | enforced"
	}
	return s
}

type jsonResource struct {
	ARN     string            `json:"arn"`
	Type    string            `json:"type"`
	Account string            `json:"account"`
	Region  string            `json:"region"`
	Tags    map[string]string `json:"tags"`
}

func readCheckCase(t *testing.T, path string) *checkCase {
	t.Helper()
	ar, err := txtar.ParseFile(path)
	if err != nil {
		t.Fatal(err)
	}
	c := &checkCase{path: path, ar: ar, sections: map[string]string{}}
	inline := map[string][]byte{}
	var order []string
	for _, f := range ar.Files {
		switch ext := filepath.Ext(f.Name); {
		case ext == ".yml" || ext == ".yaml" || ext == ".json":
			inline[f.Name] = f.Data
			order = append(order, f.Name)
		case f.Name == "resources.jsonl":
			for i, line := range strings.Split(string(f.Data), "\n") {
				if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#") {
					continue
				}
				var jr jsonResource
				dec := json.NewDecoder(strings.NewReader(line))
				dec.DisallowUnknownFields()
				if err := dec.Decode(&jr); err != nil {
					t.Fatalf("%s: resources.jsonl:%d: %v", path, i+1, err)
				}
				r := Resource{ARN: jr.ARN, Type: jr.Type, Account: jr.Account, Region: jr.Region}
				for k, v := range jr.Tags {
					r.Tags = append(r.Tags, tags.Tag{Key: k, Value: v})
				}
				slices.SortFunc(r.Tags, func(a, b tags.Tag) int { return strings.Compare(a.Key, b.Key) })
				c.res = append(c.res, r)
			}
		case f.Name == "load" || f.Name == "want" || f.Name == "warnings" || f.Name == "errors" || f.Name == "effective":
			c.sections[f.Name] = string(f.Data)
		default:
			t.Fatalf("%s: unknown file %q", path, f.Name)
		}
	}
	if load, ok := c.sections["load"]; ok {
		order = strings.Fields(load)
	}
	for _, name := range order {
		data, ok := inline[name]
		if !ok {
			if data, err = os.ReadFile(filepath.Join("testdata", name)); err != nil {
				t.Fatalf("%s: %v", path, err)
			}
		}
		c.files = append(c.files, File{Name: name, Data: data})
	}
	return c
}

// TestCheck runs the cases of testdata/check.
func TestCheck(t *testing.T) {
	paths, err := filepath.Glob("testdata/check/*.txtar")
	if err != nil || len(paths) == 0 {
		t.Fatalf("no cases: %v", err)
	}
	for _, path := range paths {
		t.Run(strings.TrimSuffix(filepath.Base(path), ".txtar"), func(t *testing.T) {
			c := readCheckCase(t, path)
			got := map[string]string{}
			s, err := Load(c.files)
			if err != nil {
				got["errors"] = err.Error() + "\n"
			} else {
				var lines []string
				for _, r := range c.res {
					vs := s.Check(r)
					if !slices.IsSortedFunc(vs, func(a, b Violation) int { return strings.Compare(a.Code, b.Code) }) {
						t.Errorf("%s: violations not sorted by code", r.ARN)
					}
					for _, v := range vs {
						lines = append(lines, formatViolation(v))
					}
					if again := s.Check(r); !reflect.DeepEqual(vs, again) {
						t.Errorf("%s: a second Check differs", r.ARN)
					}
				}
				if len(c.res) > 0 || c.sections["want"] != "" {
					got["want"] = joinLines(lines)
				}
				if w := s.Warnings(); len(w) > 0 || c.sections["warnings"] != "" {
					got["warnings"] = joinLines(errorLines(w))
				}
				if want, ok := c.sections["effective"]; ok {
					if ref, ok := strings.CutPrefix(strings.TrimSpace(want), "@"); ok {
						data, err := os.ReadFile(filepath.Join("testdata", ref))
						if err != nil {
							t.Fatal(err)
						}
						want = string(data)
					}
					compareEffective(t, s.EffectivePolicy(), []byte(want))
				}
			}
			if *update {
				rewriteCase(t, c, got)
				return
			}
			for _, name := range []string{"errors", "want", "warnings"} {
				if got[name] != c.sections[name] {
					t.Errorf("%s differs:\n--- got\n%s--- want\n%s", name, got[name], c.sections[name])
				}
			}
		})
	}
}

func joinLines(lines []string) string {
	if len(lines) == 0 {
		return ""
	}
	return strings.Join(lines, "\n") + "\n"
}

func errorLines(l ErrorList) []string {
	var lines []string
	for _, e := range l {
		lines = append(lines, e.Error())
	}
	return lines
}

// rewriteCase writes the sections of got into the case's archive,
// keeping the other files and their order.
func rewriteCase(t *testing.T, c *checkCase, got map[string]string) {
	t.Helper()
	var files []txtar.File
	done := map[string]bool{}
	for _, f := range c.ar.Files {
		if text, ok := got[f.Name]; ok || f.Name == "errors" || f.Name == "want" || f.Name == "warnings" {
			done[f.Name] = true
			if text == "" {
				continue
			}
			f.Data = []byte(text)
		}
		files = append(files, f)
	}
	for _, name := range []string{"errors", "want", "warnings"} {
		if !done[name] && got[name] != "" {
			files = append(files, txtar.File{Name: name, Data: []byte(got[name])})
		}
	}
	c.ar.Files = files
	if err := os.WriteFile(c.path, txtar.Format(c.ar), 0o644); err != nil {
		t.Fatal(err)
	}
}

// compareEffective compares two effective policies as JSON values, policy
// keys in lowercase.
func compareEffective(t *testing.T, got, want []byte) {
	t.Helper()
	norm := func(b []byte) any {
		var doc struct {
			Tags map[string]map[string]any `json:"tags"`
		}
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&doc); err != nil {
			t.Fatalf("effective policy %s: %v", b, err)
		}
		out := map[string]map[string]any{}
		for k, v := range doc.Tags {
			out[strings.ToLower(k)] = v
		}
		return out
	}
	if g, w := norm(got), norm(want); !reflect.DeepEqual(g, w) {
		t.Errorf("effective policy differs:\n--- got\n%s--- want\n%s", got, want)
	}
}

// TestGrace: a YAML rule's grace is carried by each of its violations;
// AWS policies have none.
func TestGrace(t *testing.T) {
	s, err := Load([]File{
		{Name: "a.yml", Data: []byte("version: 1\nrules:\n  - name: owned\n    require: [Owner]\n    tagged: true\n    grace: 90m\n  - name: named\n    require: [Name]\n")},
		{Name: "p.json", Data: []byte(`{"tags": {"team": {"tag_key": {"@@assign": "Team"}, "report_required_tag_for": {"@@assign": ["ec2:instance"]}}}}`)},
	})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]time.Duration{}
	for _, v := range s.Check(Resource{ARN: "arn:aws:ec2:us-east-1:111111111111:instance/i-1"}) {
		got[v.Code+" "+v.Key] = v.Grace
	}
	want := map[string]time.Duration{"untagged ": 90 * time.Minute, "missing-key Owner": 90 * time.Minute, "missing-key Name": 0, "missing-key Team": 0}
	if !maps.Equal(got, want) {
		t.Errorf("grace by violation: got %v, want %v", got, want)
	}
}
