package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// AuditRow is one row of the audit table: the store's copy of one entry of
// the audit log, whose format and hash chain package audit owns. The
// optional text columns (Runbook, Gate, EventID, ActionKey, Decision) are
// stored as NULL when empty and read back as empty; Data is the entry's
// detail as JSON text, nil for NULL, kept byte for byte.
type AuditRow struct {
	Seq       int64
	LoggedAt  time.Time // TIMESTAMP: microseconds, UTC
	Kind      string
	Runbook   string
	Gate      string
	EventID   string
	ActionKey string
	Decision  string
	Data      json.RawMessage
	Prev      string
	Hash      string
}

// AppendAudit inserts rows into the audit table in one transaction. The
// rows must continue the table: the first one's Seq is one more than the
// highest stored (1 in an empty table) and each next one one more again;
// otherwise nothing is inserted and the error says which seq was expected.
// It does not take the store's writer slot: audit rows are small inserts
// into their own table, independent of the event tables.
func (s *Store) AppendAudit(ctx context.Context, rows []AuditRow) error {
	if len(rows) == 0 {
		return nil
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("append audit rows: %w", err)
	}
	defer tx.Rollback()
	var last int64
	if err := tx.QueryRowContext(ctx, `SELECT coalesce(max(seq), 0) FROM audit`).Scan(&last); err != nil {
		return fmt.Errorf("append audit rows: %w", err)
	}
	for i, r := range rows {
		if r.Seq != last+int64(i)+1 {
			return fmt.Errorf("append audit rows: row %d has seq %d, want %d", i, r.Seq, last+int64(i)+1)
		}
	}
	// One statement for the batch: DuckDB pays per statement, not per row.
	var q strings.Builder
	q.WriteString(`INSERT INTO audit (seq, logged_at, kind, runbook, gate, event_id, action_key, decision, data, prev, hash) VALUES `)
	args := make([]any, 0, 11*len(rows))
	for i, r := range rows {
		if i > 0 {
			q.WriteByte(',')
		}
		q.WriteString(`(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
		var data any
		if r.Data != nil {
			data = string(r.Data)
		}
		args = append(args, r.Seq, r.LoggedAt.UTC(), r.Kind,
			nullable(r.Runbook), nullable(r.Gate), nullable(r.EventID), nullable(r.ActionKey), nullable(r.Decision),
			data, r.Prev, r.Hash)
	}
	if _, err := tx.ExecContext(ctx, q.String(), args...); err != nil {
		return fmt.Errorf("append audit rows %d to %d: %w", rows[0].Seq, rows[len(rows)-1].Seq, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("append audit rows: %w", err)
	}
	return nil
}

// nullable maps "" to SQL NULL.
func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// LastAudit returns the seq and hash of the audit table's last row: 0 and
// "" when the table is empty.
func (s *Store) LastAudit(ctx context.Context) (seq int64, hash string, err error) {
	err = s.db.QueryRowContext(ctx, `SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1`).Scan(&seq, &hash)
	if err == sql.ErrNoRows {
		return 0, "", nil
	}
	if err != nil {
		return 0, "", fmt.Errorf("read last audit row: %w", err)
	}
	return seq, hash, nil
}

// AuditRows returns the whole audit table ordered by seq, rows with the
// same seq in the order they were inserted.
func (s *Store) AuditRows(ctx context.Context) ([]AuditRow, error) {
	return auditRows(ctx, s.db)
}

// AuditRows returns the whole audit table ordered by seq, rows with the
// same seq in the order they were inserted. A store written before the
// table existed (schema version 3) has no copy of the log: AuditRows
// returns nil, where an empty table gives an empty, non-nil slice.
func (r *Reader) AuditRows(ctx context.Context) ([]AuditRow, error) {
	var n int
	if err := r.db.QueryRowContext(ctx, `SELECT count(*) FROM information_schema.tables WHERE table_name = 'audit'`).Scan(&n); err != nil {
		return nil, fmt.Errorf("read audit rows: %w", err)
	}
	if n == 0 {
		return nil, nil
	}
	return auditRows(ctx, r.db)
}

func auditRows(ctx context.Context, db *sql.DB) ([]AuditRow, error) {
	rows, err := db.QueryContext(ctx, `SELECT seq, logged_at, kind, runbook, gate, event_id, action_key, decision,
		CAST(data AS VARCHAR), prev, hash FROM audit ORDER BY seq, rowid`)
	if err != nil {
		return nil, fmt.Errorf("read audit rows: %w", err)
	}
	defer rows.Close()
	out := []AuditRow{}
	for rows.Next() {
		var r AuditRow
		var runbook, gate, eventID, actionKey, decision, data sql.NullString
		if err := rows.Scan(&r.Seq, &r.LoggedAt, &r.Kind, &runbook, &gate, &eventID, &actionKey, &decision, &data, &r.Prev, &r.Hash); err != nil {
			return nil, fmt.Errorf("read audit rows: %w", err)
		}
		r.LoggedAt = r.LoggedAt.UTC()
		r.Runbook, r.Gate, r.EventID, r.ActionKey, r.Decision = runbook.String, gate.String, eventID.String, actionKey.String, decision.String
		if data.Valid {
			r.Data = json.RawMessage(data.String)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read audit rows: %w", err)
	}
	return out, nil
}
