package server

import (
	"bytes"
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/duckdb/duckdb-go/v2"

	"github.com/trailbook/trailbook/internal/lakesql"
	"github.com/trailbook/trailbook/internal/query"
	"github.com/trailbook/trailbook/internal/render"
	"github.com/trailbook/trailbook/internal/store"
)

// queryRequest is the body of POST /v1/query.
type queryRequest struct {
	SQL     string            `json:"sql"`
	Params  map[string]string `json:"params"`
	MaxRows int               `json:"max_rows"`
}

// query runs CloudTrail Lake SQL as `trailbook query` does: translated,
// refused unless it is one SELECT over the store's tables, its params
// bound as values. It answers the rows as `trailbook query --format json`
// writes them, at most MaxRows (or the request's max_rows) of them, with
// truncated set when there were more.
func (s *Server) query(w http.ResponseWriter, r *http.Request, _ *Token) error {
	if err := noParams(r); err != nil {
		return err
	}
	var req queryRequest
	if err := decodeBody(w, r, maxJSONBody, &req); err != nil {
		return err
	}
	limit := s.deps.MaxRows
	switch {
	case strings.TrimSpace(req.SQL) == "":
		return errorf(http.StatusBadRequest, CodeBadRequest, "sql is empty: give one CloudTrail Lake SELECT")
	case req.MaxRows < 0:
		return errorf(http.StatusBadRequest, CodeBadRequest, "max_rows %d: want a positive number", req.MaxRows)
	case req.MaxRows > 0:
		limit = min(limit, req.MaxRows)
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.deps.QueryTimeout)
	defer cancel()
	res, err := s.runQuery(ctx, req.SQL, req.Params, limit)
	if err != nil {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return errorf(http.StatusServiceUnavailable, CodeTimeout, "the query ran past the timeout of %s and was cancelled", s.deps.QueryTimeout)
		}
		return err
	}
	writeRaw(w, http.StatusOK, res)
	return nil
}

// runQuery runs src on a connection of the store's pool prepared for
// translated SQL, in a read-only transaction, and returns the response
// body.
func (s *Server) runQuery(ctx context.Context, src string, params map[string]string, limit int) ([]byte, error) {
	select {
	case s.queries <- struct{}{}:
		defer func() { <-s.queries }()
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	conn, err := s.deps.Store.DB().Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("query: %w", err)
	}
	defer conn.Close()
	if err := s.prepared.prepare(ctx, conn); err != nil {
		return nil, err
	}
	var body []byte
	err = readOnly(ctx, conn, func() error {
		q, err := lakesql.Translate(ctx, conn, src, lakesql.Options{Tables: store.Tables(), TaggedEvents: store.TaggedEventsSQL})
		if err != nil {
			return refused(err)
		}
		args, err := q.Args(params)
		if err != nil {
			return refused(err)
		}
		rows, err := conn.QueryContext(ctx, q.SQL, args...)
		if err != nil {
			return sqlError(q.Locate(err))
		}
		defer rows.Close()
		cols, err := rows.Columns()
		if err != nil {
			return err
		}
		lw := &lineWriter{max: limit}
		n, err := render.Write(lw, render.JSONL, rows)
		truncated := errors.As(err, new(errEnough))
		if err != nil && !truncated {
			return sqlError(q.Locate(err))
		}
		if truncated {
			n = limit
		}
		body, err = queryBody(render.UniqueNames(cols), lw.lines, n, truncated)
		return err
	})
	return body, err
}

// readOnly runs fn in a read-only transaction on conn and rolls it back
// after. The store's connections can write, and user SQL runs on them:
// the translator refuses everything but a SELECT and denies the functions
// it knows to have effects, and the transaction fails any write it lets
// through. (The CLI's connection is read-only and locked instead.) A
// connection that cannot roll back leaves the pool.
func readOnly(ctx context.Context, conn *sql.Conn, fn func() error) error {
	if _, err := conn.ExecContext(ctx, "BEGIN TRANSACTION READ ONLY"); err != nil {
		return fmt.Errorf("begin a read-only transaction: %w", err)
	}
	defer func() {
		if _, err := conn.ExecContext(context.WithoutCancel(ctx), "ROLLBACK"); err != nil {
			conn.Raw(func(any) error { return driver.ErrBadConn })
		}
	}()
	return fn()
}

// refused is the translator's *Error as the client's, with its code and
// place; any other error is the server's.
func refused(err error) error {
	var le *lakesql.Error
	if errors.As(err, &le) {
		return &Error{Status: http.StatusBadRequest, Code: le.Code, Message: le.Msg, Line: le.Line, Col: le.Col, Offset: le.Offset}
	}
	return err
}

// sqlError is an error running a translated query as the client's: DuckDB
// refused or failed the query (code query, placed when Locate could), but
// for a lost connection, which is the server's.
func sqlError(err error) error {
	var le *lakesql.Error
	switch {
	case errors.As(err, &le):
		return refused(err)
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded),
		errors.Is(err, sql.ErrConnDone), errors.Is(err, driver.ErrBadConn):
		return err
	}
	return errorf(http.StatusBadRequest, lakesql.CodeQuery, "%s", strings.TrimSpace(err.Error()))
}

// queryBody is the response: columns, rows (each a JSON object from
// render), row_count and truncated.
func queryBody(cols []string, lines []byte, n int, truncated bool) ([]byte, error) {
	c, err := json.Marshal(cols)
	if err != nil {
		return nil, err
	}
	b := make([]byte, 0, len(lines)+len(c)+64)
	b = append(b, `{"columns":`...)
	b = append(b, c...)
	b = append(b, `,"rows":[`...)
	for i, line := range bytes.Split(bytes.TrimSuffix(lines, []byte("\n")), []byte("\n")) {
		if len(line) == 0 {
			break // no rows
		}
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, line...)
	}
	b = append(b, `],"row_count":`...)
	b = strconv.AppendInt(b, int64(n), 10)
	b = append(b, `,"truncated":`...)
	b = strconv.AppendBool(b, truncated)
	return append(b, "}\n"...), nil
}

// errEnough stops render.Write once the row cap is reached.
type errEnough struct{}

func (errEnough) Error() string { return "row cap reached" }

// lineWriter keeps the first max lines written to it (JSONL rows: render
// escapes every line break inside a value) and fails with errEnough at
// the first byte of the line after them, which shows there was one.
type lineWriter struct {
	max   int
	n     int // complete lines kept
	lines []byte
}

func (w *lineWriter) Write(p []byte) (int, error) {
	for i := 0; i < len(p); {
		if w.n == w.max {
			return i, errEnough{}
		}
		j := bytes.IndexByte(p[i:], '\n')
		if j < 0 {
			w.lines = append(w.lines, p[i:]...)
			return len(p), nil
		}
		w.lines = append(w.lines, p[i:i+j+1]...)
		w.n++
		i += j + 1
	}
	return len(p), nil
}

// preparedConns remembers which connections of the store's pool hold the
// prelude's macros, so that each is prepared once (30 statements, 12 ms).
// The macros are TEMP: they stay on a connection when it goes back to the
// pool, where they hide nothing (lake_* names, and the store's tag_at and
// tags_at), and running them again replaces them. It is safe for
// concurrent use.
type preparedConns struct {
	mu sync.Mutex
	// conns are the driver's connections prepared. The pool closes some
	// and opens others: past maxPrepared, the set starts afresh, and a
	// connection still open is prepared again when next used.
	conns map[*duckdb.Conn]bool
}

const maxPrepared = 64

// prepare runs the prelude on conn unless it holds it already.
func (p *preparedConns) prepare(ctx context.Context, conn *sql.Conn) error {
	var dc *duckdb.Conn
	conn.Raw(func(c any) error {
		dc, _ = c.(*duckdb.Conn)
		return nil
	})
	p.mu.Lock()
	done := dc != nil && p.conns[dc]
	p.mu.Unlock()
	if done {
		return nil
	}
	for _, stmt := range query.Prelude() {
		if _, err := conn.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("prepare query connection: %w", err)
		}
	}
	if dc == nil {
		return nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.conns == nil || len(p.conns) >= maxPrepared {
		p.conns = map[*duckdb.Conn]bool{}
	}
	p.conns[dc] = true
	return nil
}
