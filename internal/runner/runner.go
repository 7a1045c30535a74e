// Package runner carries out the engine's plans: each run goes to the
// audit log, and each action is claimed in the store's ledger (so that it
// is applied once however often its event is seen), handed to the
// executor of its kind when it is enforced, and its outcome recorded and
// audited.
package runner

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	json "github.com/goccy/go-json"

	"github.com/trailbook/trailbook/internal/action"
	"github.com/trailbook/trailbook/internal/audit"
	"github.com/trailbook/trailbook/internal/engine"
	"github.com/trailbook/trailbook/internal/store"
)

// Runner applies plans. It is safe for concurrent use when its parts are.
type Runner struct {
	Store *store.Store
	// Ledger, when set, claims the actions and records each pass in
	// place of Store (the daemon's journal); Store still serves the
	// executors.
	Ledger Ledger
	Audit  *audit.Log
	// Executors carry out enforced actions, by kind. An enforced action of
	// a kind without one fails.
	Executors map[string]action.Executor
	// Alerts, when set, sends alerts in dry-run runs too: telling people
	// touches nothing. A backfill leaves it off.
	Alerts bool
	Now    func() time.Time
	Logger *slog.Logger
	// Observe, when set, is told of every action carried out or skipped,
	// with how long it took (metrics).
	Observe func(a action.Action, o action.Outcome, took time.Duration)
}

// Ledger is where a Runner claims actions before carrying them out and
// records what a pass did: *store.Store does both in the store.
type Ledger interface {
	ClaimActions(ctx context.Context, claims []store.Claim, now time.Time) ([]bool, error)
	EndPass(ctx context.Context, e store.PassEnd, now time.Time) error
}

func (r *Runner) ledger() Ledger {
	if r.Ledger != nil {
		return r.Ledger
	}
	return r.Store
}

// Apply audits plan's runs and carries out their actions, returning each
// action's outcome in order. It stops at the first store or audit error;
// an action that fails is an outcome, not an error.
func (r *Runner) Apply(ctx context.Context, plan engine.Plan) ([]action.Outcome, error) {
	outs, err := r.ApplyAll(ctx, []engine.Plan{plan})
	if len(outs) == 0 {
		return nil, err
	}
	return outs[0], err
}

// ApplyAll is Apply for a batch of plans, with one audit append, one
// claim transaction and one finish transaction for all: the evaluations
// are audited, every action is claimed by key (only the claimed ones are
// carried out, in order), their outcomes recorded and audited, and the
// deferrals and cooldowns written. outs[i] are plans[i]'s outcomes.
func (r *Runner) ApplyAll(ctx context.Context, plans []engine.Plan) (outs [][]action.Outcome, err error) {
	return r.ApplyPass(ctx, plans, 0)
}

// ApplyPass is ApplyAll for an evaluation pass of the daemon's queue: the
// transaction that records the outcomes, deferrals and cooldowns also
// takes the queued evaluations up to doneThrough off the queue (none when
// it is 0), so a crash leaves either both or neither.
func (r *Runner) ApplyPass(ctx context.Context, plans []engine.Plan, doneThrough int64) (outs [][]action.Outcome, err error) {
	now := r.now()
	var evals []audit.Entry
	var claims []store.Claim
	for _, plan := range plans {
		for _, run := range plan.Runs {
			data, err := json.Marshal(map[string]any{
				"reason": run.Reason, "mode": run.Mode, "params": run.Params, "query": run.Query,
				"args": run.Args, "row_count": run.RowCount, "rows": run.Rows, "event": plan.Event,
				"violations": run.Violations, "recheck_at": run.RecheckAt,
			})
			if err != nil {
				return nil, err
			}
			evals = append(evals, audit.Entry{Kind: "evaluation", Runbook: run.Runbook, EventID: plan.Event.ID, Decision: run.Decision, Data: data})
			for _, a := range run.Actions {
				claims = append(claims, store.Claim{Action: a, EventID: plan.Event.ID})
			}
		}
	}
	if _, err := r.Audit.Append(ctx, evals...); err != nil {
		return nil, err
	}
	var claimed []bool
	if len(claims) > 0 {
		if claimed, err = r.ledger().ClaimActions(ctx, claims, now); err != nil {
			return nil, err
		}
	}
	// Carry out what was claimed, in order.
	outcomes := make([]action.Outcome, len(claims))
	took := make([]time.Duration, len(claims))
	var done []action.Outcome
	for i, c := range claims {
		start := time.Now()
		o := action.Outcome{Key: c.Action.Key, Status: action.StatusSkipped, Detail: "already carried out under this key"}
		if claimed[i] {
			o = r.execute(ctx, c.Action)
			done = append(done, o)
		}
		outcomes[i], took[i] = o, time.Since(start)
	}
	var acts []audit.Entry
	for i, c := range claims {
		data, err := json.Marshal(map[string]any{"action": c.Action, "outcome": outcomes[i]})
		if err != nil {
			return nil, err
		}
		acts = append(acts, audit.Entry{Kind: "action", Runbook: c.Action.Runbook, EventID: c.EventID, ActionKey: c.Action.Key, Decision: outcomes[i].Status, Data: data})
	}
	if _, err := r.Audit.Append(ctx, acts...); err != nil {
		return nil, err
	}
	for i, c := range claims {
		if r.Observe != nil {
			r.Observe(c.Action, outcomes[i], took[i])
		}
		if r.Logger != nil {
			r.Logger.Info("action", "key", c.Action.Key, "kind", c.Action.Kind, "enforce", c.Action.Enforce, "status", outcomes[i].Status)
		}
	}
	// Deferrals and cooldowns, and the outcomes by plan.
	end := store.PassEnd{Outcomes: done, DoneThrough: doneThrough}
	outs = make([][]action.Outcome, len(plans))
	k := 0
	for p, plan := range plans {
		for _, run := range plan.Runs {
			outs[p] = append(outs[p], outcomes[k:k+len(run.Actions)]...)
			k += len(run.Actions)
			if run.Decision == engine.Deferred {
				end.Deferred = append(end.Deferred, store.Deferred{Runbook: run.Runbook, EventKey: plan.Event.Key, EventID: plan.Event.ID,
					Record: plan.Record, RecheckAt: run.RecheckAt})
			}
			if run.Decision == engine.Act && !run.CooldownUntil.IsZero() {
				end.Cooldowns = append(end.Cooldowns, store.Cooldown{Runbook: run.Runbook, Dedup: run.Dedup, Until: run.CooldownUntil})
			}
		}
	}
	if err := r.ledger().EndPass(ctx, end, r.now()); err != nil {
		return outs, err
	}
	return outs, nil
}

// execute hands a to its executor when it is enforced, an alert that is
// sent in either mode, or a gate, and plans it otherwise. A gate is
// Trailbook's own state, not the world's: closing one in a dry run is
// what lets pipelines stop on what a runbook saw before anyone trusts it
// to act on AWS, and a reopening undoes it.
func (r *Runner) execute(ctx context.Context, a action.Action) (out action.Outcome) {
	// An executor that panics fails its action; it does not take the
	// process (and every action claimed with it) down.
	defer func() {
		if p := recover(); p != nil {
			out = action.Outcome{Key: a.Key, Status: action.StatusFailed, Error: fmt.Sprintf("the %s executor panicked: %v", a.Kind, p)}
		}
	}()
	send := a.Enforce || (a.Kind == action.KindAlert && r.Alerts) || a.Kind == action.KindGate
	if !send {
		return action.Outcome{Key: a.Key, Status: action.StatusPlanned, Detail: "dry run: " + a.Reason}
	}
	ex, ok := r.Executors[a.Kind]
	if !ok {
		return action.Outcome{Key: a.Key, Status: action.StatusFailed, Error: fmt.Sprintf("no executor for %s actions is configured", a.Kind)}
	}
	o, err := ex.Execute(ctx, a)
	o.Key = a.Key
	if err != nil {
		o.Status, o.Error = action.StatusFailed, err.Error()
	}
	if o.Status == "" {
		o.Status = action.StatusApplied
	}
	return o
}

func (r *Runner) now() time.Time {
	if r.Now != nil {
		return r.Now().UTC()
	}
	return time.Now().UTC()
}

// GateExecutor closes opt-out gates in st: the gate action's executor.
func GateExecutor(st *store.Store, now func() time.Time) action.Executor {
	return action.Func(func(ctx context.Context, a action.Action) (action.Outcome, error) {
		if a.Gate == nil {
			return action.Outcome{}, fmt.Errorf("gate action %s has no gate", a.Key)
		}
		g := a.Gate
		err := st.SetGate(ctx, store.GateState{Gate: g.Name, State: g.State, Reason: g.Reason, SetBy: a.Runbook,
			SetAt: now().UTC(), Until: g.Until, Runbook: a.Runbook, ActionKey: a.Key})
		if err != nil {
			return action.Outcome{}, err
		}
		return action.Outcome{Status: action.StatusApplied, Detail: fmt.Sprintf("gate %s set to %s until %s", g.Name, g.State, g.Until.Format(time.RFC3339))}, nil
	})
}
