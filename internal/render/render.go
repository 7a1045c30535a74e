// Package render writes query results from DuckDB as an aligned table, CSV,
// a JSON array or JSON lines. The same rows always give the same bytes.
//
// Values are written as follows in every format:
//
//   - TIMESTAMP and its variants: RFC 3339 in UTC, fraction digits only
//     when non-zero (2023-07-10T12:37:50Z, 2023-07-10T12:37:50.12Z).
//   - DATE 2023-07-10, TIME 12:37:50.5, TIMETZ 12:37:50+02:00.
//   - INTERVAL: ISO 8601 duration (P1Y2M3DT4H5M6.5S, PT0S).
//   - DECIMAL: exact, with all its scale digits (1.50).
//   - DOUBLE and FLOAT: shortest round-trip form; NaN, Infinity, -Infinity.
//   - UUID: canonical lower-case form. BLOB: as DuckDB casts it to VARCHAR.
//   - UNION: its member's value.
//   - STRUCT: object in the STRUCT's field order. MAP: object in the map's
//     stored key order (DuckDB keeps insertion order; the store writes keys
//     in the order the CloudTrail record had them), non-string keys in their
//     text form. LIST and ARRAY: array.
//   - JSON: the document as JSON; duckdb-go hands it over decoded, so object
//     keys come out sorted and numbers as float64 (integers past 2^53 lose
//     precision). CAST the column to VARCHAR to keep the text as stored.
//
// In csv and table output nested values and JSON columns are compact JSON
// text.
package render

import (
	"bufio"
	"database/sql"
	"fmt"
	"io"
	"strconv"
)

// Format is an output format.
type Format string

// The output formats.
const (
	// Table is an aligned text table for a terminal, with a row count line.
	// NULL is written NULL; numbers are right-aligned; a cell wider than 60
	// columns is cut to end in "…"; line breaks, tabs, control and
	// bidirectional-override characters are written as escapes (\n, \t,
	// \x1b, \u202e), so that event data cannot drive the terminal. It holds
	// every row's cells in memory to size the columns.
	Table Format = "table"
	// CSV is RFC 4180 CSV with a header row and LF line ends. NULL is an
	// empty field; an empty string is a quoted empty field ("").
	CSV Format = "csv"
	// JSON is one JSON array of objects, one object per line, streamed.
	JSON Format = "json"
	// JSONL is one JSON object per line.
	JSONL Format = "jsonl"
)

// Formats lists the formats in the order help text shows them.
func Formats() []Format { return []Format{Table, CSV, JSON, JSONL} }

// ParseFormat returns the format named s.
func ParseFormat(s string) (Format, error) {
	for _, f := range Formats() {
		if s == string(f) {
			return f, nil
		}
	}
	return "", fmt.Errorf("unknown output format %q (want table, csv, json or jsonl)", s)
}

// Write writes rows to w in format f and returns the number of rows written.
// It reads rows to the end and checks rows.Err, but does not close rows.
// Except for Table, Write's own memory does not grow with the row count;
// note that duckdb-go has DuckDB compute the whole result before the first
// row is read. On error some output may already have been written.
func Write(w io.Writer, f Format, rows *sql.Rows) (int, error) {
	rs, err := newResult(rows)
	if err != nil {
		return 0, err
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	var n int
	switch f {
	case Table:
		n, err = writeTable(bw, rs)
	case CSV:
		n, err = writeCSV(bw, rs)
	case JSON:
		n, err = writeJSON(bw, rs, true)
	case JSONL:
		n, err = writeJSON(bw, rs, false)
	default:
		return 0, fmt.Errorf("unknown output format %q", string(f))
	}
	if ferr := bw.Flush(); err == nil && ferr != nil {
		err = fmt.Errorf("write %s output: %w", f, ferr)
	}
	return n, err
}

// result reads rows into a reused slice of driver values.
type result struct {
	rows  *sql.Rows
	names []string
	types []*colType // nil where the driver's type name did not parse
	vals  []any
	ptrs  []any
	n     int // rows read so far
}

func newResult(rows *sql.Rows) (*result, error) {
	cts, err := rows.ColumnTypes()
	if err != nil {
		return nil, fmt.Errorf("read result columns: %w", err)
	}
	rs := &result{
		rows:  rows,
		names: make([]string, len(cts)),
		types: make([]*colType, len(cts)),
		vals:  make([]any, len(cts)),
		ptrs:  make([]any, len(cts)),
	}
	for i, ct := range cts {
		rs.names[i] = ct.Name()
		// A name that does not parse only costs the hints: values are then
		// written from their Go types alone.
		rs.types[i], _ = parseColType(ct.DatabaseTypeName())
		rs.ptrs[i] = &rs.vals[i]
	}
	return rs, nil
}

// next reads the next row into rs.vals. It returns false at the end of the
// rows or on error.
func (rs *result) next() (bool, error) {
	if !rs.rows.Next() {
		if err := rs.rows.Err(); err != nil {
			return false, fmt.Errorf("read row %d: %w", rs.n+1, err)
		}
		return false, nil
	}
	if err := rs.rows.Scan(rs.ptrs...); err != nil {
		return false, fmt.Errorf("scan row %d: %w", rs.n+1, err)
	}
	rs.n++
	return true, nil
}

// UniqueNames returns names with each repeat suffixed _2, _3 and so on,
// skipping suffixed names that are taken, so that JSON objects keep every
// column: the keys the JSON formats give a row's columns.
func UniqueNames(names []string) []string {
	taken := make(map[string]bool, len(names))
	for _, n := range names {
		taken[n] = true
	}
	seen := make(map[string]bool, len(names))
	out := make([]string, len(names))
	for i, n := range names {
		if !seen[n] {
			seen[n] = true
			out[i] = n
			continue
		}
		for k := 2; ; k++ {
			c := n + "_" + strconv.Itoa(k)
			if !taken[c] {
				taken[c] = true
				out[i] = c
				break
			}
		}
	}
	return out
}
