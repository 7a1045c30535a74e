package store

import (
	"context"
	"encoding/json"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestAuditRowsRoundTrip(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "t.duckdb")
	s, err := Open(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()

	rows, err := s.AuditRows(ctx)
	if err != nil || rows == nil || len(rows) != 0 {
		t.Fatalf("empty table: %v, %v", rows, err)
	}
	if seq, hash, err := s.LastAudit(ctx); seq != 0 || hash != "" || err != nil {
		t.Fatalf("LastAudit of an empty table: %d %q %v", seq, hash, err)
	}

	at := time.Date(2024, 5, 1, 12, 0, 0, 123456000, time.UTC)
	want := []AuditRow{
		{Seq: 1, LoggedAt: at, Kind: "evaluation", Runbook: "r", EventID: "e-1", Decision: "act",
			Data: json.RawMessage(`{"b":1.0,"a":"é\u0001<>&\u2028"}`), Prev: strings.Repeat("0", 64), Hash: strings.Repeat("a", 64)},
		{Seq: 2, LoggedAt: at.Add(time.Second), Kind: "gate-decision", Gate: "g", ActionKey: "r/e-1/0",
			Prev: strings.Repeat("a", 64), Hash: strings.Repeat("b", 64)},
	}
	if err := s.AppendAudit(ctx, want[:1]); err != nil {
		t.Fatal(err)
	}
	if err := s.AppendAudit(ctx, want[1:]); err != nil {
		t.Fatal(err)
	}
	got, err := s.AuditRows(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("rows differ:\n got %+v\nwant %+v", got, want)
	}
	if seq, hash, err := s.LastAudit(ctx); seq != 2 || hash != want[1].Hash || err != nil {
		t.Errorf("LastAudit: %d %q %v", seq, hash, err)
	}
	// Empty text is NULL in SQL, so queries can say IS NULL.
	var nulls int
	if err := s.DB().QueryRowContext(ctx, `SELECT count(*) FROM audit WHERE runbook IS NULL AND data IS NULL`).Scan(&nulls); err != nil || nulls != 1 {
		t.Errorf("NULLs: %d, %v", nulls, err)
	}

	// Rows that do not continue the table are refused, all of them.
	for _, bad := range [][]AuditRow{
		{{Seq: 2, LoggedAt: at, Kind: "k", Prev: "p", Hash: "h"}},
		{{Seq: 3, LoggedAt: at, Kind: "k", Prev: "p", Hash: "h"}, {Seq: 5, LoggedAt: at, Kind: "k", Prev: "p", Hash: "h"}},
	} {
		if err := s.AppendAudit(ctx, bad); err == nil || !strings.Contains(err.Error(), "want") {
			t.Errorf("AppendAudit(%v): %v", bad, err)
		}
	}
	if seq, _, _ := s.LastAudit(ctx); seq != 2 {
		t.Errorf("a refused batch left rows: last seq %d", seq)
	}
	s.Close()

	r, err := OpenReader(ctx, path, ReaderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	got, err = r.AuditRows(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("read-only rows differ:\n got %+v\nwant %+v", got, want)
	}
}
