// Package lakesql translates CloudTrail Lake SQL (the Trino dialect AWS
// documents for event data stores) into DuckDB SQL over Trailbook's events
// table.
//
// Translation parses, never pattern-matches, the query: a small lexer
// handles what DuckDB cannot parse (event data store placeholders such as
// $EDS_ID or <EDS ID>, IDs and ARNs in FROM, ${name} and :name
// placeholders, Trino's array(T) type), DuckDB's json_serialize_sql parses
// the result into a tree, the tree is rewritten (Trino functions, table
// names, UNNEST, timestamp-versus-string comparisons, refusals), and
// json_deserialize_sql prints it back. Every error position refers to the
// text the user wrote.
//
// Some translations call macros that Prelude creates; see Prelude. The
// dialect is described in docs/sql-dialect.md.
package lakesql

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/goccy/go-json"
)

// eventsTable is the DuckDB table every event data store reference reads.
const eventsTable = "events"

// Conn is what the translator needs from DuckDB: it runs
// json_serialize_sql and json_deserialize_sql, reading no table. *sql.DB
// and *sql.Conn satisfy it; the connection need not have run Prelude.
type Conn interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// Query is a translated query. It is immutable and safe to share.
type Query struct {
	// SQL is the DuckDB text. It reads only the events table and CTEs, calls
	// macros from Prelude, and takes its parameters as $1, $2, ... in the
	// order of Params.
	SQL string
	// Params are the placeholder names the query uses, each once, in the
	// order of first use.
	Params []string

	src     string
	offsets []int // offset into src of the first use of each param
}

// Options tunes Translate. The zero value translates for a store holding
// only the events table.
type Options struct {
	// Tables are the names, besides events, that FROM may read as
	// themselves: the store's own tables (rejects, ingested_files, ...).
	// Every other single name means the event data store, as in Lake.
	Tables []string
	// TaggedEvents is a SELECT whose FROM item is the events whose
	// touched resources have a tag satisfying the placeholder condition
	// TagPlaceholder, over rows aliased TagAlias with columns key and
	// value. Lake's resources.tag.key and resources.tag.value conditions
	// are rewritten into it; empty refuses them.
	TaggedEvents string
}

// Translate turns one Lake SQL SELECT statement into DuckDB SQL. Problems
// with the query are returned as *Error with a stable Code and a position
// in src; other errors come from db. It makes two round trips to db (about
// a millisecond in all) and does not run the query. It is safe for
// concurrent use when db is.
func Translate(ctx context.Context, db Conn, src string, opts Options) (*Query, error) {
	s, err := prepare(src)
	if err != nil {
		return nil, err
	}
	var raw string
	if err := db.QueryRowContext(ctx, "SELECT CAST(json_serialize_sql(CAST($1 AS VARCHAR)) AS VARCHAR)", s.text).Scan(&raw); err != nil {
		return nil, fmt.Errorf("parse query: %w", err)
	}
	tree, err := decodeTree(raw)
	if err != nil {
		return nil, fmt.Errorf("parse query: %w", err)
	}
	if b, _ := tree["error"].(bool); b {
		return nil, s.parseError(tree)
	}
	stmts, _ := tree["statements"].([]any)
	if len(stmts) != 1 {
		return nil, errorAt(src, 0, CodeMultipleStatements, "expected one statement, found %d", len(stmts))
	}
	rw := &rewriter{src: s, tables: map[string]bool{}}
	if opts.TaggedEvents != "" {
		rw.tagged = func() node {
			var raw string
			if err := db.QueryRowContext(ctx, "SELECT CAST(json_serialize_sql(CAST($1 AS VARCHAR)) AS VARCHAR)", opts.TaggedEvents).Scan(&raw); err != nil {
				return nil
			}
			tree, err := decodeTree(raw)
			if err != nil {
				return nil
			}
			stmts, _ := tree["statements"].([]any)
			if len(stmts) != 1 {
				return nil
			}
			st, _ := stmts[0].(node)
			sel, _ := st["node"].(node)
			from, _ := sel["from_table"].(node)
			return from
		}
	}
	for _, t := range opts.Tables {
		rw.tables[strings.ToLower(t)] = true
	}
	rw.walk(stmts[0])
	if err := rw.firstError(); err != nil {
		return nil, err
	}
	out, err := json.Marshal(tree)
	if err != nil {
		return nil, fmt.Errorf("encode query tree: %w", err)
	}
	var text string
	if err := db.QueryRowContext(ctx, "SELECT json_deserialize_sql(CAST($1 AS JSON))", string(out)).Scan(&text); err != nil {
		return nil, fmt.Errorf("print translated query: %w", err)
	}
	q := &Query{SQL: text, src: src}
	for _, p := range s.params {
		q.Params = append(q.Params, p.name)
		q.offsets = append(q.offsets, p.offset)
	}
	return q, nil
}

// decodeTree decodes json_serialize_sql output, keeping numbers exact
// (locations use the full uint64 range).
func decodeTree(raw string) (map[string]any, error) {
	dec := json.NewDecoder(strings.NewReader(raw))
	dec.UseNumber()
	var tree map[string]any
	if err := dec.Decode(&tree); err != nil {
		return nil, err
	}
	return tree, nil
}

// parseError turns json_serialize_sql's error object into an Error.
func (s *source) parseError(tree map[string]any) *Error {
	msg, _ := tree["error_message"].(string)
	if strings.Contains(msg, "Only SELECT statements") {
		return errorAt(s.src, 0, CodeNotSelect, "only SELECT queries are allowed, found %s", s.dmlKind())
	}
	if msg == "" {
		msg = "cannot parse query"
	}
	code := CodeSyntax
	if kind, _ := tree["error_type"].(string); kind != "parser" {
		code = CodeUnsupported
	}
	pos, _ := tree["position"].(string)
	off, err := strconv.Atoi(pos)
	if err != nil {
		return &Error{Code: code, Msg: msg}
	}
	return s.errorAt(off, code, "%s", msg)
}

// dmlKind finds the statement keyword after a WITH clause, for the
// refusal of WITH ... INSERT/UPDATE/DELETE.
func (s *source) dmlKind() string {
	sc := scanner{src: s.src}
	depth := 0
	for {
		t, err := sc.next()
		if err != nil || t.kind == tokEOF {
			return "a statement that is not a SELECT"
		}
		switch {
		case t.kind == tokPunct && t.text == "(":
			depth++
		case t.kind == tokPunct && t.text == ")":
			depth--
		case t.kind == tokWord && depth == 0:
			switch k := t.upper(); k {
			case "INSERT", "UPDATE", "DELETE", "MERGE", "COPY":
				return k
			}
		}
	}
}

// Args returns the values for the query's parameters in the order the SQL
// expects them, all as strings: DuckDB casts each to the type its place in
// the query needs. It fails with CodeMissingParam when a used name has no
// value and with CodeUnknownParam when values holds a name the query does
// not use; both errors name every such parameter.
func (q *Query) Args(values map[string]string) ([]any, error) {
	args := make([]any, len(q.Params))
	var missing []string
	missingAt := -1
	for i, name := range q.Params {
		v, ok := values[name]
		if !ok {
			missing = append(missing, name)
			if missingAt < 0 {
				missingAt = q.offsets[i]
			}
			continue
		}
		args[i] = v
	}
	var unknown []string
	for name := range values {
		if !slices.Contains(q.Params, name) {
			unknown = append(unknown, name)
		}
	}
	sort.Strings(unknown)
	var errs []error
	if len(missing) > 0 {
		errs = append(errs, errorAt(q.src, missingAt, CodeMissingParam,
			"no value for parameter %s", strings.Join(missing, ", ")))
	}
	if len(unknown) > 0 {
		errs = append(errs, &Error{Code: CodeUnknownParam,
			Msg: fmt.Sprintf("the query has no parameter %s", strings.Join(unknown, ", "))})
	}
	switch len(errs) {
	case 0:
	case 1:
		return nil, errs[0]
	default:
		return nil, errors.Join(errs...)
	}
	return args, nil
}
