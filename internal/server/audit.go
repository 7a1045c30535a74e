package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/trailbook/trailbook/internal/audit"
	"github.com/trailbook/trailbook/internal/store"
)

// auditEntries lists audit entries from the store's copy of the log, in
// seq order: ?since_seq= those after it (default 0), ?limit= at most so
// many (default 100, at most 1000). Each is the entry as its line in the
// log file holds it. next_since_seq is the since_seq of the next page;
// more says whether there is one yet.
func (s *Server) auditEntries(w http.ResponseWriter, r *http.Request, _ *Token) error {
	q, err := params(r, "since_seq", "limit")
	if err != nil {
		return err
	}
	since, err := intParam(q, "since_seq", 0, 0, math.MaxInt64)
	if err != nil {
		return err
	}
	limit, err := intParam(q, "limit", 100, 1, 1000)
	if err != nil {
		return err
	}
	rows, err := s.deps.Store.DB().QueryContext(r.Context(), `SELECT seq, logged_at, kind, coalesce(runbook, ''), coalesce(gate, ''),
		coalesce(event_id, ''), coalesce(action_key, ''), coalesce(decision, ''), CAST(data AS VARCHAR), prev, hash
		FROM audit WHERE seq > ? ORDER BY seq LIMIT ?`, since, limit+1)
	if err != nil {
		return fmt.Errorf("read audit: %w", err)
	}
	defer rows.Close()
	entries := []audit.Entry{}
	for rows.Next() {
		var e audit.Entry
		var data *string
		if err := rows.Scan(&e.Seq, &e.Time, &e.Kind, &e.Runbook, &e.Gate, &e.EventID, &e.ActionKey, &e.Decision, &data, &e.Prev, &e.Hash); err != nil {
			return fmt.Errorf("read audit: %w", err)
		}
		e.Time = e.Time.UTC()
		if data != nil {
			e.Data = []byte(*data)
		}
		entries = append(entries, e)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read audit: %w", err)
	}
	more := len(entries) > int(limit)
	if more {
		entries = entries[:limit]
	}
	next := since
	if n := len(entries); n > 0 {
		next = entries[n-1].Seq
	}
	writeJSON(w, http.StatusOK, map[string]any{"entries": entries, "next_since_seq": next, "more": more})
	return nil
}

// verifyReport is GET /v1/audit/verify's answer, what `trailbook audit
// verify` prints.
type verifyReport struct {
	Intact   bool   `json:"intact"`
	Entries  int    `json:"entries"`
	LastSeq  int64  `json:"last_seq"`
	LastHash string `json:"last_hash"`
	// StoreSeq is the last seq the store's copy holds; below LastSeq
	// only while an append is being copied, or after a failed copy.
	StoreSeq int64          `json:"store_seq"`
	Problems []auditProblem `json:"problems"`
}

type auditProblem struct {
	Line    int        `json:"line"`
	Seq     int64      `json:"seq,omitempty"`
	Kind    audit.Kind `json:"kind"`
	Message string     `json:"message"`
}

// auditVerify checks the audit log file and the store's copy as `trailbook
// audit verify` does. A tampered log is an answer (intact false, the
// problems), not an error.
func (s *Server) auditVerify(w http.ResponseWriter, r *http.Request, _ *Token) error {
	if err := noParams(r); err != nil {
		return err
	}
	rep, err := s.verify(r.Context())
	if err != nil {
		return err
	}
	out := verifyReport{Intact: rep.OK(), Entries: rep.Entries, LastSeq: rep.LastSeq, LastHash: rep.LastHash,
		StoreSeq: rep.StoreSeq, Problems: []auditProblem{}}
	for _, p := range rep.Problems {
		out.Problems = append(out.Problems, auditProblem{Line: p.Line, Seq: p.Seq, Kind: p.Kind, Message: p.Message})
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// verify reads the store's copy, then the file, and verifies them. The
// log is appended to while it is read: the file is written before the
// copy, so reading the copy first sees no row the file lacks, but the
// file's last line may be caught half written. A log that is not intact
// is read again, a few times, before it is reported.
func (s *Server) verify(ctx context.Context) (audit.Report, error) {
	var rep audit.Report
	for try := 0; try < 3; try++ {
		if try > 0 {
			select {
			case <-ctx.Done():
				return rep, ctx.Err()
			case <-time.After(50 * time.Millisecond):
			}
		}
		rows, err := s.deps.Store.AuditRows(ctx)
		if err != nil {
			return rep, err
		}
		rep, err = verifyFile(s.deps.AuditPath, rows)
		if err != nil {
			return rep, err
		}
		if rep.Err != nil {
			return rep, rep.Err
		}
		if rep.OK() {
			break
		}
	}
	return rep, nil
}

// verifyFile verifies the log at path against rows; a missing file is an
// empty log.
func verifyFile(path string, rows []store.AuditRow) (audit.Report, error) {
	var r io.Reader = strings.NewReader("")
	f, err := os.Open(path)
	switch {
	case err == nil:
		defer f.Close()
		r = f
	case !errors.Is(err, os.ErrNotExist):
		return audit.Report{}, fmt.Errorf("open audit log: %w", err)
	}
	return audit.Verify(r, path, rows), nil
}
