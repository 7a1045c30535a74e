// Package query runs CloudTrail Lake SQL against a locked-down store
// reader: translate, bind parameters as values, execute.
package query

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/trailbook/trailbook/internal/lakesql"
	"github.com/trailbook/trailbook/internal/store"
)

// Prelude is what every connection that runs translated Lake SQL needs
// first: the translator's macros and the store's tag helpers.
func Prelude() []string {
	return append(lakesql.Prelude(), store.Prelude()...)
}

// Open opens the store at path read-only for user SQL, with the
// translator's prelude installed. writable, when not empty, is the one file
// COPY may write (see Parquet).
func Open(ctx context.Context, path, writable string) (*store.Reader, error) {
	return store.OpenReader(ctx, path, store.ReaderOptions{Prelude: Prelude(), WritablePath: writable})
}

// Run translates src from the Lake dialect and runs it with params bound as
// values. The caller closes the rows.
func Run(ctx context.Context, r *store.Reader, src string, params map[string]string) (*sql.Rows, error) {
	q, args, err := prepare(ctx, r, src, params)
	if err != nil {
		return nil, err
	}
	rows, err := r.QueryContext(ctx, q.SQL, args...)
	if err != nil {
		return nil, q.Locate(err)
	}
	return rows, nil
}

// Parquet runs src and writes its result to out as a Parquet file, which
// must be the reader's writable path. It returns the rows written.
func Parquet(ctx context.Context, r *store.Reader, src string, params map[string]string, out string) (int64, error) {
	q, args, err := prepare(ctx, r, src, params)
	if err != nil {
		return 0, err
	}
	res, err := r.ExecContext(ctx, "COPY ("+q.SQL+") TO '"+strings.ReplaceAll(out, "'", "''")+"' (FORMAT parquet)", args...)
	if err != nil {
		return 0, fmt.Errorf("write parquet %s: %w", out, q.Locate(err))
	}
	return res.RowsAffected()
}

func prepare(ctx context.Context, r *store.Reader, src string, params map[string]string) (*lakesql.Query, []any, error) {
	q, err := lakesql.Translate(ctx, r, src, lakesql.Options{Tables: store.Tables(), TaggedEvents: store.TaggedEventsSQL})
	if err != nil {
		return nil, nil, err
	}
	args, err := q.Args(params)
	if err != nil {
		return nil, nil, err
	}
	return q, args, nil
}
