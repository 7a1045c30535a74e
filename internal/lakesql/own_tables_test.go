package lakesql

import (
	"context"
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
