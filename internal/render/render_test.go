package render

import (
	"bytes"
	"cmp"
	"database/sql"
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	_ "github.com/duckdb/duckdb-go/v2"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// testCase is a testdata/NAME.sql file: setup statements, a "-- query"
// line, and the query whose result is rendered. Its expected output in
// each format is testdata/NAME.FORMAT.
type testCase struct {
	name, setup, query string
}

func loadCases(t *testing.T) []testCase {
	t.Helper()
	files, err := filepath.Glob("testdata/*.sql")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no testdata/*.sql")
	}
	var cases []testCase
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		setup, query, ok := strings.Cut(string(src), "\n-- query\n")
		if !ok {
			t.Fatalf("%s: no -- query line", f)
		}
		cases = append(cases, testCase{strings.TrimSuffix(filepath.Base(f), ".sql"), setup, query})
	}
	return cases
}

// openDB returns a fresh in-memory DuckDB with tc's setup run.
func openDB(t testing.TB, setup string) *sql.DB {
	t.Helper()
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if hasStatement(setup) {
		if _, err := db.Exec(setup); err != nil {
			t.Fatalf("setup: %v", err)
		}
	}
	return db
}

// hasStatement reports whether sql holds more than comments and space.
func hasStatement(sql string) bool {
	for _, line := range strings.Split(sql, "\n") {
		if l := strings.TrimSpace(line); l != "" && !strings.HasPrefix(l, "--") {
			return true
		}
	}
	return false
}

// render runs query and writes its result in format f.
func render(t testing.TB, db *sql.DB, f Format, query string) ([]byte, int) {
	t.Helper()
	rows, err := db.Query(query)
	if err != nil {
		t.Fatalf("query: %v", err)
	}
	defer rows.Close()
	var buf bytes.Buffer
	n, err := Write(&buf, f, rows)
	if err != nil {
		t.Fatalf("write %s: %v", f, err)
	}
	return buf.Bytes(), n
}

func countRows(t *testing.T, db *sql.DB, query string) int {
	t.Helper()
	var n int
	if err := db.QueryRow("SELECT count(*) FROM (" + query + ")").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestGolden(t *testing.T) {
	for _, tc := range loadCases(t) {
		t.Run(tc.name, func(t *testing.T) {
			db := openDB(t, tc.setup)
			want := countRows(t, db, tc.query)
			for _, f := range Formats() {
				got, n := render(t, db, f, tc.query)
				if n != want {
					t.Errorf("%s: Write returned %d rows, want %d", f, n, want)
				}
				again, _ := render(t, db, f, tc.query)
				if !bytes.Equal(got, again) {
					t.Errorf("%s: two runs over the same rows differ", f)
				}
				checkGolden(t, filepath.Join("testdata", tc.name+"."+string(f)), got)
				checkWellFormed(t, f, got, want)
			}
		})
	}
}

func checkGolden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs (run go test -update to accept):\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

// checkWellFormed parses the output with the standard library's readers.
func checkWellFormed(t *testing.T, f Format, out []byte, rows int) {
	t.Helper()
	switch f {
	case CSV:
		r := csv.NewReader(bytes.NewReader(out))
		records, err := r.ReadAll()
		if err != nil {
			t.Fatalf("csv does not parse: %v", err)
		}
		if len(records) != rows+1 {
			t.Errorf("csv has %d records, want header and %d rows", len(records), rows)
		}
	case JSON:
		var v []map[string]any
		if err := json.Unmarshal(out, &v); err != nil {
			t.Fatalf("json does not parse: %v", err)
		}
		if len(v) != rows {
			t.Errorf("json has %d objects, want %d", len(v), rows)
		}
	case JSONL:
		lines := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
		if rows == 0 {
			lines = nil
		}
		if len(lines) != rows {
			t.Errorf("jsonl has %d lines, want %d", len(lines), rows)
		}
		for i, l := range lines {
			var v map[string]any
			if err := json.Unmarshal([]byte(l), &v); err != nil {
				t.Errorf("jsonl line %d does not parse: %v", i+1, err)
			}
		}
	case Table:
		suffix := "rows)\n"
		if rows == 1 {
			suffix = "(1 row)\n"
		}
		if !bytes.HasSuffix(out, []byte(suffix)) {
			t.Errorf("table does not end in a row count")
		}
		if bytes.Contains(out, []byte{0x1b}) {
			t.Errorf("table holds a raw escape character")
		}
	}
}

// TestColumnTypeNames records, per golden query, each column's type name,
// scan type and the Go type of its first non-NULL value as the driver
// reports them, in testdata/NAME.coltypes, and
// checks that every name parses and prints back unchanged, so that STRUCT
// field order and the UUID, DATE and TIME hints are never lost.
func TestColumnTypeNames(t *testing.T) {
	for _, tc := range loadCases(t) {
		db := openDB(t, tc.setup)
		rows, err := db.Query(tc.query)
		if err != nil {
			t.Fatal(err)
		}
		cts, err := rows.ColumnTypes()
		if err != nil {
			t.Fatal(err)
		}
		// The Go type of each column's first non-NULL value: what the driver
		// really hands over, which for JSON differs from the scan type.
		got := make([]string, len(cts))
		vals := make([]any, len(cts))
		ptrs := make([]any, len(cts))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		for rows.Next() {
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			for i, v := range vals {
				if got[i] == "" && v != nil {
					got[i] = fmt.Sprintf("%T", v)
				}
			}
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		rows.Close()
		var report strings.Builder
		for i, ct := range cts {
			name := ct.DatabaseTypeName()
			fmt.Fprintf(&report, "%s\t%s\t%v\t%s\n", ct.Name(), name, ct.ScanType(), cmp.Or(got[i], "-"))
			typ, err := parseColType(name)
			if err != nil {
				t.Errorf("%s.%s: %v", tc.name, ct.Name(), err)
				continue
			}
			if s := typ.String(); s != name {
				t.Errorf("%s.%s: String() = %q, want %q", tc.name, ct.Name(), s, name)
			}
		}
		checkGolden(t, filepath.Join("testdata", tc.name+".coltypes"), []byte(report.String()))
	}
}

// TestBlobMatchesDuckDB checks the BLOB text form against DuckDB's own
// BLOB to VARCHAR cast, byte value by byte value.
func TestBlobMatchesDuckDB(t *testing.T) {
	db := openDB(t, "")
	rows, err := db.Query(`SELECT b, b::VARCHAR FROM (SELECT unhex(printf('%02X', i)) AS b FROM range(256) r(i))`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var b []byte
		var want string
		if err := rows.Scan(&b, &want); err != nil {
			t.Fatal(err)
		}
		if got := string(appendBytes(nil, b, &colType{name: "BLOB"})); got != want {
			t.Errorf("blob %x: got %q, DuckDB %q", b, got, want)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
}

func TestParseFormat(t *testing.T) {
	for _, f := range Formats() {
		got, err := ParseFormat(string(f))
		if err != nil || got != f {
			t.Errorf("ParseFormat(%q) = %q, %v", f, got, err)
		}
	}
	for _, s := range []string{"", "JSON", "xml", "ndjson"} {
		if _, err := ParseFormat(s); err == nil {
			t.Errorf("ParseFormat(%q) succeeded", s)
		}
	}
}

func TestWriteUnknownFormat(t *testing.T) {
	db := openDB(t, "")
	rows, err := db.Query("SELECT 1")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var buf bytes.Buffer
	if _, err := Write(&buf, "xml", rows); err == nil {
		t.Fatal("Write with an unknown format succeeded")
	}
	if buf.Len() != 0 {
		t.Errorf("Write with an unknown format wrote %q", buf.String())
	}
}

type failingWriter struct{}

var errDiskFull = errors.New("disk full")

func (failingWriter) Write([]byte) (int, error) { return 0, errDiskFull }

func TestWriteError(t *testing.T) {
	db := openDB(t, "")
	for _, f := range Formats() {
		rows, err := db.Query("SELECT i, repeat('x', 1000) FROM range(1000) r(i)")
		if err != nil {
			t.Fatal(err)
		}
		n, err := Write(failingWriter{}, f, rows)
		rows.Close()
		if !errors.Is(err, errDiskFull) {
			t.Errorf("%s: err = %v, want disk full", f, err)
		}
		if n >= 1000 {
			t.Errorf("%s: reported %d rows written to a failing writer", f, n)
		}
	}
}

func TestUniqueNames(t *testing.T) {
	got := UniqueNames([]string{"a", "a", "a_2", "b", "a", "a_2"})
	want := []string{"a", "a_3", "a_2", "b", "a_4", "a_2_2"}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("uniqueNames = %q, want %q", got, want)
	}
}
