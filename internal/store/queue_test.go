package store

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/trailbook/trailbook/internal/action"
	"github.com/trailbook/trailbook/internal/cloudtrail"
)

// TestEvaluationQueue: a Commit queues the events it stores, each once,
// in the order they were added (not the order they are stored in), and
// numbers them on from what the queue held before, across Writers; the
// queue is read back joined to the events and taken off in order.
func TestEvaluationQueue(t *testing.T) {
	ctx := context.Background()
	s := openTemp(t)
	at := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	ev := func(id, name string, sec int) cloudtrail.Event {
		e := sampleEvent(id, at.Add(time.Duration(sec)*time.Second))
		e.EventName = name
		e.JSON = []byte(fmt.Sprintf(`{"eventID":%q}`, id))
		return e
	}
	commit := func(w *Writer, files ...[]cloudtrail.Event) []Queued {
		t.Helper()
		for i, evs := range files {
			if err := w.Add(ctx, &File{Source: fmt.Sprint("f", i), Records: len(evs), Events: evs, NoLedger: i == 0}); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := w.Commit(ctx); err != nil {
			t.Fatal(err)
		}
		return slices.Clone(w.Queued())
	}
	w := newWriter(t, s)
	w.QueueEvaluations()
	// Stored clustered by eventName; queued as added.
	got := commit(w, []cloudtrail.Event{ev("a", "Z", 3), ev("b", "A", 1)}, []cloudtrail.Event{ev("c", "M", 2), ev("a", "Z", 3)})
	want := []Queued{{1, 0, 0}, {2, 0, 1}, {3, 1, 0}}
	if !slices.Equal(got, want) {
		t.Fatalf("first commit queued %v, want %v", got, want)
	}
	// A stored event again is not queued; a new one follows on.
	got = commit(w, []cloudtrail.Event{ev("b", "A", 1), ev("d", "B", 4)})
	if want := []Queued{{4, 0, 1}}; !slices.Equal(got, want) {
		t.Fatalf("second commit queued %v, want %v", got, want)
	}
	w.Close()
	if n := queryString(t, s.DB(), `SELECT count(*) FROM ingested_files`); n != "1" {
		t.Errorf("%s ledger rows, want 1 (the NoLedger files have none)", n)
	}
	through, err := s.PendingThrough(ctx)
	if err != nil || through != 4 {
		t.Fatalf("PendingThrough = %d, %v; want 4", through, err)
	}
	read := func(after, through int64, limit int) string {
		t.Helper()
		ps, err := s.PendingEvaluations(ctx, after, through, limit)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, p := range ps {
			out = append(out, fmt.Sprintf("%d%s", p.Seq, p.Record))
		}
		return strings.Join(out, " ")
	}
	if got, want := read(0, 4, 10), `1{"eventID":"a"} 2{"eventID":"b"} 3{"eventID":"c"} 4{"eventID":"d"}`; got != want {
		t.Errorf("pending: %s, want %s", got, want)
	}
	if got, want := read(1, 3, 1), `2{"eventID":"b"}`; got != want {
		t.Errorf("pending after 1 through 3, one: %s, want %s", got, want)
	}
	if err := s.EndPass(ctx, PassEnd{DoneThrough: 2}, time.Now()); err != nil {
		t.Fatal(err)
	}
	if got, want := read(0, 4, 10), `3{"eventID":"c"} 4{"eventID":"d"}`; got != want {
		t.Errorf("pending after done through 2: %s, want %s", got, want)
	}
	// A new Writer numbers on from what is left.
	w = newWriter(t, s)
	w.QueueEvaluations()
	if got, want := commit(w, []cloudtrail.Event{ev("e", "E", 5)}), []Queued{{5, 0, 0}}; !slices.Equal(got, want) {
		t.Fatalf("a new writer queued %v, want %v", got, want)
	}
}

// TestEndPass: one transaction records outcomes (undo as JSON), cooldowns
// and deferrals, and takes the queue off through a place.
func TestEndPass(t *testing.T) {
	ctx := context.Background()
	s := openTemp(t)
	now := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	claims := []Claim{{Action: action.Action{Key: "rb/e/0", Runbook: "rb", Kind: "alert"}, EventID: "e"},
		{Action: action.Action{Key: "rb/e/1", Runbook: "rb", Kind: "revert-tags"}, EventID: "e"}}
	if _, err := s.ClaimActions(ctx, claims, now); err != nil {
		t.Fatal(err)
	}
	err := s.EndPass(ctx, PassEnd{
		Outcomes: []action.Outcome{{Key: "rb/e/0", Status: action.StatusApplied, Detail: "sent <to> & more"},
			{Key: "rb/e/1", Status: action.StatusFailed, Error: "denied", Undo: []byte(`{"tags":{"a":"b"}}`)}},
		Cooldowns: []Cooldown{{Runbook: "rb", Dedup: "x", Until: now.Add(time.Hour)}},
		Deferred:  []Deferred{{Runbook: "rb", EventKey: "k", EventID: "e", Record: []byte(`{}`), RecheckAt: now.Add(time.Minute)}},
	}, now)
	if err != nil {
		t.Fatal(err)
	}
	for q, want := range map[string]string{
		`SELECT string_agg(status || ':' || detail || ':' || error || ':' || coalesce(undo->>'$.tags.a', '-'), ' ' ORDER BY "key") FROM action_runs`: "applied:sent <to> & more::- failed::denied:b",
		`SELECT count(*) FROM action_runs WHERE done_at IS NULL`:                                                                                     "0",
		`SELECT count(*) FROM runbook_cooldowns`:                                                                                                     "1",
		`SELECT count(*) FROM deferred_runs`:                                                                                                         "1",
	} {
		if got := queryString(t, s.DB(), q); got != want {
			t.Errorf("%s: %s, want %s", q, got, want)
		}
	}
}

// TestClaimActions: a new key is claimed once, even twice in a batch; one
// carried out is not claimed again, unless it was planned in a dry run
// and is now enforced; one claimed and never finished (a crash) is
// claimed again, up to MaxAttempts claims.
func TestClaimActions(t *testing.T) {
	ctx := context.Background()
	s := openTemp(t)
	now := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	claim := func(enforce bool, keys ...string) string {
		t.Helper()
		var cs []Claim
		for _, k := range keys {
			cs = append(cs, Claim{Action: action.Action{Key: k, Runbook: "rb", Kind: "alert", Enforce: enforce}, EventID: "e"})
		}
		ok, err := s.ClaimActions(ctx, cs, now)
		if err != nil {
			t.Fatal(err)
		}
		return fmt.Sprint(ok)
	}
	finish := func(key, status string) {
		t.Helper()
		if err := s.EndPass(ctx, PassEnd{Outcomes: []action.Outcome{{Key: key, Status: status}}}, now); err != nil {
			t.Fatal(err)
		}
	}
	if got := claim(false, "a", "b", "a"); got != "[true true false]" {
		t.Fatalf("new keys: %s", got)
	}
	finish("a", action.StatusApplied)
	finish("b", action.StatusPlanned)
	if got := claim(false, "a", "b"); got != "[false false]" {
		t.Fatalf("carried out, dry run again: %s", got)
	}
	if got := claim(true, "a", "b", "c"); got != "[false true true]" {
		t.Fatalf("enforced after a dry run: %s", got)
	}
	// c is claimed and never finished: claimed again until MaxAttempts.
	for i := 2; i <= MaxAttempts; i++ {
		if got := claim(true, "c"); got != "[true]" {
			t.Fatalf("claim %d of an unfinished action: %s", i, got)
		}
	}
	if got := claim(true, "c"); got != "[false]" {
		t.Fatalf("claim %d of an unfinished action: %s", MaxAttempts+1, got)
	}
	if got := queryString(t, s.DB(), `SELECT string_agg("key" || ':' || status || ':' || attempts || ':' || enforce, ' ' ORDER BY "key") FROM action_runs`); got != "a:applied:1:false b:claimed:2:true c:claimed:20:true" {
		t.Errorf("ledger: %s", got)
	}
}
