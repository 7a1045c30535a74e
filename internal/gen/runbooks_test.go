package gen_test

import (
	"context"
	"database/sql"
	"testing"

	_ "github.com/duckdb/duckdb-go/v2"

	"github.com/trailbook/trailbook/internal/gen"
	"github.com/trailbook/trailbook/internal/runbook"
)

// TestRunbookVariantsLoad: the synthetic runbooks the benchmarks load
// pass the loader's checks (patterns, SQL, CEL, templates, tests), each
// under its own name.
func TestRunbookVariantsLoad(t *testing.T) {
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	vs := gen.RunbookVariants(1000)
	var files []runbook.File
	for _, v := range vs {
		files = append(files, runbook.File{Name: v.Name + ".yaml", Data: []byte(v.YAML)})
	}
	set, err := runbook.Load(context.Background(), files, runbook.Options{Conn: db})
	if err != nil {
		t.Fatal(err)
	}
	if len(set.Runbooks) != len(vs) || len(vs) < 90 {
		t.Fatalf("%d runbooks loaded of %d variants", len(set.Runbooks), len(vs))
	}
	if n := len(gen.RunbookVariants(10)); n != 10 {
		t.Errorf("RunbookVariants(10) gave %d", n)
	}
}
