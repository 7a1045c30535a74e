package lakesql

import (
	"strings"
	"testing"
)

// TestPrepare checks the lexical pass: what DuckDB is given for each Lake
// form it cannot parse, and which placeholders are found.
func TestPrepare(t *testing.T) {
	tests := []struct {
		src, text, params string
	}{
		{"SELECT * FROM $EDS_ID WHERE x = 1", "SELECT * FROM events WHERE x = 1", ""},
		{"select * from <EDS ID> e", "select * from events e", ""},
		{"SELECT 1 FROM 5e2676f8-9fce-46ef-8142-3e36a94e6691;", "SELECT 1 FROM events;", ""},
		{"SELECT 1 FROM arn:aws:cloudtrail:us-east-1:123456789012:eventdatastore/EXAMPLE-f852-4e8f-8bd1-bcf6cEXAMPLE\nWHERE a",
			"SELECT 1 FROM events\nWHERE a", ""},
		{"SELECT 1 FROM eds-ID--comment\n", "SELECT 1 FROM events--comment\n", ""},
		{"SELECT 1 FROM a JOIN <x> ON true, $B", "SELECT 1 FROM a JOIN events ON true, events", ""},
		{"SELECT 1 FROM (SELECT 2 FROM <x>) s", "SELECT 1 FROM (SELECT 2 FROM events) s", ""},
		{"SELECT extract(hour FROM t), a IS NOT DISTINCT FROM b FROM <x>",
			"SELECT extract(hour FROM t), a IS NOT DISTINCT FROM b FROM events", ""},
		{"SELECT ${a}, :b, ':c', '${d}', x::int, '${a}' FROM t", "SELECT $1, $2, ':c', $3, x::int, $1 FROM t", "a,b,d"},
		{"SELECT [1, 2][1:2], {'k': v} FROM t", "SELECT [1, 2][1:2], {'k': v} FROM t", ""},
		{"SELECT CAST(x AS array(array(varchar))), ARRAY[1], ARRAY(SELECT 1)",
			"SELECT CAST(x AS varchar[][]), ARRAY[1], ARRAY(SELECT 1)", ""},
		{"SELECT '<EDS ID>', \"$EDS_ID\" /* FROM <x> */ FROM t -- FROM $y", "SELECT '<EDS ID>', \"$EDS_ID\" /* FROM <x> */ FROM t -- FROM $y", ""},
		{"SELECT 1;;  ", "SELECT 1;;  ", ""},
	}
	for _, tt := range tests {
		s, err := prepare(tt.src)
		if err != nil {
			t.Errorf("prepare(%q): %v", tt.src, err)
			continue
		}
		var names []string
		for _, p := range s.params {
			names = append(names, p.name)
		}
		if s.text != tt.text || strings.Join(names, ",") != tt.params {
			t.Errorf("prepare(%q)\n = %q, params %v\nwant %q, params %s", tt.src, s.text, names, tt.text, tt.params)
		}
	}
}

// TestOrigOffset checks that offsets into the prepared text map back to
// the user's text across replacements of every length.
func TestOrigOffset(t *testing.T) {
	src := "SELECT '${long_name}' FROM <Event data store Id> WHERE x"
	s, err := prepare(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, word := range []string{"SELECT", "FROM", "WHERE", "x"} {
		got := s.origOffset(strings.LastIndex(s.text, word))
		if want := strings.LastIndex(src, word); got != want {
			t.Errorf("%s: origOffset = %d, want %d", word, got, want)
		}
	}
	if got, want := s.origOffset(strings.Index(s.text, "events")+3), strings.Index(src, "<"); got != want {
		t.Errorf("inside a replacement: origOffset = %d, want %d (its start)", got, want)
	}
}
