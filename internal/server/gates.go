package server

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/trailbook/trailbook/internal/gate"
	"github.com/trailbook/trailbook/internal/runbook"
)

// gates lists every gate the runbook set defines, and any other a
// runbook has closed (gate.List): what `trailbook gate list --format json`
// prints. It runs no checks.
func (s *Server) gates(w http.ResponseWriter, r *http.Request, _ *Token) error {
	if err := noParams(r); err != nil {
		return err
	}
	out, err := gate.List(r.Context(), s.deps.Store, s.set(), time.Now().UTC())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"gates": out})
	return nil
}

// gateOf is the gate r's path names, or a 404 naming those there are.
func (s *Server) gateOf(r *http.Request) (*runbook.Gate, error) {
	name := r.PathValue("name")
	set := s.set()
	if g := set.Gate(name); g != nil {
		return g, nil
	}
	var names []string
	for _, g := range set.Gates {
		names = append(names, g.Name)
	}
	if len(names) == 0 {
		return nil, errorf(http.StatusNotFound, CodeNotFound, "no gate %s: the runbooks define no gates", name)
	}
	return nil, errorf(http.StatusNotFound, CodeNotFound, "no gate %s; there are %s", name, strings.Join(names, ", "))
}

// ciOf is what the audit entry records of who asked: the token's name
// and any ci.KEY=VALUE the caller gave (repository, job, run_id, commit,
// ...; see gate.CIContext).
func ciOf(q map[string][]string, t *Token) map[string]string {
	ci := map[string]string{"api_token": t.Name}
	for k, v := range q {
		if key, ok := strings.CutPrefix(k, "ci."); ok && key != "api_token" {
			ci[key] = v[0]
		}
	}
	return ci
}

// checkResponse is a gate's decision with the exit code `trailbook gate
// check` would give: 0 proceed, 1 halt, 3 skip, 2 error.
type checkResponse struct {
	gate.Decision
	ExitCode int `json:"exit_code"`
}

// gateCheck decides a gate now, as `trailbook gate check` does, and
// records the decision in the audit log: ?param.NAME=VALUE gives the
// gate's params, ?no_cache=true runs the checks even when a cached
// result would do, ?ci.KEY=VALUE adds to what the audit entry says of
// the caller. A gate that cannot be decided answers its on-error
// decision with the error, as the CLI prints it: exit_code 2 when the
// gate is fail-closed, 0 when it is fail-open.
func (s *Server) gateCheck(w http.ResponseWriter, r *http.Request, t *Token) error {
	q, err := params(r, "no_cache", "param.", "ci.")
	if err != nil {
		return err
	}
	noCache, err := boolParam(q, "no_cache")
	if err != nil {
		return err
	}
	g, err := s.gateOf(r)
	if err != nil {
		return err
	}
	given := map[string]string{}
	for k, v := range q {
		if name, ok := strings.CutPrefix(k, "param."); ok {
			given[name] = v[0]
		}
	}
	if _, err := gate.Params(g, given); err != nil {
		return errorf(http.StatusBadRequest, CodeBadParam, "%v", err)
	}
	d, err := s.deps.Checker.Check(r.Context(), g, gate.Request{Params: given, NoCache: noCache, CI: ciOf(q, t)})
	switch {
	case err != nil && d.Gate != "":
		// No pipeline may act on a decision that left no record.
		s.log.ErrorContext(r.Context(), "gate decision not recorded", "gate", g.Name, "decision", d.Decision, "err", err)
		return errorf(http.StatusInternalServerError, CodeUnrecorded,
			"gate %s decided %s, but the audit log did not take the decision: do not act on it", g.Name, d.Decision)
	case err != nil:
		s.log.WarnContext(r.Context(), "gate not decided", "gate", g.Name, "on_error", g.OnError, "err", err)
		d = gate.Decision{Gate: g.Name, Decision: g.OnError, Error: err.Error(), Now: time.Now().UTC(),
			Reason: "the gate could not be decided: " + err.Error(), Checks: []gate.CheckResult{}}
		code := gate.ExitError
		if g.OnError == runbook.GateProceed {
			code = gate.ExitProceed
		}
		writeJSON(w, http.StatusOK, checkResponse{d, code})
		return nil
	}
	writeJSON(w, http.StatusOK, checkResponse{d, d.ExitCode()})
	return nil
}

// overrideRequest is the body of POST /v1/gates/{name}/override.
type overrideRequest struct {
	Decision string `json:"decision"`
	// Until is an RFC 3339 time, or a duration from now (2h).
	Until  string `json:"until"`
	Reason string `json:"reason"`
}

// stateResponse is an override or reopening as recorded.
type stateResponse struct {
	Gate   string    `json:"gate"`
	State  string    `json:"state"`
	Until  time.Time `json:"until,omitzero"`
	SetBy  string    `json:"set_by"`
	SetAt  time.Time `json:"set_at"`
	Reason string    `json:"reason"`
}

// gateOverride sets a gate's decision until a time, as `trailbook gate
// override` does, by the token's name.
func (s *Server) gateOverride(w http.ResponseWriter, r *http.Request, t *Token) error {
	q, err := params(r, "ci.")
	if err != nil {
		return err
	}
	var req overrideRequest
	if err := decodeBody(w, r, maxJSONBody, &req); err != nil {
		return err
	}
	g, err := s.gateOf(r)
	if err != nil {
		return err
	}
	now := time.Now()
	var until time.Time
	if d, derr := time.ParseDuration(req.Until); derr == nil {
		until = now.Add(d).UTC()
	} else if until, err = parseTime(req.Until); err != nil {
		return errorf(http.StatusBadRequest, CodeBadRequest, "until: %v, or a duration from now such as 2h", err)
	}
	// What Checker.Override refuses, told apart by status.
	switch {
	case !slices.Contains(runbook.GateDecisions(), req.Decision):
		return errorf(http.StatusBadRequest, CodeBadRequest, "decision %q is not %s", req.Decision, strings.Join(runbook.GateDecisions(), ", "))
	case !until.After(now):
		return errorf(http.StatusBadRequest, CodeBadRequest, "until %s is not in the future", until.Format(time.RFC3339))
	case until.Sub(now) > gate.MaxOverride:
		return errorf(http.StatusBadRequest, CodeBadRequest, "until %s is more than %s ahead; override again when it ends", until.Format(time.RFC3339), gate.MaxOverride)
	}
	if err := authorise(g, req.Reason, t); err != nil {
		return err
	}
	st, err := s.deps.Checker.Override(r.Context(), g, req.Decision, until, req.Reason, t.Name, ciOf(q, t))
	if err != nil {
		return fmt.Errorf("override %s: %w", g.Name, err)
	}
	writeJSON(w, http.StatusOK, stateResponse{Gate: g.Name, State: st.State, Until: st.Until.UTC(), SetBy: st.SetBy, SetAt: st.SetAt.UTC(), Reason: st.Reason})
	return nil
}

// reopenRequest is the body of POST /v1/gates/{name}/reopen.
type reopenRequest struct {
	Reason string `json:"reason"`
}

// gateReopen clears what runbooks and overrides set on a gate and
// acknowledges the events so far, as `trailbook gate reopen` does, by the
// token's name.
func (s *Server) gateReopen(w http.ResponseWriter, r *http.Request, t *Token) error {
	q, err := params(r, "ci.")
	if err != nil {
		return err
	}
	var req reopenRequest
	if err := decodeBody(w, r, maxJSONBody, &req); err != nil {
		return err
	}
	g, err := s.gateOf(r)
	if err != nil {
		return err
	}
	if err := authorise(g, req.Reason, t); err != nil {
		return err
	}
	st, err := s.deps.Checker.Reopen(r.Context(), g, req.Reason, t.Name, ciOf(q, t))
	if err != nil {
		return fmt.Errorf("reopen %s: %w", g.Name, err)
	}
	writeJSON(w, http.StatusOK, stateResponse{Gate: g.Name, State: st.State, SetBy: st.SetBy, SetAt: st.SetAt.UTC(), Reason: st.Reason})
	return nil
}

// authorise refuses what Checker refuses of who changes a gate, with a
// status: no reason, or a token that is not one of the gate's owners.
func authorise(g *runbook.Gate, reason string, t *Token) error {
	switch {
	case strings.TrimSpace(reason) == "":
		return errorf(http.StatusBadRequest, CodeBadRequest, "give a reason: it goes into the audit log")
	case len(g.Owners) > 0 && !slices.Contains(g.Owners, t.Name):
		return errorf(http.StatusForbidden, CodeNotOwner, "token %s may not change gate %s: its owners are %s", t.Name, g.Name, strings.Join(g.Owners, ", "))
	}
	return nil
}
