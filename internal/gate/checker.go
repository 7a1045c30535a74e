package gate

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/trailbook/trailbook/internal/audit"
	"github.com/trailbook/trailbook/internal/runbook"
	"github.com/trailbook/trailbook/internal/store"
)

// Audit entry kinds a Checker appends.
const (
	KindDecision = "gate-decision"
	KindOverride = "gate-override"
	KindReopen   = "gate-reopen"
)

// MaxOverride bounds how far ahead an override may reach.
const MaxOverride = 7 * 24 * time.Hour

// Checker checks, overrides and reopens gates against a store, with
// every decision, override and reopening appended to the audit log.
type Checker struct {
	Store *store.Store
	// Query runs the checks' SQL (engine.StoreSnapshot over a connection
	// prepared with the query prelude).
	Query Querier
	Audit *audit.Log
	Now   func() time.Time // nil: time.Now
}

// Request is what a check is asked with.
type Request struct {
	Params map[string]string
	// NoCache runs the checks even when a cached result would do.
	NoCache bool
	// CI is who and what asked: the CI system's repository, job, run id,
	// actor and commit (see CIContext). It goes into the audit entry.
	CI map[string]string
}

func (c *Checker) now() time.Time {
	now := time.Now
	if c.Now != nil {
		now = c.Now
	}
	// The store keeps microseconds: a state set now must compare equal
	// once read back.
	return now().UTC().Truncate(time.Microsecond)
}

// cached is what the cache keeps of a check: its results and window.
type cached struct {
	WindowStart time.Time     `json:"window_start"`
	Checks      []CheckResult `json:"checks"`
}

// cacheKey names a result by what it depends on besides the store's
// events: the definition, the params and the last reopening.
func cacheKey(g *runbook.Gate, params map[string]string, reopened time.Time) string {
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%s\x00", g.Digest, reopened.UTC().Format(time.RFC3339Nano))
	for _, k := range slices.Sorted(maps.Keys(params)) {
		fmt.Fprintf(h, "%s=%s\x00", k, params[k])
	}
	return hex.EncodeToString(h.Sum(nil))
}

// Check decides g now. The checks' results are reused while the store
// holds the same events (its watermark), the definition, params and last
// reopening are the same, and they are younger than the gate's cache
// duration; states are always read afresh. The decision is appended to
// the audit log before it is returned; an error appending is returned
// with it, and the caller must not act on the decision then.
func (c *Checker) Check(ctx context.Context, g *runbook.Gate, req Request) (Decision, error) {
	now := c.now()
	params, err := Params(g, req.Params)
	if err != nil {
		return Decision{}, err
	}
	states, err := c.Store.GateStates(ctx, g.Name)
	if err != nil {
		return Decision{}, err
	}
	start := WindowStart(g, states, now)
	_, reopened := active(states, now)
	key := cacheKey(g, params, reopened)
	wm, err := store.Watermark(ctx, c.Store.DB())
	if err != nil {
		return Decision{}, err
	}
	var hit *cached
	checkedAt := now
	if !req.NoCache {
		data, at, ok, err := c.Store.CachedGateCheck(ctx, g.Name, key, wm)
		if err != nil {
			return Decision{}, err
		}
		if ok && !at.After(now) && now.Sub(at) < g.Cache {
			var cc cached
			if err := json.Unmarshal(data, &cc); err == nil {
				hit, checkedAt = &cc, at
			}
		}
	}
	var checks []CheckResult
	if hit != nil {
		checks, start = hit.Checks, hit.WindowStart
	} else {
		checks = RunChecks(ctx, g, c.Query, params, start, now, 0)
		failed := slices.ContainsFunc(checks, func(r CheckResult) bool { return r.Error != "" })
		if !failed { // a failure may pass: never reuse one
			data, err := json.Marshal(cached{WindowStart: start, Checks: checks})
			if err != nil {
				return Decision{}, fmt.Errorf("gate %s: %w", g.Name, err)
			}
			if err := c.Store.PutGateCheck(ctx, g.Name, key, wm, now, data); err != nil {
				return Decision{}, err
			}
		}
	}
	d := Decide(g, params, checks, states, now)
	d.WindowStart, d.Cached, d.CheckedAt = start.UTC(), hit != nil, checkedAt
	if err := c.log(ctx, audit.Entry{Kind: KindDecision, Gate: g.Name, Decision: d.Decision}, decisionData(d, req.CI)); err != nil {
		return d, err
	}
	return d, nil
}

// decisionData is what the audit entry of a decision holds: enough to
// see why, without the evidence rows (the entry is not a copy of the
// store).
func decisionData(d Decision, ci map[string]string) map[string]any {
	var checks []map[string]any
	for _, c := range d.Checks {
		m := map[string]any{"name": c.Name, "decision": c.Decision, "row_count": c.RowCount}
		if c.Reason != "" {
			m["reason"] = c.Reason
		}
		if c.Error != "" {
			m["error"] = c.Error
		}
		checks = append(checks, m)
	}
	data := map[string]any{"reason": d.Reason, "checks": checks, "cached": d.Cached,
		"checked_at": d.CheckedAt.Format(time.RFC3339Nano), "window_start": d.WindowStart.Format(time.RFC3339Nano)}
	if d.Error != "" {
		data["error"] = d.Error
	}
	if len(d.Params) > 0 {
		data["params"] = d.Params
	}
	if d.State != nil {
		data["state"] = d.State
	}
	if len(ci) > 0 {
		data["ci"] = ci
	}
	return data
}

func (c *Checker) log(ctx context.Context, e audit.Entry, data any) error {
	b, err := json.Marshal(data)
	if err != nil {
		return err
	}
	e.Data = b
	if _, err := c.Audit.Append(ctx, e); err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	return nil
}

// Override sets g to decision (proceed, skip or halt) from now until
// until, for reason, by who: one of g's owners when it names any. It is
// in the audit log before it takes effect.
func (c *Checker) Override(ctx context.Context, g *runbook.Gate, decision string, until time.Time, reason, by string, ci map[string]string) (store.GateState, error) {
	now := c.now()
	until = until.UTC().Truncate(time.Microsecond)
	switch {
	case !slices.Contains(runbook.GateDecisions(), decision):
		return store.GateState{}, fmt.Errorf("decision %q is not %s", decision, strings.Join(runbook.GateDecisions(), ", "))
	case !until.After(now):
		return store.GateState{}, fmt.Errorf("until %s is not in the future", until.Format(time.RFC3339))
	case until.Sub(now) > MaxOverride:
		return store.GateState{}, fmt.Errorf("until %s is more than %s ahead; override again when it ends", until.Format(time.RFC3339), MaxOverride)
	}
	if err := c.authorise(g, reason, by); err != nil {
		return store.GateState{}, err
	}
	s := store.GateState{Gate: g.Name, State: decision, Reason: reason, SetBy: by, SetAt: now, Until: until}
	data := map[string]any{"decision": decision, "until": until.Format(time.RFC3339Nano), "reason": reason, "by": by}
	if len(ci) > 0 {
		data["ci"] = ci
	}
	if err := c.log(ctx, audit.Entry{Kind: KindOverride, Gate: g.Name, Decision: decision}, data); err != nil {
		return s, err
	}
	return s, c.Store.SetGate(ctx, s)
}

// Reopen clears every state set on g before now, runbook closures and
// overrides alike, and acknowledges the events before now: the checks
// look only at later ones. It is in the audit log before it takes
// effect.
func (c *Checker) Reopen(ctx context.Context, g *runbook.Gate, reason, by string, ci map[string]string) (store.GateState, error) {
	if err := c.authorise(g, reason, by); err != nil {
		return store.GateState{}, err
	}
	s := store.GateState{Gate: g.Name, State: Open, Reason: reason, SetBy: by, SetAt: c.now()}
	data := map[string]any{"reason": reason, "by": by}
	if len(ci) > 0 {
		data["ci"] = ci
	}
	if err := c.log(ctx, audit.Entry{Kind: KindReopen, Gate: g.Name, Decision: Open}, data); err != nil {
		return s, err
	}
	return s, c.Store.SetGate(ctx, s)
}

func (c *Checker) authorise(g *runbook.Gate, reason, by string) error {
	switch {
	case strings.TrimSpace(reason) == "":
		return errors.New("give a reason (--reason): it goes into the audit log")
	case strings.TrimSpace(by) == "":
		return errors.New("say who you are (--by, or $TRAILBOOK_USER): it goes into the audit log")
	case len(g.Owners) > 0 && !slices.Contains(g.Owners, by):
		return fmt.Errorf("%s may not change gate %s: its owners are %s", by, g.Name, strings.Join(g.Owners, ", "))
	}
	return nil
}
