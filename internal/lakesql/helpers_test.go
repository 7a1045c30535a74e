package lakesql

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"os"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	_ "github.com/duckdb/duckdb-go/v2"
	"github.com/trailbook/trailbook/internal/store"
)

// newConn opens an in-memory DuckDB, creates the events table from
// store.EventsDDL, loads testdata/events.sql when withRows is set, runs
// Prelude and then locks the instance down the way the runner does.
func newConn(t testing.TB, withRows bool) *sql.Conn {
	t.Helper()
	ctx := context.Background()
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	stmts := []string{store.EventsDDL}
	if withRows {
		rows, err := os.ReadFile("testdata/events.sql")
		if err != nil {
			t.Fatal(err)
		}
		stmts = append(stmts, string(rows))
	}
	stmts = append(stmts, Prelude()...)
	stmts = append(stmts, "SET enable_external_access = false", "SET lock_configuration = true")
	for _, s := range stmts {
		if _, err := conn.ExecContext(ctx, s); err != nil {
			t.Fatalf("setup: %v\n%s", err, s)
		}
	}
	return conn
}

// runLake translates src, binds params and returns the rows formatted by
// formatValue, one string per row with columns joined by " | ".
func runLake(ctx context.Context, conn *sql.Conn, src string, params map[string]string) (*Query, []string, error) {
	q, err := Translate(ctx, conn, src, Options{})
	if err != nil {
		return nil, nil, err
	}
	args, err := q.Args(params)
	if err != nil {
		return q, nil, err
	}
	rows, err := conn.QueryContext(ctx, q.SQL, args...)
	if err != nil {
		return q, nil, fmt.Errorf("run %s: %w", q.SQL, err)
	}
	defer rows.Close()
	types, err := rows.ColumnTypes()
	if err != nil {
		return q, nil, err
	}
	var out []string
	for rows.Next() {
		vals := make([]any, len(types))
		ptrs := make([]any, len(types))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return q, nil, err
		}
		cols := make([]string, len(vals))
		for i, v := range vals {
			cols[i] = formatValue(v, types[i].DatabaseTypeName())
		}
		out = append(out, strings.Join(cols, " | "))
	}
	return q, out, rows.Err()
}

// formatValue renders a scanned value the way the expected answers in
// testdata are written: NULL, times as "2006-01-02 15:04:05[.fff]" (DATE
// without the clock), lists as [a, b], structs as {k: v} with sorted keys.
func formatValue(v any, dbType string) string {
	switch x := v.(type) {
	case nil:
		return "NULL"
	case string:
		return x
	case []byte:
		return string(x)
	case bool:
		return strconv.FormatBool(x)
	case float64:
		if a := math.Abs(x); a == 0 || a >= 1e-4 && a < 1e15 {
			return strconv.FormatFloat(x, 'f', -1, 64)
		}
		return strconv.FormatFloat(x, 'g', -1, 64)
	case float32:
		return formatValue(float64(x), dbType)
	case time.Time:
		x = x.UTC()
		if dbType == "DATE" {
			return x.Format("2006-01-02")
		}
		s := x.Format("2006-01-02 15:04:05.999999")
		return s
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = formatValue(e, "")
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = k + ": " + formatValue(x[k], "")
		}
		return "{" + strings.Join(parts, ", ") + "}"
	}
	return fmt.Sprint(v)
}
