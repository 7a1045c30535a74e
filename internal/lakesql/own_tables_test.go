package lakesql

import (
	"context"
	"errors"
	"strings"
	"testing"
)

// The store's own tables are read as themselves; any other name is the
// event data store.
func TestOwnTablesStayThemselves(t *testing.T) {
	ctx := context.Background()
	conn := newConn(t, false)
	q, err := Translate(ctx, conn, "SELECT count(*) FROM rejects", Options{Tables: []string{"rejects", "ingested_files"}})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(q.SQL, "FROM rejects") || strings.Contains(q.SQL, "events") {
		t.Errorf("own table: got %s", q.SQL)
	}
	q, err = Translate(ctx, conn, "SELECT count(*) FROM rejects", Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(q.SQL, "FROM events") {
		t.Errorf("without Tables, rejects should mean events: got %s", q.SQL)
	}
}

// Errors DuckDB raises when running a translated query point into the
// user's text, not the translated one.
func TestLocateRunErrors(t *testing.T) {
	ctx := context.Background()
	conn := newConn(t, true)
	cases := []struct {
		src        string
		line, col  int
		msgContain string
	}{
		{"SELECT eventName,\n       nosuchcol\nFROM $EDS_ID", 2, 8, `"nosuchcol" not found`},
		{"-- recent\nSELECT eventName FROM events\nWHERE eventTime > 'not a time'", 3, 19, "timestamp"},
	}
	for _, c := range cases {
		q, err := Translate(ctx, conn, c.src, Options{})
		if err != nil {
			t.Fatalf("%q: %v", c.src, err)
		}
		rows, err := conn.QueryContext(ctx, q.SQL)
		if err == nil {
			rows.Close()
			t.Fatalf("%q ran", c.src)
		}
		var le *Error
		if !errors.As(q.Locate(err), &le) {
			t.Fatalf("%q: not an *Error: %v", c.src, q.Locate(err))
		}
		if le.Code != CodeQuery || le.Line != c.line || le.Col != c.col || !strings.Contains(le.Msg, c.msgContain) || strings.Contains(le.Msg, "LINE 1") {
			t.Errorf("%q: got %+v, want line %d:%d containing %q", c.src, le, c.line, c.col, c.msgContain)
		}
	}
}
