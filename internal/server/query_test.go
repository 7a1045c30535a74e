package server

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	_ "github.com/duckdb/duckdb-go/v2"
	"golang.org/x/tools/txtar"

	"github.com/trailbook/trailbook/internal/lakesql"
	"github.com/trailbook/trailbook/internal/store"
)

type queryResult struct {
	Columns   []string         `json:"columns"`
	Rows      []map[string]any `json:"rows"`
	RowCount  int              `json:"row_count"`
	Truncated bool             `json:"truncated"`
}

func (f *fixture) query(sql string, params map[string]string, maxRows int) response {
	f.t.Helper()
	body := map[string]any{"sql": sql}
	if params != nil {
		body["params"] = params
	}
	if maxRows != 0 {
		body["max_rows"] = maxRows
	}
	return f.do("POST", "/v1/query", "reader", body)
}

// TestQuery runs Lake SQL through the API: the rows as `trailbook query
// --format json` writes them, params bound as values, errors placed in
// the query with the translator's codes.
func TestQuery(t *testing.T) {
	f := newFixture(t)
	var res queryResult
	f.query("SELECT eventName, errorCode, eventTime FROM <EDS ID> WHERE eventTime IS NOT NULL ORDER BY eventTime", nil, 0).ok(t, &res)
	if got := strings.Join(res.Columns, ","); got != "eventName,errorCode,eventTime" {
		t.Errorf("columns %s", got)
	}
	if res.RowCount != 4 || len(res.Rows) != 4 || res.Truncated {
		t.Fatalf("got %d rows (row_count %d, truncated %v), want 4", len(res.Rows), res.RowCount, res.Truncated)
	}
	if res.Rows[0]["eventName"] != "CreateTags" || res.Rows[0]["errorCode"] != nil {
		t.Errorf("first row %v", res.Rows[0])
	}
	if got, want := res.Rows[0]["eventTime"], f.now.Add(-3*time.Hour).Format(time.RFC3339); got != want {
		t.Errorf("eventTime %v, want %s (RFC 3339 UTC, as the CLI writes it)", got, want)
	}

	// Params bind as values, ${name} and :name alike.
	res = queryResult{}
	f.query("SELECT eventID FROM $EDS_ID WHERE recipientAccountId = :acct AND eventName <> ${not} ORDER BY eventID",
		map[string]string{"acct": "111122223333", "not": "ListBuckets"}, 0).ok(t, &res)
	if len(res.Rows) != 2 || res.Rows[0]["eventID"] != "tag-1" || res.Rows[1]["eventID"] != "tag-2" {
		t.Errorf("params: rows %v", res.Rows)
	}
	injection := map[string]string{"acct": "x' OR '1'='1", "not": ""}
	res = queryResult{}
	f.query("SELECT eventID FROM events WHERE recipientAccountId = :acct AND eventName <> ${not}", injection, 0).ok(t, &res)
	if len(res.Rows) != 0 {
		t.Errorf("a param was not bound as a value: %v", res.Rows)
	}
	e := f.query("SELECT eventID FROM events WHERE recipientAccountId = :acct", nil, 0).apiError(t, 400, lakesql.CodeMissingParam)
	if e.Line != 1 {
		t.Errorf("missing param not placed: %+v", e)
	}
	f.query("SELECT eventID FROM events", map[string]string{"who": "x"}, 0).apiError(t, 400, lakesql.CodeUnknownParam)

	// DuckDB's own errors are placed in the query as written.
	e = f.query("SELECT eventName,\n       nosuchcol\nFROM events", nil, 0).apiError(t, 400, lakesql.CodeQuery)
	if e.Line != 2 || e.Col != 8 || e.Offset == nil || *e.Offset != 25 || !strings.Contains(e.Message, `Referenced column "nosuchcol" not found`) {
		t.Errorf("binder error: %+v", e)
	}
	e = f.query("SELECT eventName\nFROM events\nWHERE eventName = = 'x'", nil, 0).apiError(t, 400, lakesql.CodeSyntax)
	if e.Line != 3 || e.Col != 19 {
		t.Errorf("syntax error at %d:%d, want 3:19", e.Line, e.Col)
	}
	// A repeated column name gets the suffix render gives it.
	res = queryResult{}
	f.query("SELECT eventID, eventID FROM events WHERE eventID = 'root-1'", nil, 0).ok(t, &res)
	if got := strings.Join(res.Columns, ","); got != "eventID,eventID_2" || res.Rows[0]["eventID_2"] != "root-1" {
		t.Errorf("columns %s, rows %v", got, res.Rows)
	}
	// The store's own tables and tag helpers are there, as in the CLI.
	res = queryResult{}
	f.query("SELECT tag_at('arn:aws:ec2:us-east-1:111122223333:instance/i-0abc', 'Owner', now()) AS owner", nil, 0).ok(t, &res)
	if len(res.Rows) != 1 || res.Rows[0]["owner"] != "alice" {
		t.Errorf("tag_at: %v", res.Rows)
	}

	// Bodies that are not a query.
	f.do("POST", "/v1/query", "reader", `{"sql": "SELECT 1", "limit": 3}`).apiError(t, 400, CodeBadRequest)
	f.do("POST", "/v1/query", "reader", `{"sql": "SELECT 1"} {}`).apiError(t, 400, CodeBadRequest)
	f.do("POST", "/v1/query", "reader", `{"sql": 1}`).apiError(t, 400, CodeBadRequest)
	f.do("POST", "/v1/query", "reader", `{"sql": "SELECT 1",`).apiError(t, 400, CodeBadRequest)
	f.do("POST", "/v1/query", "reader", ``).apiError(t, 400, CodeBadRequest)
	f.do("POST", "/v1/query", "reader", `{"sql": "  "}`).apiError(t, 400, CodeBadRequest)
	f.do("POST", "/v1/query", "reader", `{"sql": "SELECT 1", "max_rows": -1}`).apiError(t, 400, CodeBadRequest)
	f.do("POST", "/v1/query?format=csv", "reader", `{"sql": "SELECT 1"}`).apiError(t, 400, CodeBadRequest)
	big := `{"sql": "SELECT 1 -- ` + strings.Repeat("x", maxJSONBody) + `"}`
	f.do("POST", "/v1/query", "reader", big).apiError(t, http.StatusRequestEntityTooLarge, CodeTooLarge)
}

// TestQueryRowCap: at most MaxRows rows, or the fewer the request asks
// for, with truncated set only when there were more.
func TestQueryRowCap(t *testing.T) {
	f := newFixture(t, func(d *Deps) { d.MaxRows = 200 })
	cases := []struct {
		sql       string
		maxRows   int
		want      int
		truncated bool
	}{
		{"SELECT x FROM UNNEST(range(50)) AS t(x) ORDER BY x", 10, 10, true},
		{"SELECT x FROM UNNEST(range(50)) AS t(x) ORDER BY x", 50, 50, false},
		{"SELECT x FROM UNNEST(range(50)) AS t(x) ORDER BY x", 0, 50, false},
		{"SELECT x FROM UNNEST(range(500)) AS t(x) ORDER BY x", 0, 200, true},
		{"SELECT x FROM UNNEST(range(500)) AS t(x) ORDER BY x", 1000, 200, true},
		{"SELECT x FROM UNNEST(range(200)) AS t(x) ORDER BY x", 0, 200, false},
		// Rows past render's 64 KiB buffer, cut mid-write.
		{"SELECT x, repeat('y', 1000) AS pad FROM UNNEST(range(500)) AS t(x) ORDER BY x", 0, 200, true},
		{"SELECT x FROM UNNEST(range(0)) AS t(x)", 0, 0, false},
	}
	for _, c := range cases {
		var res queryResult
		f.query(c.sql, nil, c.maxRows).ok(t, &res)
		if len(res.Rows) != c.want || res.RowCount != c.want || res.Truncated != c.truncated {
			t.Errorf("%s, max_rows %d: %d rows (row_count %d), truncated %v; want %d, %v",
				c.sql, c.maxRows, len(res.Rows), res.RowCount, res.Truncated, c.want, c.truncated)
			continue
		}
		for i, row := range res.Rows {
			if row["x"] != float64(i) {
				t.Errorf("%s: row %d is %v", c.sql, i, row)
				break
			}
		}
	}
}

// TestQueryTimeout: a query past the timeout is cancelled, answered 503
// timeout, and the next query runs.
func TestQueryTimeout(t *testing.T) {
	f := newFixture(t, func(d *Deps) { d.QueryTimeout = 300 * time.Millisecond })
	start := time.Now()
	f.query("SELECT count(*) AS n FROM UNNEST(range(1000000)) AS a(x) CROSS JOIN UNNEST(range(1000000)) AS b(y) WHERE x + y = -1", nil, 0).
		apiError(t, http.StatusServiceUnavailable, CodeTimeout)
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("the timeout took %s to cancel the query", d)
	}
	var res queryResult
	f.query("SELECT count(*) AS n FROM events", nil, 0).ok(t, &res)
	if len(res.Rows) != 1 || res.Rows[0]["n"] != float64(4) {
		t.Errorf("after the timeout: %v", res.Rows)
	}
}

// TestQueryRefusals sends the queries the translator must refuse
// (internal/lakesql/testdata/refuse.txtar) and those `trailbook query`
// must (internal/cli/testdata/script/query.txtar): the API refuses each
// with the code and place the CLI gives, and none of them touches a file
// or the store.
func TestQueryRefusals(t *testing.T) {
	f := newFixture(t)
	ar, err := txtar.ParseFile("../lakesql/testdata/refuse.txtar")
	if err != nil {
		t.Fatal(err)
	}
	queries := map[string]string{}
	var names []string
	expect := map[string]string{}
	for _, file := range ar.Files {
		name, ext, _ := strings.Cut(file.Name, ".")
		switch ext {
		case "sql":
			queries[name], names = string(file.Data), append(names, name)
		case "err":
			expect[name] = strings.TrimSpace(string(file.Data))
		}
	}
	if len(names) < 30 {
		t.Fatalf("refuse.txtar holds %d cases", len(names))
	}
	for _, name := range names {
		if !utf8.ValidString(queries[name]) {
			// A JSON string cannot carry it: the body's decoder puts
			// U+FFFD in its place, and the query that arrives is valid.
			continue
		}
		fields := strings.SplitN(expect[name], " ", 3)
		if len(fields) != 3 {
			t.Fatalf("%s.err: want CODE LINE:COL TEXT", name)
		}
		e := f.query(queries[name], nil, 0).apiError(t, 400, fields[0])
		if pos := fmt.Sprintf("%d:%d", e.Line, e.Col); pos != fields[1] || !strings.Contains(e.Message, fields[2]) {
			t.Errorf("%s: got %s %s %q, want %s", name, e.Code, pos, e.Message, expect[name])
		}
	}

	// The CLI's: the code and place are the translator's, with the
	// options `trailbook query` gives it.
	dir := t.TempDir()
	hostile := []string{
		"SELECT * FROM read_text('/etc/passwd')",
		"COPY events TO '" + filepath.Join(dir, "out.csv") + "'",
		"INSERT INTO events (eventName) VALUES ('x')",
		"DELETE FROM events",
		"UPDATE events SET eventName = 'x'",
		"DROP TABLE audit",
		"CREATE TABLE t AS SELECT 1",
		"ATTACH '" + filepath.Join(dir, "other.duckdb") + "' AS o",
		"INSTALL httpfs",
		"LOAD httpfs",
		"PRAGMA database_list",
		"SET threads = 1",
		"SET enable_external_access = true",
		"CHECKPOINT",
		"SELECT 1; DELETE FROM events",
		"SELECT * FROM read_parquet('" + filepath.Join(dir, "x.parquet") + "')",
		"SELECT * FROM 'trailbook.duckdb'",
		"SELECT * FROM main.audit",
		"SELECT getenv('HOME')",
		"SELECT * FROM duckdb_secrets()",
		"WITH x AS (SELECT * FROM glob('/*')) SELECT * FROM x",
	}
	conn := translatorConn(t)
	for _, q := range hostile {
		_, want := lakesql.Translate(context.Background(), conn, q, lakesql.Options{Tables: store.Tables(), TaggedEvents: store.TaggedEventsSQL})
		var le *lakesql.Error
		if !errors.As(want, &le) {
			t.Fatalf("%s: the translator gives %v, not a refusal", q, want)
		}
		e := f.query(q, nil, 0).apiError(t, 400, le.Code)
		if e.Line != le.Line || e.Col != le.Col || e.Message != le.Msg {
			t.Errorf("%s: API %d:%d %q, CLI %d:%d %q", q, e.Line, e.Col, e.Message, le.Line, le.Col, le.Msg)
		}
	}
	for _, name := range []string{"out.csv", "other.duckdb"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err == nil {
			t.Errorf("a refused query wrote %s", name)
		}
	}
	if n := f.count("SELECT count(*) FROM events"); n != 4 {
		t.Errorf("the store holds %d events after the refusals, want 4", n)
	}
	// The session is as it was: external access stays off.
	var res queryResult
	f.query("SELECT count(*) AS n FROM events", nil, 0).ok(t, &res)
	var access string
	if err := f.st.DB().QueryRow("SELECT current_setting('enable_external_access')::VARCHAR").Scan(&access); err != nil || access != "false" {
		t.Errorf("enable_external_access is %q (%v)", access, err)
	}
}

// translatorConn is an in-memory DuckDB with the events table, as the
// translator's own tests use, to learn what it refuses.
func translatorConn(t *testing.T) *sql.DB {
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	db.SetMaxOpenConns(1)
	if _, err := db.Exec(store.EventsDDL); err != nil {
		t.Fatal(err)
	}
	return db
}

// BenchmarkQuery is one small query through the API: the connection's
// prelude, the translation and the HTTP round trip.
func BenchmarkQuery(b *testing.B) {
	t := &testing.T{}
	f := newFixture(t)
	f.t = t
	b.ResetTimer()
	for b.Loop() {
		r := f.query("SELECT count(*) AS n FROM events", nil, 0)
		if r.status != http.StatusOK {
			b.Fatalf("status %d: %s", r.status, r.body)
		}
	}
}

// TestReadOnly: what runs in readOnly cannot write, whatever gets past
// the translator, and the connection is usable after.
func TestReadOnly(t *testing.T) {
	f := newFixture(t)
	conn, err := f.st.DB().Conn(f.ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	before := f.count("SELECT count(*) FROM audit")
	err = readOnly(f.ctx, conn, func() error {
		_, err := conn.ExecContext(f.ctx, "INSERT INTO audit (seq, logged_at, kind, prev, hash) VALUES (99, now(), 'forged', 'p', 'h')")
		return err
	})
	if err == nil || !strings.Contains(err.Error(), "read-only") {
		t.Errorf("a write in readOnly gave %v", err)
	}
	if n := f.count("SELECT count(*) FROM audit"); n != before {
		t.Errorf("the audit table went from %d rows to %d", before, n)
	}
	var n int
	if err := conn.QueryRowContext(f.ctx, "SELECT count(*) FROM events").Scan(&n); err != nil || n != 4 {
		t.Errorf("after readOnly: %d, %v", n, err)
	}
	// A cancelled context still rolls back.
	ctx, cancel := context.WithCancel(f.ctx)
	readOnly(ctx, conn, func() error { cancel(); return nil })
	if _, err := conn.ExecContext(f.ctx, "BEGIN TRANSACTION"); err != nil {
		t.Errorf("the transaction was left open: %v", err)
	}
	conn.ExecContext(f.ctx, "ROLLBACK")
}
