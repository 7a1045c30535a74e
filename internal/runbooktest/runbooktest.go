// Package runbooktest runs runbooks' own tests: for each test case, a fresh
// store holding the case's given events and its triggering event, the
// engine's plan for the event, and a comparison with what the case
// expects. `trailbook runbook test` and CI call it.
package runbooktest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/trailbook/trailbook/internal/cloudtrail"
	"github.com/trailbook/trailbook/internal/engine"
	"github.com/trailbook/trailbook/internal/query"
	"github.com/trailbook/trailbook/internal/runbook"
	"github.com/trailbook/trailbook/internal/store"
)

// Result is the outcome of one test case.
type Result struct {
	Runbook string
	Test    string
	Pos     runbook.Pos
	Pass    bool
	// Diff lists, one per line, each expectation that failed: what the
	// case wants and what the plan holds.
	Diff string
	Plan engine.Plan
	Run  engine.Run // the runbook's run in Plan
	// Err is a failure to run the case at all (a broken event, a store
	// error); Pass is false.
	Err error
}

// Run runs every test of every runbook in set, in order, each in its own
// store under dir (a scratch directory the caller removes). opts are the
// engine's options: pass the same ones the daemon uses, so that tests see
// the same loop protection.
func Run(ctx context.Context, set *runbook.Set, dir string, opts engine.Options) ([]Result, error) {
	var out []Result
	for _, rb := range set.Runbooks {
		eng, err := engine.New(&runbook.Set{Runbooks: []*runbook.Runbook{rb}, Channels: set.Channels}, opts)
		if err != nil {
			return nil, fmt.Errorf("runbook %s: %w", rb.Name, err)
		}
		for i, t := range rb.Tests {
			res := Result{Runbook: rb.Name, Test: t.Name, Pos: t.Pos}
			p, run, err := runCase(ctx, eng, rb, t, filepath.Join(dir, fmt.Sprintf("%s-%d", rb.Name, i)))
			if err != nil {
				res.Err = err
				res.Diff = "error: " + err.Error()
			} else {
				res.Plan, res.Run = p, run
				res.Diff = compare(t.Expect, run)
				res.Pass = res.Diff == ""
			}
			out = append(out, res)
		}
	}
	return out, nil
}

// runCase stores the case's events in a fresh store and plans for its
// event.
func runCase(ctx context.Context, eng *engine.Engine, rb *runbook.Runbook, t runbook.Test, dir string) (engine.Plan, engine.Run, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return engine.Plan{}, engine.Run{}, err
	}
	path := filepath.Join(dir, "store.duckdb")
	var given []cloudtrail.Event
	for i, raw := range t.Given {
		evs, err := DecodeRecord(raw)
		if err != nil {
			return engine.Plan{}, engine.Run{}, fmt.Errorf("given %d: %w", i, err)
		}
		given = append(given, evs)
	}
	// A scheduled runbook's test may have no event: it is evaluated at
	// now, over what is given.
	scheduled := rb.Trigger.Schedule > 0
	var ev cloudtrail.Event
	if !scheduled || len(t.Event) > 0 {
		var err error
		if ev, err = DecodeRecord(t.Event); err != nil {
			return engine.Plan{}, engine.Run{}, fmt.Errorf("event: %w", err)
		}
		given = append(given, ev)
	}
	if err := Store(ctx, path, given); err != nil {
		return engine.Plan{}, engine.Run{}, err
	}
	r, err := query.Open(ctx, path, "")
	if err != nil {
		return engine.Plan{}, engine.Run{}, err
	}
	defer r.Close()
	now := t.Now
	if now.IsZero() {
		now = ev.EventTime
	}
	var p engine.Plan
	if scheduled {
		p, err = eng.EvaluateScheduled(ctx, rb.Name, engine.StoreSnapshot{Conn: r}, now)
	} else {
		p, err = eng.EvaluateRunbook(ctx, rb.Name, &ev, store.EventKey(&ev), engine.StoreSnapshot{Conn: r}, now)
	}
	if err != nil {
		return p, engine.Run{}, err
	}
	if len(p.Runs) == 0 {
		return p, engine.Run{Runbook: rb.Name, Decision: engine.NoMatch}, nil
	}
	return p, p.Runs[0], nil
}

// DecodeRecord decodes data holding exactly one CloudTrail record, in
// any shape the decoder accepts.
func DecodeRecord(raw []byte) (cloudtrail.Event, error) {
	res := cloudtrail.Decode(raw, cloudtrail.Options{})
	if len(res.Rejects) > 0 {
		return cloudtrail.Event{}, fmt.Errorf("not a CloudTrail record: %s", res.Rejects[0].Reason)
	}
	if len(res.Events) != 1 {
		return cloudtrail.Event{}, fmt.Errorf("want one CloudTrail record, found %d", len(res.Events))
	}
	return res.Events[0], nil
}

// Store creates a store at path holding events, in one transaction.
func Store(ctx context.Context, path string, events []cloudtrail.Event) error {
	s, err := store.Open(ctx, path, store.Options{MemoryLimit: "256MB", Threads: 1})
	if err != nil {
		return err
	}
	defer s.Close()
	w, err := s.NewWriter(ctx)
	if err != nil {
		return err
	}
	defer w.Close()
	if err := w.Add(ctx, &store.File{Source: "runbook test", Records: len(events), Events: events}); err != nil {
		return err
	}
	_, err = w.Commit(ctx)
	return err
}

// compare lists what of want run does not meet.
func compare(want runbook.Expect, run engine.Run) string {
	var d []string
	if run.Decision != want.Decision {
		d = append(d, fmt.Sprintf("decision: want %s, got %s (%s)", want.Decision, run.Decision, run.Reason))
	}
	if want.Actions != nil {
		var got []string
		for _, a := range run.Actions {
			got = append(got, a.Kind)
		}
		if !slices.Equal(got, want.Actions) {
			d = append(d, fmt.Sprintf("actions: want [%s], got [%s]", strings.Join(want.Actions, ", "), strings.Join(got, ", ")))
		}
	}
	if want.Rows != nil && *want.Rows != run.RowCount {
		d = append(d, fmt.Sprintf("rows: want %d, got %d", *want.Rows, run.RowCount))
	}
	return strings.Join(d, "\n")
}
