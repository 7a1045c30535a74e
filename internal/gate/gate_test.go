package gate_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	_ "github.com/duckdb/duckdb-go/v2"

	"github.com/trailbook/trailbook/internal/audit"
	"github.com/trailbook/trailbook/internal/cloudtrail"
	"github.com/trailbook/trailbook/internal/engine"
	"github.com/trailbook/trailbook/internal/gate"
	"github.com/trailbook/trailbook/internal/query"
	"github.com/trailbook/trailbook/internal/runbook"
	"github.com/trailbook/trailbook/internal/runbooktest"
	"github.com/trailbook/trailbook/internal/store"
)

// logging is a gate with one check, fail-closed: halt on a StopLogging
// in the last 24 h.
const logging = `gate: logging
description: logging stays on
owners: [alice]
checks:
  - name: stopped
    query: |
      SELECT eventTime, eventName, userIdentity.arn AS actor FROM events
      WHERE eventName = 'StopLogging' AND errorCode IS NULL
        AND eventTime >= :window_start AND eventTime <= :now
      ORDER BY eventTime, eventID
    reason: "logging stopped by {{(index .rows 0).actor}}"
tests:
  - name: t
    now: 2024-05-01T00:00:00Z
    expect: {decision: proceed}
`

// broken is fail-closed (or fail-open, with onError) and its check fails
// at run time.
func broken(onError string) string {
	return fmt.Sprintf(`gate: broken-%s
description: a check that fails when it runs
on-error: %s
checks:
  - name: fails
    query: SELECT CAST(eventName AS INTEGER) AS n FROM events
tests:
  - name: t
    given: [%[3]s]
    now: 2024-05-01T00:00:00Z
    expect: {decision: %[1]s, error: true}
  - name: a broken check is not a finding
    given: [%[3]s]
    now: 2024-05-01T00:00:00Z
    expect: {decision: %[1]s}
`, onError, onError, `{"eventVersion": "1.09", "eventTime": "2024-04-30T12:00:00Z", "eventSource": "s3.amazonaws.com", "eventName": "GetObject", "eventID": "e1", "awsRegion": "us-east-1", "recipientAccountId": "111122223333"}`)
}

func loadGates(t *testing.T, docs ...string) *runbook.Set {
	t.Helper()
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var files []runbook.File
	for i, d := range docs {
		files = append(files, runbook.File{Name: fmt.Sprintf("g%d.yaml", i), Data: []byte(d)})
	}
	set, err := runbook.Load(context.Background(), files, runbook.Options{Conn: db})
	if err != nil {
		t.Fatal(err)
	}
	return set
}

// fixture is a store, its audit log and a checker on a settable clock.
type fixture struct {
	t       *testing.T
	st      *store.Store
	log     *audit.Log
	logPath string
	checker *gate.Checker
	clock   time.Time
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	st, err := store.Open(ctx, filepath.Join(dir, "s.duckdb"), store.Options{MemoryLimit: "256MB", Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	conn, err := st.DB().Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	for _, stmt := range query.Prelude() {
		if _, err := conn.ExecContext(ctx, stmt); err != nil {
			t.Fatal(err)
		}
	}
	f := &fixture{t: t, st: st, logPath: filepath.Join(dir, "s.audit.jsonl"), clock: time.Date(2024, 5, 2, 12, 0, 0, 0, time.UTC)}
	if f.log, err = audit.Open(f.logPath, audit.Options{Mirror: st}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.log.Close() })
	f.checker = &gate.Checker{Store: st, Query: engine.StoreSnapshot{Conn: conn}, Audit: f.log, Now: func() time.Time { return f.clock }}
	return f
}

// add stores a CloudTrail event named name at time at, by actor.
func (f *fixture) add(name string, at time.Time, errorCode string) {
	f.t.Helper()
	rec := fmt.Sprintf(`{"eventVersion":"1.09","eventTime":%q,"eventSource":"cloudtrail.amazonaws.com","eventName":%q,"awsRegion":"us-east-1","eventID":"%s-%d","recipientAccountId":"111122223333","userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/mallory"}%s}`,
		at.Format(time.RFC3339), name, name, at.Unix(), map[bool]string{true: `,"errorCode":"` + errorCode + `"`, false: ""}[errorCode != ""])
	res := cloudtrail.Decode([]byte(rec), cloudtrail.Options{})
	if len(res.Events) != 1 {
		f.t.Fatalf("bad record %s", rec)
	}
	ctx := context.Background()
	w, err := f.st.NewWriter(ctx)
	if err != nil {
		f.t.Fatal(err)
	}
	defer w.Close()
	if err := w.Add(ctx, &store.File{Source: "test", Records: 1, Events: res.Events}); err != nil {
		f.t.Fatal(err)
	}
	if _, err := w.Commit(ctx); err != nil {
		f.t.Fatal(err)
	}
}

func (f *fixture) check(g *runbook.Gate, noCache bool) gate.Decision {
	f.t.Helper()
	d, err := f.checker.Check(context.Background(), g, gate.Request{NoCache: noCache, CI: map[string]string{"system": "test", "job": f.t.Name()}})
	if err != nil {
		f.t.Fatal(err)
	}
	return d
}

func (f *fixture) want(g *runbook.Gate, decision string, exit int, cached bool, step string) gate.Decision {
	f.t.Helper()
	d := f.check(g, false)
	if d.Decision != decision || d.ExitCode() != exit || d.Cached != cached {
		f.t.Fatalf("%s: got %s (exit %d, cached %v: %s), want %s (exit %d, cached %v)", step, d.Decision, d.ExitCode(), d.Cached, d.Reason, decision, exit, cached)
	}
	return d
}

// TestDecisionFlips walks one gate through what the issue names: a
// matching event halts it, a reopening clears it, a runbook closes it
// until its TTL, an override holds until its until, a later runbook
// closure outranks an override, and the audit log holds every step and
// verifies.
func TestDecisionFlips(t *testing.T) {
	f := newFixture(t)
	g := loadGates(t, logging).Gate("logging")
	ctx := context.Background()
	hour := time.Hour

	f.add("DescribeTrails", f.clock.Add(-hour), "")
	f.want(g, "proceed", gate.ExitProceed, false, "clean history")
	f.want(g, "proceed", gate.ExitProceed, true, "asked again, nothing new")

	f.add("StopLogging", f.clock.Add(-2*hour), "AccessDenied")
	f.want(g, "proceed", gate.ExitProceed, false, "a denied StopLogging")

	f.add("StopLogging", f.clock.Add(-hour), "")
	d := f.want(g, "halt", gate.ExitHalt, false, "logging stopped an hour ago")
	if d.Checks[0].RowCount != 1 || d.Checks[0].Rows[0]["actor"] != "arn:aws:iam::111122223333:user/mallory" {
		t.Fatalf("evidence: %+v", d.Checks[0])
	}
	if d.Reason != "logging stopped by arn:aws:iam::111122223333:user/mallory" {
		t.Fatalf("reason %q", d.Reason)
	}
	f.want(g, "halt", gate.ExitHalt, true, "asked again: cached")
	if d := f.check(g, true); d.Cached || d.Decision != "halt" {
		t.Fatalf("--no-cache: %+v", d)
	}

	// The window moves on: 25 hours later the event is out of it.
	f.clock = f.clock.Add(24 * hour)
	f.want(g, "proceed", gate.ExitProceed, false, "the StopLogging left the window")
	f.clock = f.clock.Add(-24 * hour)

	// A reopening acknowledges it.
	f.clock = f.clock.Add(time.Minute)
	if _, err := f.checker.Reopen(ctx, g, "trail restarted, INC-42", "alice", nil); err != nil {
		t.Fatal(err)
	}
	f.want(g, "proceed", gate.ExitProceed, false, "reopened")

	// A runbook closes it for an hour.
	f.clock = f.clock.Add(30 * time.Second)
	if err := f.st.SetGate(ctx, store.GateState{Gate: g.Name, State: "halt", Reason: "CloudTrail StopLogging", SetBy: "cloudtrail-tampering",
		Runbook: "cloudtrail-tampering", SetAt: f.clock, Until: f.clock.Add(hour)}); err != nil {
		t.Fatal(err)
	}
	d = f.want(g, "halt", gate.ExitHalt, true, "closed by a runbook (the checks' result still cached)")
	if d.State == nil || d.State.Runbook != "cloudtrail-tampering" {
		t.Fatalf("state %+v", d.State)
	}
	f.clock = f.clock.Add(hour + time.Second)
	f.want(g, "proceed", gate.ExitProceed, false, "the closure's TTL ended")

	// A new StopLogging halts; an override lets one release through
	// until it ends.
	f.add("StopLogging", f.clock.Add(-time.Minute), "")
	f.want(g, "halt", gate.ExitHalt, false, "stopped again")
	if _, err := f.checker.Override(ctx, g, "proceed", f.clock.Add(30*time.Minute), "hotfix, approved by CAB-7", "mallory", nil); err == nil {
		t.Fatal("mallory is not an owner, and overrode")
	}
	if _, err := f.checker.Override(ctx, g, "proceed", f.clock.Add(-time.Minute), "late", "alice", nil); err == nil {
		t.Fatal("an override that ended already was taken")
	}
	if _, err := f.checker.Override(ctx, g, "proceed", f.clock.Add(30*time.Minute), "hotfix, approved by CAB-7", "alice", nil); err != nil {
		t.Fatal(err)
	}
	d = f.want(g, "proceed", gate.ExitProceed, true, "overridden")
	if d.State == nil || !d.State.Override || d.Checks[0].Decision != "halt" {
		t.Fatalf("an override must show what it overrode: %+v", d)
	}
	// A runbook closing the gate after the override outranks it.
	f.clock = f.clock.Add(time.Minute)
	if err := f.st.SetGate(ctx, store.GateState{Gate: g.Name, State: "skip", Reason: "IAM change", SetBy: "unapproved-iam-change",
		Runbook: "unapproved-iam-change", SetAt: f.clock, Until: f.clock.Add(5 * time.Minute)}); err != nil {
		t.Fatal(err)
	}
	f.want(g, "halt", gate.ExitHalt, false, "a closure after the override: the checks count again")
	f.clock = f.clock.Add(10 * time.Minute)
	f.want(g, "proceed", gate.ExitProceed, false, "the closure ended; the override holds")
	f.clock = f.clock.Add(30 * time.Minute)
	f.want(g, "halt", gate.ExitHalt, false, "the override ended")

	// Every check, override and reopening is in the log, which verifies.
	rows, err := f.st.AuditRows(ctx)
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]int{}
	for _, r := range rows {
		kinds[r.Kind]++
	}
	if kinds[gate.KindDecision] != 15 || kinds[gate.KindOverride] != 1 || kinds[gate.KindReopen] != 1 {
		t.Fatalf("audit kinds %v", kinds)
	}
	file, err := os.Open(f.logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	if rep := audit.Verify(file, f.logPath, rows); !rep.OK() {
		t.Fatalf("audit verify: %+v", rep)
	}
}

// TestFailClosed: a check that fails halts a fail-closed gate with exit 2,
// and lets a fail-open one proceed with the error said; neither is cached.
func TestFailClosed(t *testing.T) {
	f := newFixture(t)
	set := loadGates(t, broken("halt"), broken("proceed"))
	f.add("StopLogging", f.clock.Add(-time.Hour), "")
	for _, c := range []struct {
		gate, decision string
		exit           int
	}{{"broken-halt", "halt", gate.ExitError}, {"broken-proceed", "proceed", gate.ExitProceed}} {
		for range 2 {
			d := f.check(set.Gate(c.gate), false)
			if d.Decision != c.decision || d.ExitCode() != c.exit || d.Error == "" || d.Cached {
				t.Fatalf("%s: %+v (exit %d)", c.gate, d, d.ExitCode())
			}
		}
	}
}

// TestParams: unknown and missing params are refused before anything
// runs; defaults fill in.
func TestParams(t *testing.T) {
	set := loadGates(t, `gate: p
description: params
params: {account: null, region: us-east-1}
checks:
  - name: c
    query: SELECT eventName FROM events WHERE recipientAccountId = :account AND awsRegion = :region
tests:
  - {name: t, now: 2024-05-01T00:00:00Z, params: {account: "1"}, expect: {decision: proceed}}
`)
	g := set.Gate("p")
	if _, err := gate.Params(g, map[string]string{}); err == nil {
		t.Fatal("a missing required param was taken")
	}
	if _, err := gate.Params(g, map[string]string{"account": "1", "acount": "2"}); err == nil {
		t.Fatal("an unknown param was taken")
	}
	got, err := gate.Params(g, map[string]string{"account": "1"})
	if err != nil || got["region"] != "us-east-1" || got["account"] != "1" {
		t.Fatalf("%v %v", got, err)
	}
}

// TestGateTestsCatchBrokenChecks: a gate test fails when a check fails
// and the test did not expect it, even when on-error gives the decision
// the test wants; it passes when the test says error: true.
func TestGateTestsCatchBrokenChecks(t *testing.T) {
	set := loadGates(t, broken("halt"))
	res, err := runbooktest.RunGates(context.Background(), set, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 2 || !res[0].Pass || res[1].Pass || !strings.Contains(res[1].Diff, "error: want none, got check fails: query:") {
		t.Fatalf("%+v", res)
	}
}
