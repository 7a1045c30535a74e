// Package gate decides opt-out gates: whether a pipeline may proceed,
// should skip, or must halt, from a gate's checks (queries over the
// recent events) and the states set on it (closed by a runbook,
// overridden or reopened by a person).
//
// Evaluate is pure: the same definition, store contents, states, params
// and clock give the same Decision. Checker adds what a command needs
// around it: the cache, the states from the store, and the audit entry.
//
// How the parts combine, in order:
//
//  1. A reopening acknowledges everything before it: states set before
//     it no longer count, and the checks look only at events after it
//     (the window starts at the later of now - window and the reopening).
//  2. A state counts until its until (none: until reopened).
//  3. The latest override in force decides alone, unless a runbook closed
//     the gate after it: a new incident outranks an earlier override.
//     The checks still run and are reported, so that the record shows
//     what the override overrode.
//  4. Otherwise the worst of the checks' combined decision and the
//     runbook closures in force decides: halt over skip over proceed.
//  5. A check that fails gives the gate's on-error decision (halt unless
//     the gate is fail-open) and the Decision carries the error.
package gate

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/trailbook/trailbook/internal/engine"
	"github.com/trailbook/trailbook/internal/runbook"
	"github.com/trailbook/trailbook/internal/store"
)

// Open is the state a reopening records.
const Open = "open"

// Querier runs a check's translated SQL: engine.StoreSnapshot will do.
type Querier interface {
	Query(ctx context.Context, sql string, args []any) ([]map[string]any, error)
}

// Input is everything a decision depends on besides the store.
type Input struct {
	// Params are the values given for the gate's params; Evaluate fills
	// in defaults and refuses unknown or missing ones.
	Params map[string]string
	// States are the gate's state changes in the order they were set
	// (store.GateStates); those set after Now are ignored.
	States []store.GateState
	Now    time.Time
	// EvidenceRows caps the rows each check keeps; zero means 10.
	EvidenceRows int
}

// Decision is a gate's answer.
type Decision struct {
	Gate     string `json:"gate"`
	Decision string `json:"decision"` // proceed, skip or halt
	Reason   string `json:"reason"`
	// Error is why a check failed, when one did; the gate's on-error
	// decision stood in for it.
	Error       string            `json:"error,omitempty"`
	Now         time.Time         `json:"now"`
	WindowStart time.Time         `json:"window_start"`
	Params      map[string]string `json:"params,omitempty"`
	// State is the override or runbook closure that decided, if one did.
	State  *State        `json:"state,omitempty"`
	Checks []CheckResult `json:"checks"`
	// Cached says the checks' results were reused, and from when.
	Cached    bool      `json:"cached"`
	CheckedAt time.Time `json:"checked_at"`
}

// State is a state set on the gate, as a Decision reports it.
type State struct {
	State    string    `json:"state"`
	Reason   string    `json:"reason"`
	SetBy    string    `json:"set_by"`
	SetAt    time.Time `json:"set_at"`
	Until    time.Time `json:"until,omitzero"`
	Override bool      `json:"override"`
	Runbook  string    `json:"runbook,omitempty"`
	EventID  string    `json:"event_id,omitempty"`
}

// CheckResult is one check's outcome.
type CheckResult struct {
	Name     string           `json:"name"`
	Decision string           `json:"decision"`
	Reason   string           `json:"reason,omitempty"`
	Error    string           `json:"error,omitempty"`
	RowCount int              `json:"row_count"`
	Rows     []map[string]any `json:"rows,omitempty"` // the first EvidenceRows
}

// Params resolves the values given for g's params: defaults filled in,
// an unknown name or a missing required value refused.
func Params(g *runbook.Gate, given map[string]string) (map[string]string, error) {
	out := map[string]string{}
	for _, k := range slices.Sorted(maps.Keys(given)) {
		if !slices.ContainsFunc(g.Params, func(p runbook.GateParam) bool { return p.Name == k }) {
			var names []string
			for _, p := range g.Params {
				names = append(names, p.Name)
			}
			if len(names) == 0 {
				return nil, fmt.Errorf("gate %s has no params; %s was given", g.Name, k)
			}
			return nil, fmt.Errorf("gate %s has no param %s; it has %s", g.Name, k, strings.Join(names, ", "))
		}
	}
	for _, p := range g.Params {
		v, ok := given[p.Name]
		switch {
		case ok:
			out[p.Name] = v
		case p.Required:
			return nil, fmt.Errorf("gate %s needs param %s (--param %s=VALUE)", g.Name, p.Name, p.Name)
		default:
			out[p.Name] = p.Default
		}
	}
	return out, nil
}

// active is what of states counts at now: those set after the last
// reopening and still in force, and when that reopening was (zero: never).
func active(states []store.GateState, now time.Time) (live []store.GateState, reopened time.Time) {
	for _, s := range states {
		if s.SetAt.After(now) {
			continue
		}
		if s.State == Open {
			live, reopened = nil, s.SetAt
			continue
		}
		if s.Until.IsZero() || s.Until.After(now) {
			live = append(live, s)
		}
	}
	return live, reopened
}

// InForce are the states that count at now: set after the last
// reopening and not yet ended, in the order they were set.
func InForce(states []store.GateState, now time.Time) []store.GateState {
	live, _ := active(states, now)
	return live
}

// isOverride tells a person's override from a runbook's closure.
func isOverride(s store.GateState) bool { return s.Runbook == "" }

// WindowStart is where g's checks start looking at now: now - window, or
// the last reopening when later.
func WindowStart(g *runbook.Gate, states []store.GateState, now time.Time) time.Time {
	_, reopened := active(states, now)
	start := now.Add(-g.Window)
	if reopened.After(start) {
		start = reopened
	}
	return start
}

// RunChecks runs g's checks over q for the window [start, now] with
// params (resolved), in order. A failing check gives g.OnError with its
// error; it does not stop the others.
func RunChecks(ctx context.Context, g *runbook.Gate, q Querier, params map[string]string, start, now time.Time, evidenceRows int) []CheckResult {
	if evidenceRows == 0 {
		evidenceRows = 10
	}
	out := make([]CheckResult, 0, len(g.Checks))
	for _, c := range g.Checks {
		r := CheckResult{Name: c.Name, Decision: runbook.GateProceed}
		fail := func(err error) {
			r.Decision, r.Error, r.Rows = g.OnError, err.Error(), nil
		}
		args := make([]any, len(c.QueryParams))
		for i, name := range c.QueryParams {
			switch name {
			case "now":
				args[i] = now.UTC().Format(time.RFC3339Nano)
			case "window_start":
				args[i] = start.UTC().Format(time.RFC3339Nano)
			default:
				args[i] = params[name]
			}
		}
		rows, err := q.Query(ctx, c.QuerySQL, args)
		if err != nil {
			fail(fmt.Errorf("query: %w", err))
			out = append(out, r)
			continue
		}
		if !strings.Contains(strings.ToUpper(c.QuerySQL), "ORDER BY") {
			engine.SortRows(rows)
		}
		r.RowCount, r.Rows = len(rows), rows[:min(len(rows), evidenceRows)]
		holds := len(rows) > 0
		if c.Condition != nil {
			list := make([]any, len(rows))
			for i, row := range rows {
				list[i] = row
			}
			val, _, err := c.Condition.Program.Eval(map[string]any{"rows": list, "params": anyMap(params), "now": now})
			if err != nil {
				fail(fmt.Errorf("condition: %w", err))
				out = append(out, r)
				continue
			}
			b, ok := val.Value().(bool)
			if !ok {
				fail(fmt.Errorf("condition gave %T, not a bool", val.Value()))
				out = append(out, r)
				continue
			}
			holds = b
		}
		if holds {
			var b bytes.Buffer
			if err := c.Reason.Execute(&b, map[string]any{"rows": rows, "params": params, "now": now, "gate": g.Name}); err != nil {
				fail(fmt.Errorf("reason: %w", err))
				out = append(out, r)
				continue
			}
			r.Decision, r.Reason = c.Decision, b.String()
		}
		out = append(out, r)
	}
	return out
}

func anyMap(m map[string]string) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// rank orders decisions: proceed < skip < halt.
func rank(d string) int { return slices.Index(runbook.GateDecisions(), d) }

// Decide combines checks (RunChecks's, for the window the states give)
// with the states in force at now into g's decision.
func Decide(g *runbook.Gate, params map[string]string, checks []CheckResult, states []store.GateState, now time.Time) Decision {
	d := Decision{Gate: g.Name, Now: now.UTC(), WindowStart: WindowStart(g, states, now).UTC(), Params: params, Checks: checks}
	// The checks, combined.
	d.Decision, d.Reason = runbook.GateProceed, "no check found a reason to stop"
	for _, c := range checks {
		if c.Error != "" && d.Error == "" {
			d.Error = fmt.Sprintf("check %s: %s", c.Name, c.Error)
		}
	}
	for _, c := range checks {
		if c.Decision == runbook.GateProceed {
			continue
		}
		if g.Combine == runbook.CombineFirst {
			d.Decision, d.Reason = c.Decision, checkReason(c, g)
			break
		}
		if rank(c.Decision) > rank(d.Decision) {
			d.Decision, d.Reason = c.Decision, checkReason(c, g)
		}
	}
	live, _ := active(states, now)
	// The latest override, and the runbook closures after it.
	var override *store.GateState
	closures := live
	for i := len(live) - 1; i >= 0; i-- {
		if isOverride(live[i]) {
			override, closures = &live[i], live[i+1:]
			break
		}
	}
	if override != nil && len(closures) == 0 {
		would := ""
		if d.Decision != override.State {
			would = fmt.Sprintf(" (the checks say %s: %s)", d.Decision, d.Reason)
		}
		d.Decision, d.State = override.State, stateOf(*override)
		d.Reason = fmt.Sprintf("overridden to %s by %s until %s: %s%s", override.State, override.SetBy, override.Until.Format(time.RFC3339), override.Reason, would)
		return d
	}
	for _, s := range closures {
		if rank(s.State) > rank(d.Decision) {
			d.Decision, d.State = s.State, stateOf(s)
			until := "until reopened"
			if !s.Until.IsZero() {
				until = "until " + s.Until.Format(time.RFC3339)
			}
			d.Reason = fmt.Sprintf("closed by runbook %s at %s, %s: %s", s.Runbook, s.SetAt.Format(time.RFC3339), until, s.Reason)
		}
	}
	return d
}

func checkReason(c CheckResult, g *runbook.Gate) string {
	if c.Error != "" {
		mode := "fail-closed"
		if g.OnError == runbook.GateProceed {
			mode = "fail-open"
		}
		return fmt.Sprintf("check %s failed and the gate is %s: %s", c.Name, mode, c.Error)
	}
	return c.Reason
}

func stateOf(s store.GateState) *State {
	return &State{State: s.State, Reason: s.Reason, SetBy: s.SetBy, SetAt: s.SetAt.UTC(), Until: s.Until.UTC(),
		Override: isOverride(s), Runbook: s.Runbook, EventID: s.EventID}
}

// Evaluate decides g at in.Now over q: params resolved, checks run over
// the window, states applied. It fails only for params the gate refuses;
// a failing check is in the Decision.
func Evaluate(ctx context.Context, g *runbook.Gate, q Querier, in Input) (Decision, error) {
	params, err := Params(g, in.Params)
	if err != nil {
		return Decision{}, err
	}
	now := in.Now.UTC()
	start := WindowStart(g, in.States, now)
	checks := RunChecks(ctx, g, q, params, start, now, in.EvidenceRows)
	d := Decide(g, params, checks, in.States, now)
	d.CheckedAt = now
	return d, nil
}

// Exit codes of `trailbook gate check`, stable forever.
const (
	ExitProceed = 0
	ExitHalt    = 1
	ExitError   = 2
	ExitSkip    = 3
)

// ExitCode is the exit code for d: an error that decided (a fail-closed
// gate whose check failed) is ExitError, so that a pipeline stops and
// its log says why; a fail-open gate's error proceeds.
func (d Decision) ExitCode() int {
	switch {
	case d.Error != "" && d.State == nil && errorDecided(d):
		return ExitError
	case d.Decision == runbook.GateHalt:
		return ExitHalt
	case d.Decision == runbook.GateSkip:
		return ExitSkip
	}
	return ExitProceed
}

// errorDecided reports whether a failed check, not a finding, gave d its
// decision: no check that ran found a reason as strong (so it is not
// proceed).
func errorDecided(d Decision) bool {
	best := runbook.GateProceed
	for _, c := range d.Checks {
		if c.Error == "" && rank(c.Decision) > rank(best) {
			best = c.Decision
		}
	}
	return rank(best) < rank(d.Decision)
}
