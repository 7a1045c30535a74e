package daemon

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/trailbook/trailbook/internal/action"
	"github.com/trailbook/trailbook/internal/store"
)

// TestJournal: claims are decided from what the journal holds, then the
// store; a record writes them with the outcomes and deletes the files; and
// files a killed run left (the last line torn) are recorded on open.
func TestJournal(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	st, err := store.Open(ctx, filepath.Join(dir, "s.duckdb"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	now := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	ledger := func() string {
		t.Helper()
		var out string
		if err := st.DB().QueryRow(`SELECT coalesce(string_agg("key" || ':' || status || ':' || attempts, ' ' ORDER BY "key"), '') FROM action_runs`).Scan(&out); err != nil {
			t.Fatal(err)
		}
		return out
	}
	// A run before left two files: one whole, one cut short while a
	// claim was being written.
	jdir := journalDir(filepath.Join(dir, "s.duckdb"))
	if err := os.MkdirAll(jdir, 0o700); err != nil {
		t.Fatal(err)
	}
	line := func(key string, attempts int) string {
		return fmt.Sprintf(`{"key":%q,"runbook":"rb","event_id":"e","idx":0,"kind":"alert","enforce":false,"attempts":%d,"at":"2024-05-01T11:00:00Z"}`+"\n", key, attempts)
	}
	// Past the padding, 100000000 comes after 99999999.
	os.WriteFile(filepath.Join(jdir, "99999999.jsonl"), []byte(line("old-1", 1)+line("old-2", 1)), 0o600)
	os.WriteFile(filepath.Join(jdir, "100000000.jsonl"), []byte(line("old-2", 2)+`{"key":"old-3","runb`), 0o600)
	j, err := openJournal(ctx, st, jdir)
	if err != nil {
		t.Fatal(err)
	}
	defer j.close()
	if got, want := ledger(), "old-1:claimed:1 old-2:claimed:2"; got != want {
		t.Fatalf("after open: %s, want %s", got, want)
	}
	if names, _ := filepath.Glob(filepath.Join(jdir, "*.jsonl")); len(names) != 1 || filepath.Base(names[0]) != "100000001.jsonl" {
		t.Fatalf("journal files after open: %v", names)
	}

	claim := func(keys ...string) string {
		t.Helper()
		var cs []store.Claim
		for _, k := range keys {
			cs = append(cs, store.Claim{Action: action.Action{Key: k, Runbook: "rb", Kind: "alert"}, EventID: "e"})
		}
		ok, err := j.ClaimActions(ctx, cs, now)
		if err != nil {
			t.Fatal(err)
		}
		return fmt.Sprint(ok)
	}
	// old-1 is in the store as claimed: claimed again; new is new, once.
	if got := claim("old-1", "new", "new"); got != "[true true false]" {
		t.Fatalf("first claims: %s", got)
	}
	if err := j.EndPass(ctx, store.PassEnd{Outcomes: []action.Outcome{{Key: "new", Status: action.StatusApplied}},
		Cooldowns: []store.Cooldown{{Runbook: "rb", Dedup: "d", Until: now.Add(time.Hour)}}}, now); err != nil {
		t.Fatal(err)
	}
	// Not recorded yet: the journal decides. new was carried out; old-1
	// is claimed twice now.
	if got := claim("new", "old-1"); got != "[false true]" {
		t.Fatalf("claims before the record: %s", got)
	}
	if got := j.cooldownUntil("rb", "d"); !got.Equal(now.Add(time.Hour)) {
		t.Fatalf("held cooldown: %v", got)
	}
	if got, want := ledger(), "old-1:claimed:1 old-2:claimed:2"; got != want {
		t.Fatalf("before the record: %s, want %s", got, want)
	}
	if err := j.record(ctx); err != nil {
		t.Fatal(err)
	}
	if got, want := ledger(), "new:applied:1 old-1:claimed:3 old-2:claimed:2"; got != want {
		t.Fatalf("after the record: %s, want %s", got, want)
	}
	if got := j.cooldownUntil("rb", "d"); !got.IsZero() {
		t.Fatalf("a recorded cooldown still held: %v", got)
	}
	var cool int
	st.DB().QueryRow(`SELECT count(*) FROM runbook_cooldowns`).Scan(&cool)
	if cool != 1 {
		t.Fatalf("%d cooldowns recorded", cool)
	}
	// Recorded: the store decides.
	if got := claim("new", "old-2"); got != "[false true]" {
		t.Fatalf("claims after the record: %s", got)
	}
	names, _ := filepath.Glob(filepath.Join(jdir, "*.jsonl"))
	if len(names) != 1 || filepath.Base(names[0]) != "100000002.jsonl" {
		t.Fatalf("journal files after the record: %v", names)
	}
	if data, _ := os.ReadFile(names[0]); !strings.Contains(string(data), `"key":"old-2"`) || !strings.Contains(string(data), `"attempts":3`) {
		t.Fatalf("the open file holds %q", data)
	}
}
