package awsact

import (
	"bufio"
	"os"
	"strings"
	"testing"
)

// arnCase is one line of testdata/arns.txt.
type arnCase struct {
	arn  string
	want string // "ROUTE TYPE ID", "tagging" or "error"
}

func readARNCases(t testing.TB) []arnCase {
	f, err := os.Open("testdata/arns.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var cases []arnCase
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") || line == "" {
			continue
		}
		a, want, ok := strings.Cut(line, "\t")
		if !ok {
			t.Fatalf("testdata/arns.txt: no tab in %q", line)
		}
		cases = append(cases, arnCase{a, want})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return cases
}

func (r resource) String() string {
	name := map[route]string{routeTagging: "tagging", routeEC2: "ec2", routeRole: "role", routeUser: "user", routeBucket: "bucket"}[r.route]
	if r.route == routeTagging {
		return name
	}
	return name + " " + r.typ + " " + r.id
}

func TestParseARN(t *testing.T) {
	for _, c := range readARNCases(t) {
		r, err := parseARN(c.arn)
		got := "error"
		if err == nil {
			got = r.String()
		}
		if got != c.want {
			t.Errorf("parseARN(%q) = %s (err %v), want %s", c.arn, got, err, c.want)
		}
	}
}

func FuzzParseARN(f *testing.F) {
	for _, c := range readARNCases(f) {
		f.Add(c.arn)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := parseARN(s)
		if err != nil {
			return
		}
		if r.raw != s {
			t.Fatalf("raw %q, want %q", r.raw, s)
		}
		switch r.route {
		case routeTagging:
			if r.typ != "" || r.id != "" {
				t.Fatalf("%q: tagging route with type %q id %q", s, r.typ, r.id)
			}
		case routeEC2, routeRole, routeUser, routeBucket:
			if r.id == "" || r.typ == "" || strings.Contains(r.id, "/") {
				t.Fatalf("%q: route %d with type %q id %q", s, r.route, r.typ, r.id)
			}
			if !strings.HasSuffix(s, r.id) {
				t.Fatalf("%q does not end with id %q", s, r.id)
			}
		default:
			t.Fatalf("%q: unknown route %d", s, r.route)
		}
	})
}

func TestTagValue(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"", ""},
		{"root login (no MFA), from 1.2.3.4", "root login no MFA from 1.2.3.4"},
		{"a\nb\t\tc", "a b c"},
		{"user@example.com: s3:PutBucketPolicy=+/-_", "user@example.com: s3:PutBucketPolicy=+/-_"},
		{"Zugriff für Gäste", "Zugriff für Gäste"},
		{strings.Repeat("é", 300), strings.Repeat("é", 256)},
		{strings.Repeat("a", 255) + " b", strings.Repeat("a", 255)},
	} {
		if got := tagValue(c.in); got != c.want {
			t.Errorf("tagValue(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestSNSSubject(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"", ""},
		{"  Root login\r\nin prod  ", "Root login in prod"},
		{strings.Repeat("x", 150), strings.Repeat("x", 99)},
		{"🚨 alert", "🚨 alert"},
	} {
		if got := snsSubject(c.in); got != c.want {
			t.Errorf("snsSubject(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestUndoDocument(t *testing.T) {
	for _, c := range []struct {
		raw, doc string
		present  bool
		err      bool
	}{
		{"", "", false, false},
		{"null", "", false, false},
		{` {"a":1}`, `{"a":1}`, true, false},
		{`"not json"`, "not json", true, false},
		{`[1]`, "", false, true},
		{`"unterminated`, "", false, true},
	} {
		doc, present, err := undoDocument([]byte(c.raw))
		if doc != c.doc || present != c.present || (err != nil) != c.err {
			t.Errorf("undoDocument(%q) = %q, %v, %v; want %q, %v, error %v", c.raw, doc, present, err, c.doc, c.present, c.err)
		}
	}
}
