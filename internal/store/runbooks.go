package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/trailbook/trailbook/internal/action"
)

// MaxAttempts is how many times an action may be claimed without being
// finished before it is given up.
const MaxAttempts = 20

// Claim is one action to claim, for the event eventID.
type Claim struct {
	Action  action.Action
	EventID string
}

// ClaimActions records that each claim's action is about to be carried
// out for its event, in one transaction (all claimed or, on error, none),
// and reports for each whether the caller should go on, ok[i] for
// claims[i]: false when an action with the same key was already carried
// out (or planned, in dry run) — the idempotency that keeps retries and restarts from applying an
// action twice. An action claimed before but never finished (a crash
// midway) may be claimed again, up to MaxAttempts claims in all: every
// action Trailbook takes is safe to repeat. Claims are made a batch at a
// time, so a crash counts against every action of its batch, not only the
// one being carried out; the limit is a guard against a crash loop, not a
// retry policy (an executor's failure is an outcome, never retried).
func (s *Store) ClaimActions(ctx context.Context, claims []Claim, now time.Time) (ok []bool, err error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	ok = make([]bool, len(claims))
	// New keys, the usual case, in one statement: it returns the keys it
	// inserted; the ledger already held the others.
	first := map[string]int{} // key -> its first claim; the same key again in a batch is not claimed twice
	var rows []Claimed
	for i, c := range claims {
		a := c.Action
		if _, seen := first[a.Key]; seen {
			continue
		}
		first[a.Key] = i
		rows = append(rows, Claimed{Key: a.Key, Runbook: a.Runbook, EventID: c.EventID, Index: a.Index, Kind: a.Kind, Enforce: a.Enforce, Attempts: 1, At: now})
	}
	if len(rows) == 0 {
		return ok, nil
	}
	b, err := json.Marshal(rows)
	if err != nil {
		return nil, err
	}
	res, err := tx.QueryContext(ctx, insertClaims+` ON CONFLICT DO NOTHING RETURNING "key"`, string(b))
	if err != nil {
		return nil, fmt.Errorf("claim actions: %w", err)
	}
	inserted := map[string]bool{}
	for res.Next() {
		var k string
		if err := res.Scan(&k); err != nil {
			res.Close()
			return nil, fmt.Errorf("claim actions: %w", err)
		}
		inserted[k] = true
	}
	res.Close()
	if err := res.Err(); err != nil {
		return nil, fmt.Errorf("claim actions: %w", err)
	}
	for k, i := range first {
		if inserted[k] {
			ok[i] = true
			continue
		}
		// Held before: carried out (not again, unless planned in a dry
		// run and now enforced), or claimed and never finished (again,
		// up to MaxAttempts).
		var status string
		var attempts int
		if err := tx.QueryRowContext(ctx, `SELECT status, attempts FROM action_runs WHERE "key" = ?`, k).Scan(&status, &attempts); err != nil {
			return nil, fmt.Errorf("claim action %s: %w", k, err)
		}
		a := claims[i].Action
		if MayClaimAgain(status, attempts, a.Enforce) {
			if _, err := tx.ExecContext(ctx, `UPDATE action_runs SET status = 'claimed', attempts = attempts + 1, enforce = ? WHERE "key" = ?`, a.Enforce, k); err != nil {
				return nil, fmt.Errorf("claim action %s: %w", k, err)
			}
			ok[i] = true
		}
	}
	return ok, tx.Commit()
}

// MayClaimAgain reports whether an action the ledger holds with status
// and attempts may be claimed again, enforced or not: not when it was
// carried out (unless it was planned in a dry run and is now enforced),
// and when it was claimed and never finished (a crash midway) only up to
// MaxAttempts claims in all.
func MayClaimAgain(status string, attempts int, enforce bool) bool {
	switch {
	case status != "claimed":
		return status == action.StatusPlanned && enforce
	default:
		return attempts < MaxAttempts
	}
}

// LedgerState is what the ledger holds of one action.
type LedgerState struct {
	Status   string
	Attempts int
}

// LedgerStates reads the ledger rows of keys, in one query; keys it lacks
// are absent from the map.
func (s *Store) LedgerStates(ctx context.Context, keys []string) (map[string]LedgerState, error) {
	out := map[string]LedgerState{}
	if len(keys) == 0 {
		return out, nil
	}
	b, err := json.Marshal(keys)
	if err != nil {
		return nil, err
	}
	rows, err := s.db.QueryContext(ctx, `SELECT "key", status, attempts FROM action_runs
		WHERE "key" IN (SELECT unnest(json_transform(?::JSON, '["VARCHAR"]')))`, string(b))
	if err != nil {
		return nil, fmt.Errorf("read the action ledger: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var k string
		var st LedgerState
		if err := rows.Scan(&k, &st.Status, &st.Attempts); err != nil {
			return nil, fmt.Errorf("read the action ledger: %w", err)
		}
		out[k] = st
	}
	return out, rows.Err()
}

// GateState is one change of an opt-out gate's state.
type GateState struct {
	Gate, State, Reason, SetBy  string
	SetAt                       time.Time
	Until                       time.Time // zero: until reopened
	Runbook, EventID, ActionKey string
}

// SetGate records a gate state change. One with an ActionKey is recorded
// once: setting it again changes nothing.
func (s *Store) SetGate(ctx context.Context, g GateState) error {
	var until any
	if !g.Until.IsZero() {
		until = g.Until
	}
	// A runbook's action sets its state once: carried out again (a crash
	// between doing it and recording it in the ledger), it finds its row.
	if _, err := s.db.ExecContext(ctx, `INSERT INTO gate_states SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?
		WHERE ? = '' OR NOT EXISTS (SELECT 1 FROM gate_states WHERE action_key = ?)`,
		g.Gate, g.State, g.Reason, g.SetAt, until, g.SetBy, g.Runbook, g.EventID, g.ActionKey, g.ActionKey, g.ActionKey); err != nil {
		return fmt.Errorf("set gate %s: %w", g.Gate, err)
	}
	return nil
}

// Deferred is an evaluation put off to the end of a schema rule's grace.
type Deferred struct {
	Runbook, EventKey, EventID string
	Record                     []byte // the triggering CloudTrail record
	RecheckAt                  time.Time
}

// DueDeferred returns the deferred evaluations not yet done whose time
// has come by now, oldest first.
func (s *Store) DueDeferred(ctx context.Context, now time.Time) ([]Deferred, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT runbook, event_key, coalesce(event_id, ''), CAST(record AS VARCHAR), recheck_at
		FROM deferred_runs WHERE done_at IS NULL AND recheck_at <= ? ORDER BY recheck_at, runbook, event_key`, now)
	if err != nil {
		return nil, fmt.Errorf("read deferred runs: %w", err)
	}
	defer rows.Close()
	var out []Deferred
	for rows.Next() {
		var d Deferred
		var rec string
		if err := rows.Scan(&d.Runbook, &d.EventKey, &d.EventID, &rec, &d.RecheckAt); err != nil {
			return nil, fmt.Errorf("read deferred runs: %w", err)
		}
		d.Record, d.RecheckAt = []byte(rec), d.RecheckAt.UTC()
		out = append(out, d)
	}
	return out, rows.Err()
}

// PendingDeferred is, for each runbook with deferred evaluations not yet
// done, when the first of them is due.
func (s *Store) PendingDeferred(ctx context.Context) (map[string]time.Time, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT runbook, min(recheck_at) FROM deferred_runs WHERE done_at IS NULL GROUP BY runbook`)
	if err != nil {
		return nil, fmt.Errorf("read deferred runs: %w", err)
	}
	defer rows.Close()
	out := map[string]time.Time{}
	for rows.Next() {
		var name string
		var at time.Time
		if err := rows.Scan(&name, &at); err != nil {
			return nil, fmt.Errorf("read deferred runs: %w", err)
		}
		out[name] = at.UTC()
	}
	return out, rows.Err()
}

// FinishDeferred marks a deferred evaluation done.
func (s *Store) FinishDeferred(ctx context.Context, runbook, eventKey string, now time.Time) error {
	if _, err := s.db.ExecContext(ctx, `UPDATE deferred_runs SET done_at = ? WHERE runbook = ? AND event_key = ?`, now, runbook, eventKey); err != nil {
		return fmt.Errorf("finish deferred %s: %w", runbook, err)
	}
	return nil
}

// GateStates returns the state changes of gate (every gate when gate is
// ""), in the order they were set.
func (s *Store) GateStates(ctx context.Context, gate string) ([]GateState, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT gate, state, reason, set_at, until, set_by, coalesce(runbook, ''), coalesce(event_id, ''), coalesce(action_key, '')
		FROM gate_states WHERE ? = '' OR gate = ? ORDER BY set_at, rowid`, gate, gate)
	if err != nil {
		return nil, fmt.Errorf("read gate states: %w", err)
	}
	defer rows.Close()
	var out []GateState
	for rows.Next() {
		var g GateState
		var until sql.NullTime
		if err := rows.Scan(&g.Gate, &g.State, &g.Reason, &g.SetAt, &until, &g.SetBy, &g.Runbook, &g.EventID, &g.ActionKey); err != nil {
			return nil, fmt.Errorf("read gate states: %w", err)
		}
		g.SetAt = g.SetAt.UTC()
		if until.Valid {
			g.Until = until.Time.UTC()
		}
		out = append(out, g)
	}
	return out, rows.Err()
}

// CachedGateCheck returns the result stored under gate and key when it
// was computed at watermark, and when.
func (s *Store) CachedGateCheck(ctx context.Context, gate, key string, watermark int64) (result []byte, at time.Time, ok bool, err error) {
	err = s.db.QueryRowContext(ctx, `SELECT CAST(result AS VARCHAR), checked_at FROM gate_check_cache WHERE gate = ? AND "key" = ? AND watermark = ?`,
		gate, key, watermark).Scan(&result, &at)
	switch {
	case err == sql.ErrNoRows:
		return nil, time.Time{}, false, nil
	case err != nil:
		return nil, time.Time{}, false, fmt.Errorf("read gate cache: %w", err)
	}
	return result, at.UTC(), true, nil
}

// PutGateCheck stores result under gate and key, computed at watermark
// and time at, in place of what was there.
func (s *Store) PutGateCheck(ctx context.Context, gate, key string, watermark int64, at time.Time, result []byte) error {
	if _, err := s.db.ExecContext(ctx, `INSERT INTO gate_check_cache VALUES (?, ?, ?, ?, ?)
		ON CONFLICT DO UPDATE SET watermark = excluded.watermark, checked_at = excluded.checked_at, result = excluded.result`,
		gate, key, watermark, at, string(result)); err != nil {
		return fmt.Errorf("write gate cache: %w", err)
	}
	return nil
}

// Pending is a stored event waiting for the daemon's evaluation.
type Pending struct {
	Seq    int64  // its place in the queue
	Record []byte // the CloudTrail record, as stored in eventJson
}

// PendingThrough is the last place taken in the evaluation queue; zero
// when it is empty.
func (s *Store) PendingThrough(ctx context.Context) (int64, error) {
	var seq int64
	if err := s.db.QueryRowContext(ctx, `SELECT coalesce(max(seq), 0) FROM pending_evaluations`).Scan(&seq); err != nil {
		return 0, fmt.Errorf("read pending evaluations: %w", err)
	}
	return seq, nil
}

// PendingEvaluations returns up to limit queued events placed after
// after and up to through, in queue order (QueueEvaluations), with their
// records read from the events table: what a restarted daemon has left
// to evaluate.
func (s *Store) PendingEvaluations(ctx context.Context, after, through int64, limit int) ([]Pending, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT p.seq, e.eventJson FROM pending_evaluations p JOIN event_store e USING (key_hi, key_lo)
		WHERE p.seq > ? AND p.seq <= ? ORDER BY p.seq LIMIT ?`, after, through, limit)
	if err != nil {
		return nil, fmt.Errorf("read pending evaluations: %w", err)
	}
	defer rows.Close()
	var out []Pending
	for rows.Next() {
		var p Pending
		var rec string
		if err := rows.Scan(&p.Seq, &rec); err != nil {
			return nil, fmt.Errorf("read pending evaluations: %w", err)
		}
		p.Record = []byte(rec)
		out = append(out, p)
	}
	return out, rows.Err()
}

// PassEnd is what an evaluation pass records once its actions are
// carried out.
type PassEnd struct {
	// Claims are claims made elsewhere first (the daemon's journal), to
	// record as claimed before the outcomes: a key not in the ledger is
	// added; one the ledger holds as claimed (or planned, when the claim
	// enforces) takes the claim's attempts; one carried out is left alone
	// (the claim was recorded before, and then its outcome).
	Claims    []Claimed
	Outcomes  []action.Outcome // of the actions claimed and carried out
	Cooldowns []Cooldown       // started by the pass's runs
	// Deferred are evaluations put off. Deferring the same runbook and
	// event again (the event seen twice, a backfill run again) sets it
	// pending anew: evaluating it again is harmless, since its actions
	// are claimed by key and apply once.
	Deferred []Deferred
	// DoneThrough, when above zero, takes the queued evaluations up to it
	// off the queue.
	DoneThrough int64
}

// insertClaims inserts the Claimed rows of its one parameter, a JSON
// array, into the ledger as claimed; the caller adds what a key the
// ledger holds does.
const insertClaims = `INSERT INTO action_runs ("key", runbook, event_id, idx, kind, enforce, status, attempts, first_at)
	SELECT r."key", r.runbook, r.event_id, r.idx, r.kind, r.enforce, 'claimed', r.attempts, r."at"
	FROM (SELECT unnest(json_transform(?::JSON, '[{"key":"VARCHAR","runbook":"VARCHAR","event_id":"VARCHAR","idx":"INTEGER","kind":"VARCHAR","enforce":"BOOLEAN","attempts":"INTEGER","at":"TIMESTAMP"}]')) AS r)`

// Claimed is one claim of an action: the ledger row ClaimActions writes.
type Claimed struct {
	Key      string    `json:"key"`
	Runbook  string    `json:"runbook"`
	EventID  string    `json:"event_id"`
	Index    int       `json:"idx"`
	Kind     string    `json:"kind"`
	Enforce  bool      `json:"enforce"`
	Attempts int       `json:"attempts"`
	At       time.Time `json:"at"`
}

// Cooldown is a runbook's cooldown for one dedup value, started by a run
// that acted.
type Cooldown struct {
	Runbook, Dedup string
	Until          time.Time
}

// EndPass records e in one transaction: the actions' outcomes (at now),
// the cooldowns and deferrals, and the evaluations done. A crash before
// it leaves the actions claimed and the evaluations queued, to be done
// again (each action's claim lets it be carried out again, up to
// MaxAttempts).
func (s *Store) EndPass(ctx context.Context, e PassEnd, now time.Time) error {
	if len(e.Claims) == 0 && len(e.Outcomes) == 0 && len(e.Cooldowns) == 0 && len(e.Deferred) == 0 && e.DoneThrough <= 0 {
		return nil
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if len(e.Claims) > 0 {
		// The last claim of a key counts (one statement may not touch a
		// row twice).
		last := map[string]int{}
		for i, c := range e.Claims {
			last[c.Key] = i
		}
		rows := make([]Claimed, 0, len(last))
		for i, c := range e.Claims {
			if last[c.Key] == i {
				rows = append(rows, c)
			}
		}
		b, err := json.Marshal(rows)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, insertClaims+` ON CONFLICT ("key") DO UPDATE SET status = 'claimed', attempts = excluded.attempts, enforce = excluded.enforce
			WHERE action_runs.status = 'claimed' OR (action_runs.status = 'planned' AND excluded.enforce)`, string(b)); err != nil {
			return fmt.Errorf("record claims: %w", err)
		}
	}
	if len(e.Outcomes) > 0 {
		type row struct {
			Key    string  `json:"key"`
			Status string  `json:"status"`
			Detail string  `json:"detail"`
			Error  string  `json:"error"`
			Undo   *string `json:"undo"`
		}
		rows := make([]row, len(e.Outcomes))
		for i, o := range e.Outcomes {
			rows[i] = row{Key: o.Key, Status: o.Status, Detail: o.Detail, Error: o.Error}
			if len(o.Undo) > 0 {
				u := string(o.Undo)
				rows[i].Undo = &u
			}
		}
		b, err := json.Marshal(rows)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE action_runs SET status = o.status, detail = o.detail, error = o.error, undo = o.undo::JSON, done_at = $2
			FROM (SELECT unnest(r) FROM (SELECT unnest(json_transform($1::JSON, '[{"key":"VARCHAR","status":"VARCHAR","detail":"VARCHAR","error":"VARCHAR","undo":"VARCHAR"}]')) AS r)) o
			WHERE action_runs."key" = o."key"`, string(b), now); err != nil {
			return fmt.Errorf("finish actions: %w", err)
		}
	}
	for _, c := range e.Cooldowns {
		if _, err := tx.ExecContext(ctx, `INSERT INTO runbook_cooldowns VALUES (?, ?, ?)`, c.Runbook, c.Dedup, c.Until); err != nil {
			return fmt.Errorf("start cooldown of %s: %w", c.Runbook, err)
		}
	}
	for _, d := range e.Deferred {
		if _, err := tx.ExecContext(ctx, `INSERT INTO deferred_runs VALUES (?, ?, ?, ?, ?, NULL)
			ON CONFLICT DO UPDATE SET recheck_at = excluded.recheck_at, done_at = NULL`,
			d.Runbook, d.EventKey, d.EventID, string(d.Record), d.RecheckAt); err != nil {
			return fmt.Errorf("defer %s: %w", d.Runbook, err)
		}
	}
	if e.DoneThrough > 0 {
		if _, err := tx.ExecContext(ctx, `DELETE FROM pending_evaluations WHERE seq <= ?`, e.DoneThrough); err != nil {
			return fmt.Errorf("finish evaluations: %w", err)
		}
	}
	return tx.Commit()
}
