package schema

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"golang.org/x/tools/txtar"

	"github.com/trailbook/trailbook/internal/tags"
	"github.com/trailbook/trailbook/internal/yamlpos"
)

// seeds are the schema files of testdata whose names end in one of exts,
// and those inside testdata/check/*.txtar.
func seeds(f *testing.F, exts ...string) [][]byte {
	f.Helper()
	var out [][]byte
	err := filepath.WalkDir("testdata", func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		if strings.HasSuffix(path, ".txtar") {
			ar, err := txtar.ParseFile(path)
			if err != nil {
				return err
			}
			for _, file := range ar.Files {
				if slices.Contains(exts, filepath.Ext(file.Name)) {
					out = append(out, file.Data)
				}
			}
			return nil
		}
		if slices.Contains(exts, filepath.Ext(path)) {
			data, err := os.ReadFile(path)
			out = append(out, data)
			return err
		}
		return nil
	})
	if err != nil {
		f.Fatal(err)
	}
	if len(out) == 0 {
		f.Fatal("no seeds")
	}
	return out
}

// probes are resources of several shapes to check loaded schemas with.
func probes() []Resource {
	return []Resource{
		{ARN: "arn:aws:ec2:us-east-1:111111111111:instance/i-1"},
		{ARN: "arn:aws:ec2:us-east-1:111111111111:instance/i-2", Tags: []tags.Tag{{Key: "CostCenter", Value: "100"}, {Key: "costcenter", Value: "x"}, {Key: "Env", Value: ""}}},
		{ARN: "arn:aws:s3:::bucket", Account: "111111111111", Tags: []tags.Tag{{Key: "aws:createdBy", Value: "me"}, {Key: "Owner", Value: "a@example.com"}}},
		{ARN: "not an arn", Tags: []tags.Tag{{Key: "k", Value: "v"}}},
	}
}

// loadInvariants fails t unless Load's answer is whole: a Schema or an
// ErrorList, never both; positioned, coded, sorted errors; and a Schema
// that checks without panicking, in order.
func loadInvariants(t *testing.T, files []File) {
	t.Helper()
	s, err := Load(files)
	if (s == nil) == (err == nil) {
		t.Fatalf("Load returned schema %v and error %v", s != nil, err)
	}
	if err != nil {
		list, ok := err.(ErrorList)
		if !ok || len(list) == 0 {
			t.Fatalf("error %T %v is not a non-empty ErrorList", err, err)
		}
		checkErrors(t, files, list)
		return
	}
	checkErrors(t, files, s.Warnings())
	for _, r := range probes() {
		vs := s.Check(r)
		if !slices.IsSortedFunc(vs, func(a, b Violation) int { return strings.Compare(a.Code, b.Code) }) {
			t.Fatalf("violations not sorted: %v", vs)
		}
		for _, v := range vs {
			if v.Rule == "" || v.Message == "" || v.ARN != r.ARN {
				t.Fatalf("incomplete violation %#v", v)
			}
		}
	}
	if p := s.EffectivePolicy(); p != nil && !json.Valid(p) {
		t.Fatalf("effective policy is not JSON: %s", p)
	}
}

func checkErrors(t *testing.T, files []File, list ErrorList) {
	t.Helper()
	lines := map[string]int{}
	for _, f := range files {
		lines[f.Name] = yamlpos.LineCount(f.Data)
	}
	for i, e := range list {
		if e.Code == "" || e.Msg == "" || e.Line < 1 || e.Col < 1 || e.Line > lines[e.File] {
			t.Fatalf("bad error %#v (file has %d lines)", e, lines[e.File])
		}
		if i > 0 {
			p := list[i-1]
			if p.File > e.File || p.File == e.File && (p.Line > e.Line || p.Line == e.Line && p.Col > e.Col) {
				t.Fatalf("errors out of order: %v before %v", p, e)
			}
		}
	}
}

// FuzzLoadYAML: Load never panics on a Trailbook YAML schema, and always
// answers whole.
func FuzzLoadYAML(f *testing.F) {
	for _, s := range seeds(f, ".yml", ".yaml") {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		loadInvariants(t, []File{{Name: "fuzz.yml", Data: data}})
	})
}

// FuzzLoadPolicy: Load never panics on a chain of two AWS tag policies,
// always answers whole, and its JSON reader accepts exactly what
// encoding/json accepts and reads the same values.
func FuzzLoadPolicy(f *testing.F) {
	all := seeds(f, ".json")
	for i, s := range all {
		f.Add(s, all[(i+1)%len(all)])
	}
	f.Fuzz(func(t *testing.T, parent, child []byte) {
		for _, data := range [][]byte{parent, child} {
			sameAsEncodingJSON(t, data)
		}
		loadInvariants(t, []File{{Name: "parent.json", Data: parent}, {Name: "child.json", Data: child}})
	})
}

// sameAsEncodingJSON fails t when parseJSON and encoding/json disagree on
// whether data is JSON, or on its value.
func sameAsEncodingJSON(t *testing.T, data []byte) {
	t.Helper()
	if bytes.HasPrefix(data, []byte("\xef\xbb\xbf")) {
		return // encoding/json refuses a byte order mark; parseJSON skips it
	}
	n, serr := parseJSON(data)
	if serr != nil && strings.HasPrefix(serr.msg, "nested deeper") {
		return
	}
	if serr != nil && (serr.off < 0 || serr.off > len(data)) {
		t.Fatalf("error offset %d outside the %d bytes", serr.off, len(data))
	}
	if valid := json.Valid(data); valid != (serr == nil) {
		t.Fatalf("encoding/json says valid=%v, parseJSON says %v, for %q", valid, serr, data)
	}
	if serr != nil {
		return
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var want any
	if err := dec.Decode(&want); err != nil {
		t.Fatal(err)
	}
	if got := plain(n); !equalJSON(got, want) {
		t.Fatalf("parseJSON read %#v, encoding/json %#v, from %q", got, want, data)
	}
}

// plain is n as encoding/json decodes into any with UseNumber; of repeated
// keys the last wins, as in encoding/json.
func plain(n *jnode) any {
	switch n.kind {
	case jNull:
		return nil
	case jBool:
		return n.text == "true"
	case jNumber:
		return json.Number(n.text)
	case jString:
		return n.text
	case jArray:
		out := []any{}
		for _, e := range n.elems {
			out = append(out, plain(e))
		}
		return out
	}
	out := map[string]any{}
	for _, m := range n.members {
		out[m.key] = plain(m.val)
	}
	return out
}

func equalJSON(a, b any) bool {
	x, err1 := json.Marshal(a)
	y, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && bytes.Equal(x, y)
}
