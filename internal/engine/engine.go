// Package engine evaluates runbooks: from a CloudTrail event, a snapshot of
// the store and a clock, it computes a Plan: which runbooks the event
// triggers, what their queries return, what their conditions decide, and
// the actions to take, every value resolved. It has no side effects; the
// CLI, the tests and the daemon carry plans out.
//
// Evaluation is deterministic: the same runbooks, event, store contents
// and clock give a byte-identical Plan. Query rows are put in a canonical
// order unless the query orders them itself (lint refuses LIMIT without
// ORDER BY), maps are encoded with sorted keys, and runbooks are evaluated
// in name order.
package engine

import (
	"cmp"
	"context"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"cel.dev/cel-go/common/types/ref"

	json "github.com/goccy/go-json"

	"github.com/trailbook/trailbook/internal/action"
	"github.com/trailbook/trailbook/internal/cloudtrail"
	"github.com/trailbook/trailbook/internal/runbook"
	"github.com/trailbook/trailbook/internal/tags"
	"github.com/trailbook/trailbook/internal/trigger"
)

// Decisions of a Run.
const (
	Act      = "act"       // the condition held: the actions are planned
	NoAction = "no-action" // the condition did not hold
	Skipped  = "skipped"   // loop protection or cooldown kept it from running
	Failed   = "error"     // a parameter, the query or the condition failed
	NoMatch  = "no-match"  // the trigger did not match (only in explanations)
	// Deferred: a resource the event created is within the grace of a
	// schema rule it fails; evaluate the runbook again at Run.RecheckAt.
	Deferred = "deferred"
)

// Snapshot is the store as the engine sees it. Implementations read one
// consistent store; the engine never writes.
type Snapshot interface {
	// Query runs translated SQL with positional args and returns the rows
	// as maps by column name, values as JSON would hold them.
	Query(ctx context.Context, sql string, args []any) ([]map[string]any, error)
	// Watermark changes whenever the store's contents do.
	Watermark(ctx context.Context) (int64, error)
	// TagsBefore is what arn was tagged with just before the changes ev
	// made to it; known is false when the inventory did not know.
	TagsBefore(ctx context.Context, arn string, ev *cloudtrail.Event) (before map[string]string, known bool, err error)
	// CooldownUntil is when runbook may act again for dedup (zero: now).
	CooldownUntil(ctx context.Context, runbook, dedup string) (time.Time, error)
}

// Identity is how the engine recognises events caused by Trailbook's own
// actions, which never trigger runbooks (loop protection).
type Identity struct {
	// UserAgent is a substring of the user agent of Trailbook's AWS calls;
	// empty means "trailbook/".
	UserAgent string
	// SessionName is the role session name Trailbook's credentials use,
	// matched against assumed-role ARNs; empty means "trailbook".
	SessionName string
	// Principals are ARNs of Trailbook's own roles and users.
	Principals []string
}

// Options tunes an Engine. The zero value is the default.
type Options struct {
	Identity Identity
	// Enforce lets runbooks in enforce mode plan enforced actions; without
	// it every action is planned dry-run, whatever the runbook says.
	Enforce bool
	// EvidenceRows caps the rows a Run keeps as evidence; zero means 20.
	EvidenceRows int
	// Cache, when set, reuses query results between evaluations.
	Cache *Cache
}

// Engine evaluates one runbook set. It is safe for concurrent use.
type Engine struct {
	set    *runbook.Set
	byName map[string]*runbook.Runbook
	opts   Options
	// matchers hands each goroutine its own copy of the compiled
	// triggers (a quamina matcher is not safe for concurrent use; its
	// copies share the patterns).
	matchers sync.Pool
}

// New compiles set's triggers.
func New(set *runbook.Set, opts Options) (*Engine, error) {
	if opts.Identity.UserAgent == "" {
		opts.Identity.UserAgent = "trailbook/"
	}
	if opts.Identity.SessionName == "" {
		opts.Identity.SessionName = "trailbook"
	}
	if opts.EvidenceRows == 0 {
		opts.EvidenceRows = 20
	}
	m, err := trigger.New()
	if err != nil {
		return nil, err
	}
	e := &Engine{set: set, byName: map[string]*runbook.Runbook{}, opts: opts}
	e.matchers.New = func() any { return m.Copy() }
	for _, rb := range set.Runbooks {
		e.byName[rb.Name] = rb
		if rb.Trigger.Pattern == "" {
			continue
		}
		if err := m.Add(rb.Name, rb.Trigger.Pattern, rb.Trigger.Envelope); err != nil {
			return nil, err
		}
	}
	return e, nil
}

// Plan is what the runbooks make of one event.
type Plan struct {
	Event EventRef `json:"event"`
	// Loop is set when the event was caused by Trailbook itself: no
	// runbook runs on it.
	Loop string `json:"loop,omitempty"`
	Runs []Run  `json:"runs"` // one per triggered runbook, by name
	// Record is the triggering CloudTrail record, for a deferred run to
	// be evaluated again.
	Record json.RawMessage `json:"-"`
}

// EventRef names the event a plan is for.
type EventRef struct {
	Key    string    `json:"key"` // the store's key
	ID     string    `json:"id"`
	Time   time.Time `json:"time"`
	Source string    `json:"source"`
	Name   string    `json:"name"`
	Actor  string    `json:"actor,omitempty"`
}

// Run is one runbook's evaluation of the event.
type Run struct {
	Runbook  string         `json:"runbook"`
	Mode     string         `json:"mode"`
	Decision string         `json:"decision"`
	Reason   string         `json:"reason"`
	Params   map[string]any `json:"params,omitempty"`
	// Query is the runbook's Lake SQL when it has one; Rows the first
	// EvidenceRows of its result, RowCount all of them.
	Query    string           `json:"query,omitempty"`
	Args     []any            `json:"args,omitempty"`
	Rows     []map[string]any `json:"rows,omitempty"`
	RowCount int              `json:"row_count"`
	Cached   bool             `json:"-"` // the rows came from the cache
	// Dedup and CooldownUntil are what to record once the actions are
	// carried out, when the runbook has a cooldown.
	// RecheckAt is when a Deferred run is to be evaluated again.
	RecheckAt time.Time `json:"recheck_at,omitzero"`
	// Violations are how the resources the event touched fail the
	// runbook's schema, for runbooks with one.
	Violations []any `json:"violations,omitempty"`

	Dedup         string          `json:"dedup,omitempty"`
	CooldownUntil time.Time       `json:"cooldown_until,omitzero"`
	Actions       []action.Action `json:"actions,omitempty"`
}

// Matches returns the names of the runbooks whose triggers rec matches,
// sorted.
func (e *Engine) Matches(rec []byte) ([]string, error) {
	m := e.matchers.Get().(*trigger.Matcher)
	defer e.matchers.Put(m)
	return m.Match(rec)
}

// MatchBatch is Matches for each event of evs, spread over GOMAXPROCS
// goroutines: out[i] is what Matches(evs[i].JSON) returns. Matching
// depends on the record alone, so it may run ahead of and beside
// planning; planning, which reads the store and cooldowns, stays in event
// order (EvaluateMatched).
func (e *Engine) MatchBatch(evs []cloudtrail.Event) ([][]string, error) {
	out := make([][]string, len(evs))
	workers := min(runtime.GOMAXPROCS(0), len(evs)/matchChunk+1)
	if workers <= 1 {
		for i := range evs {
			var err error
			if out[i], err = e.Matches(evs[i].JSON); err != nil {
				return nil, fmt.Errorf("event %s: %w", evs[i].EventID.V, err)
			}
		}
		return out, nil
	}
	var (
		next atomic.Int64
		wg   sync.WaitGroup
		errs = make([]error, len(evs))
	)
	for range workers {
		wg.Go(func() {
			m := e.matchers.Get().(*trigger.Matcher)
			defer e.matchers.Put(m)
			for {
				lo := int(next.Add(matchChunk)) - matchChunk
				if lo >= len(evs) {
					return
				}
				for i := lo; i < min(lo+matchChunk, len(evs)); i++ {
					out[i], errs[i] = m.Match(evs[i].JSON)
				}
			}
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			return nil, fmt.Errorf("event %s: %w", evs[i].EventID.V, err)
		}
	}
	return out, nil
}

// matchChunk is how many events a MatchBatch worker takes at a time:
// enough that handing them out costs nothing, few enough that the
// workers finish together.
const matchChunk = 16

// EvaluateMatched is Evaluate with the trigger already matched: names
// is what Matches or MatchBatch gave for ev.
func (e *Engine) EvaluateMatched(ctx context.Context, ev *cloudtrail.Event, key string, names []string, snap Snapshot, now time.Time) (Plan, error) {
	return e.evaluate(ctx, ev, key, names, snap, now)
}

// Evaluate plans what the runbooks do about ev at time now. ev.JSON must
// hold the original record. A failing parameter, query or condition fails
// its Run (decision error), not the whole plan; the error returned is for
// a record the engine cannot read at all.
func (e *Engine) Evaluate(ctx context.Context, ev *cloudtrail.Event, key string, snap Snapshot, now time.Time) (Plan, error) {
	names, err := e.Matches(ev.JSON)
	if err != nil {
		return Plan{}, err
	}
	return e.evaluate(ctx, ev, key, names, snap, now)
}

// EvaluateRunbook plans what the named runbook does about ev, matched or
// not: for explanations and tests. The Run's decision is no-match when
// its trigger does not match.
func (e *Engine) EvaluateRunbook(ctx context.Context, name string, ev *cloudtrail.Event, key string, snap Snapshot, now time.Time) (Plan, error) {
	if _, ok := e.byName[name]; !ok {
		return Plan{}, fmt.Errorf("no runbook %s", name)
	}
	names, err := e.Matches(ev.JSON)
	if err != nil {
		return Plan{}, err
	}
	p, err := e.evaluate(ctx, ev, key, []string{name}, snap, now)
	if err != nil {
		return p, err
	}
	if !slices.Contains(names, name) && len(p.Runs) == 1 {
		p.Runs[0].Decision, p.Runs[0].Reason = NoMatch, "the trigger pattern does not match the event"
	}
	return p, nil
}

// EvaluateScheduled plans what the scheduled runbook name does at its
// tick at, which is also the evaluation's now. There is no event: in
// expressions and templates event is an empty object, the query's
// :event_time is at and :event_id is empty. The plan's event key and ID
// are ScheduleKey(name, at), so the actions of one tick are claimed once
// however often it is evaluated.
func (e *Engine) EvaluateScheduled(ctx context.Context, name string, snap Snapshot, at time.Time) (Plan, error) {
	rb := e.byName[name]
	if rb == nil {
		return Plan{}, fmt.Errorf("no runbook %s", name)
	}
	if rb.Trigger.Schedule == 0 {
		return Plan{}, fmt.Errorf("runbook %s is not scheduled", name)
	}
	at = at.UTC()
	key := ScheduleKey(name, at)
	ev := &cloudtrail.Event{EventTime: at, JSON: []byte("{}")}
	p := Plan{Event: EventRef{Key: key, ID: key, Time: at}}
	r := Run{Runbook: rb.Name, Mode: rb.Mode}
	e.run(ctx, rb, ev, map[string]any{}, key, &tags.Effect{}, snap, at, &r)
	p.Runs = append(p.Runs, r)
	return p, nil
}

// ScheduleKey names the tick at of the scheduled runbook name, in place
// of an event's key.
func ScheduleKey(name string, at time.Time) string {
	return "schedule/" + name + "/" + at.UTC().Format(time.RFC3339)
}

// Scheduled lists the runbooks with a schedule, and their periods.
func (e *Engine) Scheduled() map[string]time.Duration {
	out := map[string]time.Duration{}
	for name, rb := range e.byName {
		if rb.Trigger.Schedule > 0 {
			out[name] = rb.Trigger.Schedule
		}
	}
	return out
}

func (e *Engine) evaluate(ctx context.Context, ev *cloudtrail.Event, key string, names []string, snap Snapshot, now time.Time) (Plan, error) {
	now = now.UTC()
	p := Plan{Event: EventRef{Key: key, ID: ev.EventID.V, Time: ev.EventTime.UTC(), Source: ev.EventSource.V, Name: ev.EventName, Actor: ev.UserIdentity.ARN.V}}
	if len(names) == 0 {
		return p, nil // most events: nothing to decode or decide
	}
	var record map[string]any
	if err := json.Unmarshal(ev.JSON, &record); err != nil {
		return p, fmt.Errorf("event %s: %w", ev.EventID.V, err)
	}
	p.Record = ev.JSON
	p.Loop = e.loop(ev)
	var effect *tags.Effect
	for _, name := range names {
		rb := e.byName[name]
		if rb == nil {
			continue
		}
		r := Run{Runbook: rb.Name, Mode: rb.Mode}
		if p.Loop != "" {
			r.Decision, r.Reason = Skipped, "loop protection: "+p.Loop
			p.Runs = append(p.Runs, r)
			continue
		}
		if effect == nil {
			eff := tags.Of(ev)
			effect = &eff
		}
		e.run(ctx, rb, ev, record, key, effect, snap, now, &r)
		p.Runs = append(p.Runs, r)
	}
	return p, nil
}

// loop says why ev was caused by Trailbook, or "".
func (e *Engine) loop(ev *cloudtrail.Event) string {
	id := e.opts.Identity
	if ua := ev.UserAgent.V; id.UserAgent != "" && strings.Contains(ua, id.UserAgent) {
		return "user agent " + ua
	}
	arn := ev.UserIdentity.ARN.V
	if id.SessionName != "" && strings.Contains(arn, ":assumed-role/") && strings.HasSuffix(arn, "/"+id.SessionName) {
		return "session " + id.SessionName
	}
	for _, p := range id.Principals {
		if arn == p {
			return "principal " + p
		}
		if iss := ev.UserIdentity.SessionContext.SessionIssuer; iss != nil && iss.ARN.V == p {
			return "principal " + p
		}
	}
	return ""
}

// vars are the CEL and template variables of one evaluation.
type vars struct {
	event      map[string]any
	params     map[string]any
	rows       []map[string]any
	violations []any
	now        time.Time
	runbook    map[string]string
}

func (v *vars) cel() map[string]any {
	rows := make([]any, len(v.rows))
	for i, r := range v.rows {
		rows[i] = r
	}
	violations := v.violations
	if violations == nil {
		violations = []any{}
	}
	return map[string]any{"event": v.event, "params": v.params, "rows": rows, "now": v.now, "runbook": v.runbook, "violations": violations}
}

func (v *vars) template() map[string]any {
	return map[string]any{"event": v.event, "params": v.params, "rows": v.rows, "now": v.now, "runbook": v.runbook, "violations": v.violations}
}

func (e *Engine) run(ctx context.Context, rb *runbook.Runbook, ev *cloudtrail.Event, record map[string]any, key string, effect *tags.Effect, snap Snapshot, now time.Time, r *Run) {
	v := &vars{event: record, params: map[string]any{}, now: now,
		runbook: map[string]string{"name": rb.Name, "severity": rb.Severity, "mode": rb.Mode, "owner": rb.Owner}}
	fail := func(format string, args ...any) {
		r.Decision, r.Reason = Failed, fmt.Sprintf(format, args...)
		r.Actions = nil
	}
	for _, prm := range rb.Params {
		val, err := eval(prm.Expr, v)
		if err != nil {
			fail("param %s: %v", prm.Name, err)
			return
		}
		v.params[prm.Name] = val
	}
	if len(v.params) > 0 {
		r.Params = v.params
	}
	if rb.Schema != nil {
		vs, due, err := violations(ctx, rb, ev, effect, snap, now)
		if err != nil {
			fail("schema: %v", err)
			return
		}
		if !due.IsZero() {
			r.Decision, r.RecheckAt = Deferred, due
			r.Reason = "a resource it created fails the schema within its grace; judged at " + due.Format(time.RFC3339)
			return
		}
		v.violations, r.Violations = vs, vs
	}
	if rb.Cooldown > 0 {
		if rb.Dedup != nil {
			d, err := eval(rb.Dedup, v)
			if err != nil {
				fail("dedup: %v", err)
				return
			}
			r.Dedup = fmt.Sprint(d)
		}
		until, err := snap.CooldownUntil(ctx, rb.Name, r.Dedup)
		if err != nil {
			fail("cooldown: %v", err)
			return
		}
		if now.Before(until) {
			r.Decision, r.Reason = Skipped, "cooling down until "+until.UTC().Format(time.RFC3339)
			return
		}
		r.CooldownUntil = now.Add(rb.Cooldown)
	}
	if rb.Query != "" {
		r.Query = rb.Query
		r.Args = queryArgs(rb, v, ev)
		rows, cached, err := e.query(ctx, rb, r.Args, snap)
		if err != nil {
			fail("query: %v", err)
			return
		}
		r.Cached = cached
		v.rows = rows
		r.RowCount = len(rows)
		r.Rows = rows[:min(len(rows), e.opts.EvidenceRows)]
	}
	holds := rb.Query == "" || len(v.rows) > 0
	why := "the trigger matched"
	if rb.Query != "" {
		why = fmt.Sprintf("the query returned %d rows", len(v.rows))
	}
	if rb.Condition != nil {
		val, err := eval(rb.Condition, v)
		if err != nil {
			fail("condition: %v", err)
			return
		}
		b, ok := val.(bool)
		if !ok {
			fail("condition: gave %T, not a bool", val)
			return
		}
		holds, why = b, fmt.Sprintf("condition %q is %v", rb.Condition.Source, b)
	}
	if !holds {
		r.Decision, r.Reason = NoAction, why
		r.CooldownUntil = time.Time{}
		return
	}
	r.Decision, r.Reason = Act, why
	for i, a := range rb.Actions {
		if a.When != nil {
			val, err := eval(a.When, v)
			if err != nil {
				fail("action %d when: %v", i, err)
				return
			}
			if b, _ := val.(bool); !b {
				continue
			}
		}
		acts, err := e.plan(ctx, rb, i, a, ev, key, effect, snap, v)
		if err != nil {
			fail("action %d (%s): %v", i, a.Kind, err)
			return
		}
		r.Actions = append(r.Actions, acts...)
	}
}

// queryArgs are the query's parameter values, in its order, as strings
// (DuckDB casts each to the type its place needs): params, and the
// built-ins event_time, event_id and now.
func queryArgs(rb *runbook.Runbook, v *vars, ev *cloudtrail.Event) []any {
	args := make([]any, len(rb.QueryParams))
	for i, name := range rb.QueryParams {
		switch name {
		case "event_time":
			args[i] = ev.EventTime.UTC().Format(time.RFC3339Nano)
		case "event_id":
			args[i] = ev.EventID.V
		case "now":
			args[i] = v.now.Format(time.RFC3339Nano)
		default:
			args[i] = argString(v.params[name])
		}
	}
	return args
}

func argString(x any) any {
	switch x := x.(type) {
	case nil:
		return nil
	case string:
		return x
	case bool, int64, float64, uint64:
		return fmt.Sprint(x)
	default:
		b, _ := json.Marshal(x)
		return string(b)
	}
}

func (e *Engine) query(ctx context.Context, rb *runbook.Runbook, args []any, snap Snapshot) ([]map[string]any, bool, error) {
	var wm int64
	if c := e.opts.Cache; c != nil {
		var err error
		if wm, err = snap.Watermark(ctx); err != nil {
			return nil, false, err
		}
		if rows, ok := c.get(rb.QuerySQL, args, wm); ok {
			return rows, true, nil
		}
	}
	rows, err := snap.Query(ctx, rb.QuerySQL, args)
	if err != nil {
		return nil, false, err
	}
	if !ordered(rb.QuerySQL) {
		SortRows(rows)
	}
	if c := e.opts.Cache; c != nil {
		c.put(rb.QuerySQL, args, wm, rows)
	}
	return rows, false, nil
}

// ordered reports whether the query orders its result itself.
func ordered(sql string) bool {
	return strings.Contains(strings.ToUpper(sql), "ORDER BY")
}

// SortRows sorts rows by their JSON encoding, so that a result set
// DuckDB returns in any order is always listed the same way.
func SortRows(rows []map[string]any) {
	keys := make([]string, len(rows))
	for i, r := range rows {
		b, _ := json.Marshal(r)
		keys[i] = string(b)
	}
	idx := make([]int, len(rows))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int { return cmp.Compare(keys[a], keys[b]) })
	sorted := make([]map[string]any, len(rows))
	for i, j := range idx {
		sorted[i] = rows[j]
	}
	copy(rows, sorted)
}

// eval evaluates x over v and converts the result to plain Go values
// (string, bool, int64, float64, []any, map[string]any, nil).
func eval(x *runbook.Expr, v *vars) (any, error) {
	out, _, err := x.Program.Eval(v.cel())
	if err != nil {
		return nil, err
	}
	return native(out.Value()), nil
}

// native turns what CEL returns into plain Go values.
func native(x any) any {
	switch x := x.(type) {
	case interface{ Value() any }:
		return native(x.Value())
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = native(e)
		}
		return out
	case []ref.Val: // what CEL's map and filter macros build
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = native(e)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = native(e)
		}
		return out
	case map[ref.Val]ref.Val: // a map literal in CEL
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[fmt.Sprint(native(k))] = native(e)
		}
		return out
	case map[any]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[fmt.Sprint(native(k))] = native(e)
		}
		return out
	case int:
		return int64(x)
	case time.Time:
		return x.UTC().Format(time.RFC3339Nano)
	case fmt.Stringer:
		return x.String()
	}
	return x
}
