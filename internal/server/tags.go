package server

import (
	"database/sql"
	"fmt"
	"net/http"
	"time"
)

// tagValue is one value a tag key of a resource held, as `trailbook tags
// history` lists it: To is nil while it holds.
type tagValue struct {
	Key          string     `json:"key"`
	Value        string     `json:"value"`
	From         time.Time  `json:"from"`
	To           *time.Time `json:"to"`
	SetByCall    string     `json:"set_by_call,omitempty"`
	SetBy        string     `json:"set_by,omitempty"`
	SetEventID   string     `json:"set_event_id,omitempty"`
	EndedByCall  string     `json:"ended_by_call,omitempty"`
	EndedBy      string     `json:"ended_by,omitempty"`
	EndedEventID string     `json:"ended_event_id,omitempty"`
}

// tags answers a resource's tags now and every value each key held: from
// the tag inventory, as `trailbook tags history` does. 404 when the
// inventory knows no tag change of the resource. An ARN's slashes may be
// sent as they are, or as %2F where two follow each other.
func (s *Server) tags(w http.ResponseWriter, r *http.Request, _ *Token) error {
	if err := noParams(r); err != nil {
		return err
	}
	arn := r.PathValue("arn")
	rows, err := s.deps.Store.DB().QueryContext(r.Context(), `SELECT "key", "value", valid_from, valid_to,
		set_event_name, set_by, set_event_id, ended_event_name, ended_by, ended_event_id
		FROM resource_tags WHERE arn = ? ORDER BY valid_from, "key"`, arn)
	if err != nil {
		return fmt.Errorf("read tags: %w", err)
	}
	defer rows.Close()
	history := []tagValue{}
	current := map[string]string{}
	for rows.Next() {
		var v tagValue
		var to sql.NullTime
		var setCall, setBy, setID, endCall, endBy, endID sql.NullString
		if err := rows.Scan(&v.Key, &v.Value, &v.From, &to, &setCall, &setBy, &setID, &endCall, &endBy, &endID); err != nil {
			return fmt.Errorf("read tags: %w", err)
		}
		v.From = v.From.UTC()
		if to.Valid {
			t := to.Time.UTC()
			v.To = &t
		} else {
			current[v.Key] = v.Value
		}
		v.SetByCall, v.SetBy, v.SetEventID = setCall.String, setBy.String, setID.String
		v.EndedByCall, v.EndedBy, v.EndedEventID = endCall.String, endBy.String, endID.String
		history = append(history, v)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read tags: %w", err)
	}
	if len(history) == 0 {
		known, err := s.knownUntagged(r, arn)
		if err != nil {
			return err
		}
		if !known {
			return errorf(http.StatusNotFound, CodeNotFound, "no tag history for %s", arn)
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"arn": arn, "tags": current, "history": history})
	return nil
}

// knownUntagged reports whether the inventory knows arn without any tag
// value: created untagged, or with every tag removed.
func (s *Server) knownUntagged(r *http.Request, arn string) (bool, error) {
	var n int
	if err := s.deps.Store.DB().QueryRowContext(r.Context(), `SELECT count(*) FROM tag_sets WHERE arn = ?`, arn).Scan(&n); err != nil {
		return false, fmt.Errorf("read tags: %w", err)
	}
	return n > 0, nil
}
