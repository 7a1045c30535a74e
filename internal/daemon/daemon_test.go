package daemon_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	_ "github.com/duckdb/duckdb-go/v2"

	"github.com/trailbook/trailbook/internal/cloudtrail"
	"github.com/trailbook/trailbook/internal/daemon"
	"github.com/trailbook/trailbook/internal/runbooktest"
	"github.com/trailbook/trailbook/internal/store"
)

// closer closes gate release on every StopLogging and says so on stdout.
const closer = `name: closer
description: closes the release gate on a stopped trail
owner: test
trigger:
  pattern: {eventName: [StopLogging]}
actions:
  - alert: {to: [stdout], title: "stopped by {{.event.userIdentity.arn}}"}
  - gate: {name: release, state: halt, reason: "{{.event.eventName}}", ttl: 1h}
tests:
  - name: closes
    event: {"eventVersion": "1.09", "eventTime": "2024-05-01T12:00:00Z", "eventSource": "cloudtrail.amazonaws.com", "eventName": "StopLogging", "awsRegion": "us-east-1", "eventID": "t", "recipientAccountId": "111122223333", "userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::111122223333:user/m"}}
    expect: {decision: act, actions: [alert, gate]}
`

func record(id, name string) string {
	return fmt.Sprintf(`{"eventVersion": "1.09", "eventTime": "2024-05-01T12:00:00Z", "eventSource": "cloudtrail.amazonaws.com", "eventName": %q, "awsRegion": "us-east-1", "eventID": %q, "recipientAccountId": "111122223333", "userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::111122223333:user/m"}}`, name, id)
}

// syncBuffer is a bytes.Buffer for one writer and one reader goroutine.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

type env struct {
	t      *testing.T
	dir    string
	db     string
	stdout *syncBuffer
	clock  atomic.Int64 // the daemons' now, in Unix nanoseconds
	// options, when set, adjusts the daemon's options before start.
	options func(*daemon.Options)
}

func newEnv(t *testing.T) *env {
	dir := t.TempDir()
	rb := filepath.Join(dir, "runbooks")
	if err := os.MkdirAll(rb, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(rb, "closer.yaml"), []byte(closer), 0o644); err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, dir: dir, db: filepath.Join(dir, "s.duckdb"), stdout: &syncBuffer{}}
	e.clock.Store(time.Date(2024, 5, 1, 12, 5, 0, 0, time.UTC).UnixNano())
	return e
}

// start opens a daemon and runs it until the returned stop is called.
func (e *env) start(folders ...daemon.Folder) (*daemon.Daemon, func()) {
	e.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	opts := daemon.Options{DB: e.db, RunbookDir: filepath.Join(e.dir, "runbooks"), Alerts: true,
		Stdout: e.stdout, Folders: folders, BatchWait: 10 * time.Millisecond, ReloadPoll: 20 * time.Millisecond,
		Now:    func() time.Time { return time.Unix(0, e.clock.Load()).UTC() },
		Logger: slog.New(slog.NewTextHandler(e.t.Output(), nil))}
	if e.options != nil {
		e.options(&opts)
	}
	d, err := daemon.Open(ctx, opts)
	if err != nil {
		e.t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	return d, func() {
		cancel()
		if err := <-done; err != nil {
			e.t.Error(err)
		}
		if err := d.Close(); err != nil {
			e.t.Error(err)
		}
	}
}

// until waits for cond, failing after 10 s.
func until(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (e *env) count(q string) int {
	e.t.Helper()
	st, err := store.Open(context.Background(), e.db, store.Options{})
	if err != nil {
		e.t.Fatal(err)
	}
	defer st.Close()
	var n int
	if err := st.DB().QueryRow(q).Scan(&n); err != nil {
		e.t.Fatal(err)
	}
	return n
}

// TestPushActsOnce: a pushed StopLogging is stored, evaluated and acted
// on once; pushed again, before and after a restart, it changes nothing.
func TestPushActsOnce(t *testing.T) {
	e := newEnv(t)
	d, stop := e.start()
	ctx := context.Background()
	body := []byte(`{"Records": [` + record("stop-1", "StopLogging") + `, ` + record("d-1", "DescribeTrails") + `]}`)
	p, err := d.Push(ctx, "http", body)
	if c := p.Counts; err != nil || c.Stored != 2 {
		t.Fatalf("%+v %v", c, err)
	}
	until(t, "the evaluation", func() bool { return d.Counters().Evaluated == 2 })
	if got := d.Counters(); got.Matched != 1 || got.Actions != 2 || got.ActionsFailed != 0 {
		t.Fatalf("%+v", got)
	}
	if p, err := d.Push(ctx, "http", body); err != nil || p.Counts.Stored != 0 || p.Counts.Duplicates != 2 {
		t.Fatalf("again: %+v %v", p, err)
	}
	for series, want := range map[string]float64{
		`trailbook_events_received_total{source="http"}`:               4,
		`trailbook_events_stored_total`:                                2,
		`trailbook_events_duplicate_total`:                             2,
		`trailbook_trigger_matches_total{runbook="closer"}`:            1,
		`trailbook_evaluations_total{decision="act",runbook="closer"}`: 1,
		`trailbook_actions_total{kind="gate",status="applied"}`:        1,
		`trailbook_actions_total{kind="alert",status="applied"}`:       1,
		`trailbook_runbooks`:                                           1,
		`trailbook_runbook_reloads_total{result="ok"}`:                 1,
	} {
		if got := metric(t, d, series); got != want {
			t.Errorf("%s = %v, want %v", series, got, want)
		}
	}
	stop()
	d, stop = e.start()
	if p, err := d.Push(ctx, "http", body); err != nil || p.Counts.Stored != 0 {
		t.Fatalf("after a restart: %+v %v", p, err)
	}
	time.Sleep(50 * time.Millisecond)
	stop()
	if n := e.count(`SELECT count(*) FROM gate_states WHERE gate = 'release'`); n != 1 {
		t.Fatalf("the gate was closed %d times", n)
	}
	if n := e.count(`SELECT count(*) FROM audit WHERE kind = 'evaluation'`); n != 1 {
		t.Fatalf("%d evaluations", n)
	}
	if got := e.stdout.String(); bytes.Count([]byte(got), []byte("stopped by arn:aws:iam::111122223333:user/m")) != 1 {
		t.Fatalf("stdout: %q", got)
	}
}

// TestPendingSurvivesACrash: events stored with their evaluation queued,
// but never evaluated (the daemon died between the two), are evaluated
// when it starts again.
func TestPendingSurvivesACrash(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	st, err := store.Open(ctx, e.db, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ev, err := runbooktest.DecodeRecord([]byte(record("stop-2", "StopLogging")))
	if err != nil {
		t.Fatal(err)
	}
	w, err := st.NewWriter(ctx)
	if err != nil {
		t.Fatal(err)
	}
	w.QueueEvaluations()
	if err := w.Add(ctx, &store.File{Source: "crashed", Records: 1, Events: []cloudtrail.Event{ev}}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	w.Close()
	st.Close()
	d, stop := e.start()
	until(t, "the evaluation", func() bool { return d.Counters().Evaluated == 1 })
	stop()
	if n := e.count(`SELECT count(*) FROM pending_evaluations`); n != 0 {
		t.Fatalf("%d still pending", n)
	}
	if n := e.count(`SELECT count(*) FROM gate_states`); n != 1 {
		t.Fatalf("%d gate states", n)
	}
}

// TestFolder: files dropped into a watched folder are stored once each,
// across a restart, and one still being written waits.
func TestFolder(t *testing.T) {
	e := newEnv(t)
	folder := filepath.Join(e.dir, "cloudtrail", "AWSLogs", "111122223333", "CloudTrail", "us-east-1", "2024", "05", "01")
	if err := os.MkdirAll(folder, 0o755); err != nil {
		t.Fatal(err)
	}
	write := func(name string, recs ...string) {
		body := `{"Records": [`
		for i, r := range recs {
			if i > 0 {
				body += ", "
			}
			body += r
		}
		if err := os.WriteFile(filepath.Join(folder, name), []byte(body+"]}"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("a.json", record("a-1", "DescribeTrails"), record("a-2", "StopLogging"))
	src := daemon.Folder{Name: "local", Path: filepath.Join(e.dir, "cloudtrail"), Poll: 20 * time.Millisecond}
	d, stop := e.start(src)
	until(t, "a.json", func() bool { return d.Counters().Evaluated == 2 })
	write("b.json", record("b-1", "DescribeTrails"))
	until(t, "b.json", func() bool { return d.Counters().Evaluated == 3 })
	stop()
	d, stop = e.start(src)
	write("c.json", record("c-1", "DescribeTrails"), record("a-1", "DescribeTrails"))
	until(t, "c.json", func() bool { return d.Counters().Deliveries == 1 })
	got := d.Counters()
	stop()
	if got.Stored != 1 || got.Duplicates != 1 {
		t.Fatalf("after the restart: %+v", got)
	}
	if n := e.count(`SELECT count(*) FROM events`); n != 4 {
		t.Fatalf("%d events", n)
	}
	if n := e.count(`SELECT count(*) FROM ingested_files`); n != 3 {
		t.Fatalf("%d files", n)
	}
}

// metric is the value of one series of the daemon's registry, as the
// text exposition names it: name{label="value",...}, labels sorted.
func metric(t *testing.T, d *daemon.Daemon, series string) float64 {
	t.Helper()
	mfs, err := d.Metrics().Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			name := mf.GetName()
			if len(m.GetLabel()) > 0 {
				var parts []string
				for _, l := range m.GetLabel() {
					parts = append(parts, fmt.Sprintf("%s=%q", l.GetName(), l.GetValue()))
				}
				name += "{" + strings.Join(parts, ",") + "}"
			}
			if name != series {
				continue
			}
			switch {
			case m.Counter != nil:
				return m.GetCounter().GetValue()
			case m.Gauge != nil:
				return m.GetGauge().GetValue()
			}
		}
	}
	t.Fatalf("no series %s", series)
	return 0
}

// TestHotReload: a runbook added to the folder is loaded while serving; a
// broken one keeps the set in force and says why; mended, it loads.
func TestHotReload(t *testing.T) {
	e := newEnv(t)
	d, stop := e.start()
	defer stop()
	rb := filepath.Join(e.dir, "runbooks")
	second := strings.Replace(closer, "name: closer", "name: closer-two", 1)
	if err := os.WriteFile(filepath.Join(rb, "two.yaml"), []byte(second), 0o644); err != nil {
		t.Fatal(err)
	}
	until(t, "the second runbook", func() bool { return len(d.Runbooks().Runbooks) == 2 })
	if err := os.WriteFile(filepath.Join(rb, "three.yaml"), []byte("name: [broken\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	until(t, "the failed reload", func() bool { _, err := d.ReloadStatus(); return err != nil })
	if _, err := d.ReloadStatus(); !strings.Contains(err.Error(), "three.yaml:2:1: syntax") {
		t.Fatalf("the error does not say where: %v", err)
	}
	if n := len(d.Runbooks().Runbooks); n != 2 {
		t.Fatalf("%d runbooks in force after a broken reload", n)
	}
	if err := os.WriteFile(filepath.Join(rb, "three.yaml"), []byte(strings.Replace(closer, "name: closer", "name: closer-three", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	until(t, "the mended runbook", func() bool { return len(d.Runbooks().Runbooks) == 3 })
	if _, err := d.ReloadStatus(); err != nil {
		t.Fatal(err)
	}
	if got := metric(t, d, `trailbook_runbook_reloads_total{result="error"}`); got < 1 {
		t.Fatalf("reload errors: %v", got)
	}
}

// TestPushRejectsAndBusy: a record that is not CloudTrail is named in what
// Push answers, beside the records stored; and a full intake queue makes
// Push give up with Busy, storing nothing, rather than wait for ever.
func TestPushRejectsAndBusy(t *testing.T) {
	e := newEnv(t)
	d, stop := e.start()
	p, err := d.Push(context.Background(), "http", []byte(record("ok-1", "DescribeTrails")+"\n{\"eventName\": 3}\n"))
	if err != nil || p.Counts.Stored != 1 || len(p.Rejects) != 1 || p.Rejects[0].Line != 2 || p.Rejects[0].Reason == "" {
		t.Fatalf("%+v %v", p, err)
	}
	stop()

	// Not running: nothing drains the queue of one.
	ctx := context.Background()
	d, err = daemon.Open(ctx, daemon.Options{DB: e.db, RunbookDir: filepath.Join(e.dir, "runbooks"), Queue: 1, PushWait: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	first, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	go d.Push(first, "http", []byte(record("q-1", "DescribeTrails")))
	time.Sleep(100 * time.Millisecond)
	if _, err := d.Push(ctx, "http", []byte(record("q-2", "DescribeTrails"))); !errors.As(err, new(daemon.Busy)) {
		t.Fatalf("a full queue answered %v, want Busy", err)
	}
}

// TestPushGzip pushes CloudTrail log files gzip'd, as a forwarder sends
// them: one is stored whole; one that inflates past MaxPushInflated keeps
// the records before the limit and rejects the rest, naming the limit.
func TestPushGzip(t *testing.T) {
	e := newEnv(t)
	e.options = func(o *daemon.Options) { o.MaxPushInflated = 64 << 10 }
	d, stop := e.start()
	defer stop()
	gz := func(s string) []byte {
		var b bytes.Buffer
		zw := gzip.NewWriter(&b)
		zw.Write([]byte(s))
		zw.Close()
		return b.Bytes()
	}
	ctx := context.Background()
	p, err := d.Push(ctx, "http", gz(`{"Records": [`+record("gz-1", "DescribeTrails")+`, `+record("gz-2", "GetTrailStatus")+`]}`))
	if err != nil || p.Counts.Records != 2 || p.Counts.Stored != 2 || len(p.Rejects) != 0 {
		t.Fatalf("gzip'd log file: %+v %v", p, err)
	}

	// 200 KB of blanks between the records inflate from a few hundred
	// bytes of gzip: the limit, not the body size, stops them.
	bomb := gz(`{"Records": [` + record("gz-3", "DescribeTrails") + `,` + strings.Repeat(" ", 200<<10) + record("gz-4", "DescribeTrails") + `]}`)
	if len(bomb) > 4<<10 {
		t.Fatalf("the body is %d bytes; want a small one", len(bomb))
	}
	p, err = d.Push(ctx, "http", bomb)
	if err != nil {
		t.Fatal(err)
	}
	if p.Counts.Stored != 1 || p.Counts.Rejected != 1 || len(p.Rejects) != 1 || !strings.Contains(p.Rejects[0].Reason, "65536-byte limit") {
		t.Fatalf("a body inflating past the limit: %+v, want gz-3 stored and the rest rejected at the limit", p)
	}
}

// everyMinute closes the release gate each minute the store holds events.
const everyMinute = `name: every-minute
description: skips releases while the store holds events
owner: test
trigger:
  schedule: 1m
query: SELECT count(*) AS n FROM events
condition: rows[0].n > 0
actions:
  - gate: {name: release, state: skip, reason: "{{(index .rows 0).n}} events at {{.now.Format \"15:04\"}}", ttl: 1h}
tests:
  - name: an empty store
    now: 2024-05-01T12:00:00Z
    expect: {decision: no-action, rows: 1}
  - name: one event
    given:
      - {"eventVersion": "1.09", "eventTime": "2024-05-01T11:00:00Z", "eventSource": "cloudtrail.amazonaws.com", "eventName": "DescribeTrails", "awsRegion": "us-east-1", "eventID": "g", "recipientAccountId": "111122223333", "userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::111122223333:user/m"}}
    now: 2024-05-01T12:00:00Z
    expect: {decision: act, actions: [gate]}
`

// TestScheduledRunbook: a scheduled runbook is evaluated at each tick of
// its period after serve starts, once a tick, without an event.
func TestScheduledRunbook(t *testing.T) {
	e := newEnv(t)
	if err := os.WriteFile(filepath.Join(e.dir, "runbooks", "every-minute.yaml"), []byte(everyMinute), 0o644); err != nil {
		t.Fatal(err)
	}
	d, stop := e.start()
	ctx := context.Background()
	if _, err := d.Push(ctx, "http", []byte(record("d-1", "DescribeTrails"))); err != nil {
		t.Fatal(err)
	}
	// Seen first at 12:05: nothing until 12:06.
	time.Sleep(1200 * time.Millisecond)
	if n := d.Counters().Scheduled; n != 0 {
		t.Fatalf("%d ticks evaluated before the first was due", n)
	}
	e.clock.Store(time.Date(2024, 5, 1, 12, 6, 20, 0, time.UTC).UnixNano())
	until(t, "the 12:06 tick", func() bool { return d.Counters().Scheduled == 1 })
	e.clock.Store(time.Date(2024, 5, 1, 12, 6, 50, 0, time.UTC).UnixNano())
	time.Sleep(1200 * time.Millisecond)
	e.clock.Store(time.Date(2024, 5, 1, 12, 7, 1, 0, time.UTC).UnixNano())
	until(t, "the 12:07 tick", func() bool { return d.Counters().Scheduled == 2 })
	stop()
	var got string
	st, err := store.Open(ctx, e.db, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.DB().QueryRow(`SELECT string_agg(reason, '; ' ORDER BY set_at) FROM gate_states WHERE gate = 'release' AND state = 'skip'`).Scan(&got); err != nil {
		t.Fatal(err)
	}
	if want := "1 events at 12:06; 1 events at 12:07"; got != want {
		t.Fatalf("gate states: %q, want %q", got, want)
	}
}
