package lakesql

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/tools/txtar"
)

// FuzzTranslate feeds the translator arbitrary text, seeded from every query
// in testdata. It must never panic, and a successful translation must be a
// single SELECT that DuckDB parses.
func FuzzTranslate(f *testing.F) {
	files, _ := filepath.Glob("testdata/*/*.sql")
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(b))
	}
	for _, name := range []string{"testdata/dialect.txtar", "testdata/refuse.txtar"} {
		ar, err := txtar.ParseFile(name)
		if err != nil {
			f.Fatal(err)
		}
		for _, file := range ar.Files {
			if strings.HasSuffix(file.Name, ".sql") {
				f.Add(string(file.Data))
			}
		}
	}
	conn := newConn(f, false)
	ctx := context.Background()
	f.Fuzz(func(t *testing.T, src string) {
		q, err := Translate(ctx, conn, src, Options{})
		if err != nil {
			return
		}
		var raw string
		if err := conn.QueryRowContext(ctx, "SELECT CAST(json_serialize_sql(CAST($1 AS VARCHAR)) AS VARCHAR)", q.SQL).Scan(&raw); err != nil {
			t.Fatalf("re-parse %q: %v", q.SQL, err)
		}
		tree, err := decodeTree(raw)
		if err != nil {
			t.Fatal(err)
		}
		if b, _ := tree["error"].(bool); b {
			t.Fatalf("translation of %q does not parse: %v\n%s", src, tree["error_message"], q.SQL)
		}
		stmts, _ := tree["statements"].([]any)
		if len(stmts) != 1 {
			t.Fatalf("translation of %q has %d statements: %s", src, len(stmts), q.SQL)
		}
		// What the translation produced must itself pass the refusals: no
		// table function but UNNEST, no forbidden function, no other table.
		rw := &rewriter{src: &source{src: q.SQL, text: q.SQL}}
		rw.walk(stmts[0])
		for _, e := range rw.errs {
			if e.Code == CodeForbiddenFunction || e.Code == CodeForbiddenTable {
				t.Fatalf("translation of %q breaks a refusal: %v\n%s", src, e, q.SQL)
			}
		}
	})
}
