package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/trailbook/trailbook/internal/action"
)

// ClaimAction records that a is about to be carried out for the event
// eventID, and reports whether the caller should go on: false when an
// action with the same key was already carried out (or planned, in dry
// run) — the idempotency that keeps retries and restarts from applying an
// action twice. An action claimed before but never finished (a crash
// midway) may be claimed again, up to three attempts in all: every action
// Trailbook takes is safe to repeat.
func (s *Store) ClaimAction(ctx context.Context, a action.Action, eventID string, now time.Time) (bool, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return false, err
	}
	defer tx.Rollback()
	var status string
	var attempts int
	err = tx.QueryRowContext(ctx, `SELECT status, attempts FROM action_runs WHERE "key" = ?`, a.Key).Scan(&status, &attempts)
	switch {
	case err == sql.ErrNoRows:
		if _, err := tx.ExecContext(ctx, `INSERT INTO action_runs ("key", runbook, event_id, idx, kind, enforce, status, attempts, first_at)
			VALUES (?, ?, ?, ?, ?, ?, 'claimed', 1, ?)`, a.Key, a.Runbook, eventID, a.Index, a.Kind, a.Enforce, now); err != nil {
			return false, fmt.Errorf("claim action %s: %w", a.Key, err)
		}
	case err != nil:
		return false, fmt.Errorf("claim action %s: %w", a.Key, err)
	case status != "claimed" && !(status == action.StatusPlanned && a.Enforce):
		return false, nil // done (a dry run may be followed by an enforced one)
	case status == "claimed" && attempts >= 3:
		return false, nil
	default:
		if _, err := tx.ExecContext(ctx, `UPDATE action_runs SET status = 'claimed', attempts = attempts + 1, enforce = ? WHERE "key" = ?`, a.Enforce, a.Key); err != nil {
			return false, fmt.Errorf("claim action %s: %w", a.Key, err)
		}
	}
	return true, tx.Commit()
}

// FinishAction records the outcome of a claimed action.
func (s *Store) FinishAction(ctx context.Context, o action.Outcome, now time.Time) error {
	var undo any
	if len(o.Undo) > 0 {
		undo = string(o.Undo)
	}
	if _, err := s.db.ExecContext(ctx, `UPDATE action_runs SET status = ?, detail = ?, error = ?, undo = ?, done_at = ? WHERE "key" = ?`,
		o.Status, o.Detail, o.Error, undo, now, o.Key); err != nil {
		return fmt.Errorf("finish action %s: %w", o.Key, err)
	}
	return nil
}

// GateState is one change of an opt-out gate's state.
type GateState struct {
	Gate, State, Reason, SetBy  string
	SetAt                       time.Time
	Until                       time.Time // zero: until reopened
	Runbook, EventID, ActionKey string
}

// SetGate records a gate state change.
func (s *Store) SetGate(ctx context.Context, g GateState) error {
	var until any
	if !g.Until.IsZero() {
		until = g.Until
	}
	if _, err := s.db.ExecContext(ctx, `INSERT INTO gate_states VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		g.Gate, g.State, g.Reason, g.SetAt, until, g.SetBy, g.Runbook, g.EventID, g.ActionKey); err != nil {
		return fmt.Errorf("set gate %s: %w", g.Gate, err)
	}
	return nil
}

// StartCooldown keeps runbook from acting for dedup until until.
func (s *Store) StartCooldown(ctx context.Context, runbook, dedup string, until time.Time) error {
	if _, err := s.db.ExecContext(ctx, `INSERT INTO runbook_cooldowns VALUES (?, ?, ?)`, runbook, dedup, until); err != nil {
		return fmt.Errorf("start cooldown of %s: %w", runbook, err)
	}
	return nil
}
