package cloudtrail

import (
	"os"
	"strings"
	"testing"
	"time"
)

// TestParseTime runs the table in testdata/times.txt: each line is an input
// and either the UTC time it means (RFC 3339) or "invalid".
func TestParseTime(t *testing.T) {
	table, err := os.ReadFile("testdata/times.txt")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(table), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		in, want, ok := strings.Cut(line, "\t")
		if !ok {
			t.Fatalf("times.txt: malformed line %q", line)
		}
		got, ok := parseTime(in)
		switch {
		case want == "invalid" && ok:
			t.Errorf("parseTime(%q) = %v, want invalid", in, got)
		case want != "invalid" && !ok:
			t.Errorf("parseTime(%q) is invalid, want %s", in, want)
		case ok:
			w, err := time.Parse(time.RFC3339Nano, want)
			if err != nil {
				t.Fatalf("times.txt: %q: %v", want, err)
			}
			if !got.Equal(w) || got.Location() != time.UTC {
				t.Errorf("parseTime(%q) = %v, want %v", in, got, w)
			}
		}
	}
}

// FuzzParseTime checks that parseTime never panics and that what it accepts
// is a UTC, non-zero time that survives a round trip through RFC 3339.
func FuzzParseTime(f *testing.F) {
	table, err := os.ReadFile("testdata/times.txt")
	if err != nil {
		f.Fatal(err)
	}
	for _, line := range strings.Split(string(table), "\n") {
		if in, _, ok := strings.Cut(line, "\t"); ok && !strings.HasPrefix(line, "#") {
			f.Add(in)
		}
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, ok := parseTime(s)
		if !ok {
			return
		}
		if got.IsZero() || got.Location() != time.UTC {
			t.Fatalf("parseTime(%q) = %v", s, got)
		}
		back, err := time.Parse(time.RFC3339Nano, got.Format(time.RFC3339Nano))
		if err != nil || !back.Equal(got) {
			t.Fatalf("parseTime(%q) = %v, which does not round-trip: %v", s, got, err)
		}
	})
}
