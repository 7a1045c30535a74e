package engine

import (
	"context"
	"database/sql"
	"fmt"
	"math/big"
	"time"

	"github.com/duckdb/duckdb-go/v2"

	"github.com/trailbook/trailbook/internal/cloudtrail"
	"github.com/trailbook/trailbook/internal/store"
)

// Conn is what a StoreSnapshot reads through: a store.Reader, *sql.DB or
// *sql.Conn.
type Conn interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// StoreSnapshot is the Snapshot of a Trailbook store.
type StoreSnapshot struct{ Conn Conn }

var _ Snapshot = StoreSnapshot{}

func (s StoreSnapshot) Query(ctx context.Context, q string, args []any) ([]map[string]any, error) {
	rows, err := s.Conn.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	return Rows(rows)
}

func (s StoreSnapshot) Watermark(ctx context.Context) (int64, error) {
	return store.Watermark(ctx, s.Conn)
}

func (s StoreSnapshot) TagsBefore(ctx context.Context, arn string, ev *cloudtrail.Event) (map[string]string, bool, error) {
	return store.TagsBefore(ctx, s.Conn, arn, ev)
}

func (s StoreSnapshot) CooldownUntil(ctx context.Context, runbook, dedup string) (time.Time, error) {
	var t sql.NullTime
	err := s.Conn.QueryRowContext(ctx, `SELECT max(until) FROM runbook_cooldowns WHERE runbook = ? AND dedup = ?`, runbook, dedup).Scan(&t)
	if err != nil {
		return time.Time{}, fmt.Errorf("read cooldown: %w", err)
	}
	return t.Time.UTC(), nil
}

// Rows reads rows into maps by column name, with values as JSON holds
// them: times as RFC 3339 strings, DuckDB maps as objects, bytes as
// strings, huge integers as numbers.
func Rows(rows *sql.Rows) ([]map[string]any, error) {
	cols, err := rows.Columns()
	if err != nil {
		return nil, err
	}
	out := []map[string]any{}
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		m := make(map[string]any, len(cols))
		for i, c := range cols {
			m[c] = plain(vals[i])
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// plain turns a value DuckDB returned into one JSON can hold.
func plain(x any) any {
	switch x := x.(type) {
	case time.Time:
		return x.UTC().Format(time.RFC3339Nano)
	case []byte:
		return string(x)
	case duckdb.Map:
		m := make(map[string]any, len(x))
		for k, v := range x {
			m[fmt.Sprint(plain(k))] = plain(v)
		}
		return m
	case duckdb.OrderedMap: // how MAP columns arrive
		keys, vals := x.Keys(), x.Values()
		m := make(map[string]any, len(keys))
		for i, k := range keys {
			m[fmt.Sprint(plain(k))] = plain(vals[i])
		}
		return m
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, v := range x {
			m[k] = plain(v)
		}
		return m
	case []any:
		l := make([]any, len(x))
		for i, v := range x {
			l[i] = plain(v)
		}
		return l
	case *big.Int:
		f, _ := new(big.Float).SetInt(x).Float64()
		return f
	case duckdb.UUID:
		return x.String()
	case duckdb.Interval:
		return fmt.Sprintf("%d months %d days %d µs", x.Months, x.Days, x.Micros)
	case int32:
		return int64(x)
	case int16:
		return int64(x)
	case int8:
		return int64(x)
	case uint32:
		return int64(x)
	case float32:
		return float64(x)
	}
	return x
}
