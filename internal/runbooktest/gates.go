package runbooktest

import (
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/trailbook/trailbook/internal/cloudtrail"
	"github.com/trailbook/trailbook/internal/engine"
	"github.com/trailbook/trailbook/internal/gate"
	"github.com/trailbook/trailbook/internal/query"
	"github.com/trailbook/trailbook/internal/runbook"
	"github.com/trailbook/trailbook/internal/store"
)

// GateResult is the outcome of one gate test case.
type GateResult struct {
	Gate string
	Test string
	Pos  runbook.Pos
	Pass bool
	// Diff lists, one per line, each expectation that failed.
	Diff     string
	Decision gate.Decision
	Err      error
}

// RunGates runs every test of every gate in set, each in its own store
// under dir: the case's given events stored, its states set, and the
// gate decided at its clock with its params, as `trailbook gate check`
// would, without the cache.
func RunGates(ctx context.Context, set *runbook.Set, dir string) ([]GateResult, error) {
	var out []GateResult
	for _, g := range set.Gates {
		for i, t := range g.Tests {
			res := GateResult{Gate: g.Name, Test: t.Name, Pos: t.Pos}
			d, err := gateCase(ctx, g, t, filepath.Join(dir, fmt.Sprintf("gate-%s-%d", g.Name, i)))
			if err != nil {
				res.Err, res.Diff = err, "error: "+err.Error()
			} else {
				res.Decision = d
				res.Diff = compareGate(t.Expect, d)
				res.Pass = res.Diff == ""
			}
			out = append(out, res)
		}
	}
	return out, nil
}

func gateCase(ctx context.Context, g *runbook.Gate, t runbook.GateTest, dir string) (gate.Decision, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return gate.Decision{}, err
	}
	path := filepath.Join(dir, "store.duckdb")
	var given []cloudtrail.Event
	for i, raw := range t.Given {
		ev, err := DecodeRecord(raw)
		if err != nil {
			return gate.Decision{}, fmt.Errorf("given %d: %w", i, err)
		}
		given = append(given, ev)
	}
	now := t.Now
	if now.IsZero() {
		for _, ev := range given {
			if ev.EventTime.After(now) {
				now = ev.EventTime
			}
		}
	}
	if err := Store(ctx, path, given); err != nil {
		return gate.Decision{}, err
	}
	r, err := query.Open(ctx, path, "")
	if err != nil {
		return gate.Decision{}, err
	}
	defer r.Close()
	var states []store.GateState
	for _, s := range t.States {
		if s.At.After(now) {
			return gate.Decision{}, fmt.Errorf("a %s state is set at %s, after the test's now (%s): the check would not see it", s.State, s.At.Format(time.RFC3339), now.Format(time.RFC3339))
		}
		gs := store.GateState{Gate: g.Name, State: s.State, Reason: s.Reason, SetBy: s.By, SetAt: s.At, Until: s.Until}
		if !s.Override && s.State != gate.Open {
			gs.Runbook = s.By
		}
		states = append(states, gs)
	}
	slices.SortStableFunc(states, func(a, b store.GateState) int { return a.SetAt.Compare(b.SetAt) })
	return gate.Evaluate(ctx, g, engine.StoreSnapshot{Conn: r}, gate.Input{Params: t.Params, States: states, Now: now})
}

func compareGate(want runbook.GateExpect, d gate.Decision) string {
	var diff []string
	switch {
	case d.Error != "" && !want.Error:
		diff = append(diff, fmt.Sprintf("error: want none, got %s", d.Error))
	case d.Error == "" && want.Error:
		diff = append(diff, "error: want a check to fail, none did")
	}
	if d.Decision != want.Decision {
		diff = append(diff, fmt.Sprintf("decision: want %s, got %s (%s)", want.Decision, d.Decision, d.Reason))
	}
	for _, name := range slices.Sorted(maps.Keys(want.Checks)) {
		i := slices.IndexFunc(d.Checks, func(c gate.CheckResult) bool { return c.Name == name })
		switch {
		case i < 0:
			diff = append(diff, fmt.Sprintf("check %s: not run", name))
		case d.Checks[i].Decision != want.Checks[name]:
			c := d.Checks[i]
			why := c.Reason
			if c.Error != "" {
				why = c.Error
			}
			diff = append(diff, fmt.Sprintf("check %s: want %s, got %s (%d rows%s)", name, want.Checks[name], c.Decision, c.RowCount, prefixed(": ", why)))
		}
	}
	return strings.Join(diff, "\n")
}

func prefixed(sep, s string) string {
	if s == "" {
		return ""
	}
	return sep + s
}
