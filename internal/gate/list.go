package gate

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/trailbook/trailbook/internal/runbook"
	"github.com/trailbook/trailbook/internal/store"
)

// Listing is one gate as `trailbook gate list` and GET /v1/gates show it:
// its state now, its last change and its last checked decision.
type Listing struct {
	Gate        string   `json:"gate"`
	Description string   `json:"description,omitempty"`
	Defined     bool     `json:"defined"` // false: a runbook closed it, and the folder does not define it
	Owners      []string `json:"owners,omitempty"`
	// State is open, or the latest state in force; Until and SetBy are
	// that state's.
	State       string    `json:"state"`
	Until       time.Time `json:"until,omitzero"`
	SetBy       string    `json:"set_by,omitempty"`
	Changed     time.Time `json:"changed,omitzero"` // the last state change, in force or not
	ChangedBy   string    `json:"changed_by,omitempty"`
	Why         string    `json:"why,omitempty"`
	LastCheck   string    `json:"last_check,omitempty"` // the last decision in the audit log
	LastChecked time.Time `json:"last_checked,omitzero"`
	InForce     []State   `json:"in_force"`
}

// List lists every gate set defines and any other a runbook has closed,
// by name, as at now. It runs no checks.
func List(ctx context.Context, st *store.Store, set *runbook.Set, now time.Time) ([]Listing, error) {
	states, err := st.GateStates(ctx, "")
	if err != nil {
		return nil, err
	}
	byGate := map[string][]store.GateState{}
	for _, s := range states {
		byGate[s.Gate] = append(byGate[s.Gate], s)
	}
	names := map[string]bool{}
	if set != nil {
		for _, g := range set.Gates {
			names[g.Name] = true
		}
	}
	for n := range byGate {
		names[n] = true
	}
	last, err := lastChecks(ctx, st)
	if err != nil {
		return nil, err
	}
	out := []Listing{}
	for _, name := range slices.Sorted(maps.Keys(names)) {
		l := Listing{Gate: name, State: Open, InForce: []State{}}
		if set != nil {
			if g := set.Gate(name); g != nil {
				l.Defined, l.Description, l.Owners = true, g.Description, g.Owners
			}
		}
		if hist := byGate[name]; len(hist) > 0 {
			c := hist[len(hist)-1]
			l.Changed, l.ChangedBy, l.Why = c.SetAt.UTC(), c.SetBy, c.State+": "+c.Reason
		}
		for _, s := range InForce(byGate[name], now) {
			l.InForce = append(l.InForce, *stateOf(s))
		}
		if n := len(l.InForce); n > 0 {
			l.State, l.Until, l.SetBy = l.InForce[n-1].State, l.InForce[n-1].Until, l.InForce[n-1].SetBy
		}
		if c, ok := last[name]; ok {
			l.LastCheck, l.LastChecked = c.Decision, c.LoggedAt.UTC()
		}
		out = append(out, l)
	}
	return out, nil
}

// lastChecks is each gate's last decision in the audit log's store copy.
func lastChecks(ctx context.Context, st *store.Store) (map[string]store.AuditRow, error) {
	rows, err := st.DB().QueryContext(ctx, `SELECT gate, arg_max(decision, seq), max(logged_at) FROM audit WHERE kind = ? GROUP BY gate`, KindDecision)
	if err != nil {
		return nil, fmt.Errorf("read audit: %w", err)
	}
	defer rows.Close()
	out := map[string]store.AuditRow{}
	for rows.Next() {
		var r store.AuditRow
		if err := rows.Scan(&r.Gate, &r.Decision, &r.LoggedAt); err != nil {
			return nil, fmt.Errorf("read audit: %w", err)
		}
		out[r.Gate] = r
	}
	return out, rows.Err()
}
