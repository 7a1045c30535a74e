package server

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// runbookInfo is one runbook as GET /v1/runbooks lists it.
type runbookInfo struct {
	Name        string      `json:"name"`
	Description string      `json:"description,omitempty"`
	Owner       string      `json:"owner,omitempty"`
	Severity    string      `json:"severity"`
	Mode        string      `json:"mode"`
	Trigger     triggerInfo `json:"trigger"`
	Actions     []string    `json:"actions"`
	Cooldown    string      `json:"cooldown,omitempty"`
	Query       string      `json:"query,omitempty"`
	Tests       int         `json:"tests"`
}

type triggerInfo struct {
	// Pattern is the EventBridge pattern, as JSON; Envelope says it is
	// written against EventBridge's envelope rather than the record.
	Pattern  json.RawMessage `json:"pattern,omitempty"`
	Envelope bool            `json:"envelope,omitempty"`
	Schedule string          `json:"schedule,omitempty"`
}

func (s *Server) runbooks(w http.ResponseWriter, r *http.Request, _ *Token) error {
	if err := noParams(r); err != nil {
		return err
	}
	out := []runbookInfo{}
	for _, rb := range s.set().Runbooks {
		info := runbookInfo{Name: rb.Name, Description: rb.Description, Owner: rb.Owner, Severity: rb.Severity,
			Mode: rb.Mode, Actions: []string{}, Query: rb.Query, Tests: len(rb.Tests)}
		if rb.Trigger.Pattern != "" {
			info.Trigger.Pattern, info.Trigger.Envelope = json.RawMessage(rb.Trigger.Pattern), rb.Trigger.Envelope
		}
		if rb.Trigger.Schedule > 0 {
			info.Trigger.Schedule = rb.Trigger.Schedule.String()
		}
		if rb.Cooldown > 0 {
			info.Cooldown = rb.Cooldown.String()
		}
		for _, a := range rb.Actions {
			info.Actions = append(info.Actions, a.Kind)
		}
		out = append(out, info)
	}
	writeJSON(w, http.StatusOK, map[string]any{"runbooks": out})
	return nil
}

// run is one evaluation of a runbook on an event, from the audit log,
// with the actions recorded for it.
type run struct {
	Seq      int64     `json:"seq"`
	Time     time.Time `json:"time"`
	Runbook  string    `json:"runbook"`
	EventID  string    `json:"event_id,omitempty"`
	Decision string    `json:"decision"`
	Reason   string    `json:"reason,omitempty"`
	Mode     string    `json:"mode,omitempty"`
	RowCount int       `json:"row_count"`
	// Params are the runbook's params as evaluated on the event.
	Params    map[string]any `json:"params,omitempty"`
	RecheckAt *time.Time     `json:"recheck_at,omitempty"`
	Actions   []runAction    `json:"actions"`
}

// runAction is an action entry of the audit log.
type runAction struct {
	Seq     int64  `json:"seq"`
	Key     string `json:"key"`
	Kind    string `json:"kind,omitempty"`
	Enforce bool   `json:"enforce"`
	Status  string `json:"status"`
	Detail  string `json:"detail,omitempty"`
	Error   string `json:"error,omitempty"`
}

// runs lists the latest evaluations, newest first: ?runbook= one
// runbook's, ?since= from a time on, ?limit= at most so many (default
// 100, at most 1000). An evaluation's actions are the action entries of
// the same runbook and event logged after it and before the next
// evaluation of the two.
func (s *Server) runs(w http.ResponseWriter, r *http.Request, _ *Token) error {
	q, err := params(r, "runbook", "since", "limit")
	if err != nil {
		return err
	}
	limit, err := intParam(q, "limit", 100, 1, 1000)
	if err != nil {
		return err
	}
	since, err := timeParam(q, "since", time.Now())
	if err != nil {
		return err
	}
	where := []string{"kind = 'evaluation'"}
	var args []any
	if rb := q.Get("runbook"); rb != "" {
		where, args = append(where, "runbook = ?"), append(args, rb)
	}
	if !since.IsZero() {
		where, args = append(where, "logged_at >= ?"), append(args, since)
	}
	ctx := r.Context()
	db := s.deps.Store.DB()
	rows, err := db.QueryContext(ctx, `SELECT seq, logged_at, runbook, coalesce(event_id, ''), coalesce(decision, ''), CAST(data AS VARCHAR)
		FROM audit WHERE `+strings.Join(where, " AND ")+` ORDER BY seq DESC LIMIT ?`, append(args, limit)...)
	if err != nil {
		return fmt.Errorf("read runs: %w", err)
	}
	defer rows.Close()
	out := []*run{}
	for rows.Next() {
		var rn run
		var data *string
		if err := rows.Scan(&rn.Seq, &rn.Time, &rn.Runbook, &rn.EventID, &rn.Decision, &data); err != nil {
			return fmt.Errorf("read runs: %w", err)
		}
		rn.Time = rn.Time.UTC()
		rn.Actions = []runAction{}
		if data != nil {
			var d struct {
				Reason    string         `json:"reason"`
				Mode      string         `json:"mode"`
				RowCount  int            `json:"row_count"`
				Params    map[string]any `json:"params"`
				RecheckAt *time.Time     `json:"recheck_at"`
			}
			if json.Unmarshal([]byte(*data), &d) == nil {
				rn.Reason, rn.Mode, rn.RowCount, rn.Params = d.Reason, d.Mode, d.RowCount, d.Params
				if d.RecheckAt != nil && !d.RecheckAt.IsZero() {
					rn.RecheckAt = d.RecheckAt
				}
			}
		}
		out = append(out, &rn)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read runs: %w", err)
	}
	if err := s.runActions(r, out); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"runs": out})
	return nil
}

// runActions fills in the actions of runs.
func (s *Server) runActions(r *http.Request, runs []*run) error {
	if len(runs) == 0 {
		return nil
	}
	type pair struct{ runbook, event string }
	byPair := map[pair][]*run{}
	var cond []string
	var args []any
	for _, rn := range runs {
		p := pair{rn.Runbook, rn.EventID}
		if _, ok := byPair[p]; !ok {
			cond = append(cond, "(runbook = ? AND coalesce(event_id, '') = ?)")
			args = append(args, p.runbook, p.event)
		}
		byPair[p] = append(byPair[p], rn)
	}
	// The evaluations and actions of these pairs from the oldest run
	// listed on, in order: each action belongs to the evaluation before it.
	oldest := runs[len(runs)-1].Seq
	rows, err := s.deps.Store.DB().QueryContext(r.Context(), `SELECT seq, kind, runbook, coalesce(event_id, ''), coalesce(action_key, ''),
		coalesce(decision, ''), CAST(data AS VARCHAR) FROM audit
		WHERE seq >= ? AND kind IN ('evaluation', 'action') AND (`+strings.Join(cond, " OR ")+`) ORDER BY seq`,
		append([]any{oldest}, args...)...)
	if err != nil {
		return fmt.Errorf("read run actions: %w", err)
	}
	defer rows.Close()
	bySeq := map[int64]*run{}
	for _, rn := range runs {
		bySeq[rn.Seq] = rn
	}
	current := map[pair]*run{} // the evaluation an action of the pair belongs to
	for rows.Next() {
		var seq int64
		var kind, key, status string
		var p pair
		var data *string
		if err := rows.Scan(&seq, &kind, &p.runbook, &p.event, &key, &status, &data); err != nil {
			return fmt.Errorf("read run actions: %w", err)
		}
		if kind == "evaluation" {
			current[p] = bySeq[seq] // nil for one not listed (after limit, or filtered out)
			continue
		}
		rn := current[p]
		if rn == nil {
			continue
		}
		a := runAction{Seq: seq, Key: key, Status: status}
		if data != nil {
			var d struct {
				Action struct {
					Kind    string `json:"kind"`
					Enforce bool   `json:"enforce"`
				} `json:"action"`
				Outcome struct {
					Detail string `json:"detail"`
					Error  string `json:"error"`
				} `json:"outcome"`
			}
			if json.Unmarshal([]byte(*data), &d) == nil {
				a.Kind, a.Enforce, a.Detail, a.Error = d.Action.Kind, d.Action.Enforce, d.Outcome.Detail, d.Outcome.Error
			}
		}
		rn.Actions = append(rn.Actions, a)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read run actions: %w", err)
	}
	return nil
}
