package audit

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/trailbook/trailbook/internal/store"
)

var update = flag.Bool("update", false, "rewrite testdata/intact.jsonl and the want sections of testdata/verify/*.txtar")

// sampleEntries are what runbooks and gates log, one of each kind, with
// data that exercises the canonical form: key order, escapes, non-ASCII.
func sampleEntries() []Entry {
	return []Entry{
		{Kind: "evaluation", Runbook: "untagged-instances", EventID: "run-1", Decision: "act",
			Data: json.RawMessage(`{"query_rows": 1, "matched": true}`)},
		{Kind: "action", Runbook: "untagged-instances", EventID: "run-1", ActionKey: "untagged-instances/run-1/0", Decision: "applied",
			Data: json.RawMessage(`{"set":{"Owner":"unknown"},"kind":"tags","enforce":true}`)},
		{Kind: "gate-decision", Gate: "deploy-prod", Runbook: "public-bucket", EventID: "put-1", Decision: "halt",
			Data: json.RawMessage(`{"reason":"bucket prod-logs made public","until":null}`)},
		{Kind: "gate-override", Gate: "deploy-prod", Decision: "proceed",
			Data: json.RawMessage(`{"by":"alice@example.com","reason":"false positive: \"prod-logs\" is a static site\n"}`)},
		{Kind: "gate-reopen", Gate: "deploy-prod", Decision: "open", Data: json.RawMessage(`{"by":"bob"}`)},
		{Kind: "evaluation", Runbook: "root-login", EventID: "login-1", Decision: "no-action",
			Data: json.RawMessage(`{"note":"ünïcode ✓ <b>&amp;</b>\t\u0001","n":[1,2.5,-3]}`)},
	}
}

// clock returns a Now that starts at 2024-05-01T12:00:00.25Z and moves 90
// seconds and a microsecond each call.
func clock() func() time.Time {
	var mu sync.Mutex
	t := time.Date(2024, 5, 1, 12, 0, 0, 250_000_000, time.UTC)
	return func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		now := t
		t = t.Add(90*time.Second + time.Microsecond)
		return now
	}
}

// writeSample writes sampleEntries to a new log at path, one Append each,
// and returns them completed.
func writeSample(t testing.TB, path string, mirror Mirror) []Entry {
	t.Helper()
	l, err := Open(path, Options{Mirror: mirror, Now: clock()})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	var out []Entry
	for _, e := range sampleEntries() {
		got, err := l.Append(context.Background(), e)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, got...)
	}
	return out
}

func openStore(t testing.TB) (*store.Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "t.duckdb")
	s, err := store.Open(context.Background(), path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, path
}

func verifyFile(t *testing.T, path string, rows []store.AuditRow) Report {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	return Verify(f, filepath.Base(path), rows)
}

func mustOK(t *testing.T, rep Report) {
	t.Helper()
	if !rep.OK() {
		t.Fatalf("not intact: %v %v", rep.Problems, rep.Err)
	}
}

// TestIntactGolden: the sample log is the same bytes on every run and
// every machine; testdata/intact.jsonl is the base of the verify cases.
func TestIntactGolden(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	writeSample(t, path, nil)
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "intact.jsonl")
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("the sample log differs from %s:\n--- got\n%s--- want\n%s", golden, got, want)
	}
	mustOK(t, verifyFile(t, path, nil))
}

func TestAppendReopenContinues(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.audit.jsonl")
	first := writeSample(t, path, nil)
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if mode := st.Mode().Perm(); mode != 0o600 {
		t.Errorf("mode %v, want 0600", mode)
	}
	l, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	more, err := l.Append(context.Background(), Entry{Kind: "action", Decision: "a"}, Entry{Kind: "action", Decision: "b"})
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if more[0].Seq != 7 || more[1].Seq != 8 || more[0].Prev != first[5].Hash || more[1].Prev != more[0].Hash {
		t.Errorf("the chain did not continue: %+v", more)
	}
	if first[0].Prev != Genesis || first[0].Seq != 1 {
		t.Errorf("first entry: %+v", first[0])
	}
	rep := verifyFile(t, path, nil)
	mustOK(t, rep)
	if rep.Entries != 8 || rep.LastSeq != 8 || rep.LastHash != more[1].Hash {
		t.Errorf("report %+v", rep)
	}
	if _, err := l.Append(context.Background(), Entry{Kind: "x"}); err == nil || !strings.Contains(err.Error(), "closed") {
		t.Errorf("append after close: %v", err)
	}
}

func TestAppendCompletesEntries(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.jsonl")
	now := time.Date(2024, 5, 1, 12, 0, 0, 123_456_789, time.FixedZone("x", 3600))
	l, err := Open(path, Options{Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	given := time.Date(2020, 1, 2, 3, 4, 5, 999, time.UTC)
	got, err := l.Append(context.Background(),
		Entry{Kind: "k", Seq: 99, Prev: "x", Hash: "y", Data: json.RawMessage(` { "b" : [ 1 , {"d":1,"c":2} ], "a" : "\u00e9" } `)},
		Entry{Kind: "k", Time: given, Data: json.RawMessage(`null`)},
	)
	if err != nil {
		t.Fatal(err)
	}
	if got[0].Seq != 1 || got[0].Prev != Genesis || !got[0].Time.Equal(now.Truncate(time.Microsecond)) || got[0].Time.Location() != time.UTC {
		t.Errorf("entry 1: %+v", got[0])
	}
	if string(got[0].Data) != `{"a":"é","b":[1,{"c":2,"d":1}]}` {
		t.Errorf("data not canonical: %s", got[0].Data)
	}
	if !got[1].Time.Equal(given.Truncate(time.Microsecond)) || got[1].Data != nil {
		t.Errorf("entry 2: %+v", got[1])
	}
	line, err := got[0].MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	want := `{"data":{"a":"é","b":[1,{"c":2,"d":1}]},"hash":"` + got[0].Hash + `","kind":"k","prev":"` + Genesis + `","seq":1,"time":"2024-05-01T11:00:00.123456Z"}`
	if string(line) != want {
		t.Errorf("line\n%s\nwant\n%s", line, want)
	}
}

func TestAppendRefusesInvalid(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.jsonl")
	l, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	ctx := context.Background()
	for _, e := range []Entry{
		{},
		{Kind: "k", Data: json.RawMessage(`{"a":`)},
		{Kind: "k", Data: json.RawMessage(`1 2`)},
		{Kind: "k", Runbook: "\xff"},
		{Kind: "k", Time: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)},
	} {
		if got, err := l.Append(ctx, Entry{Kind: "fine"}, e); err == nil {
			t.Errorf("%+v appended: %+v", e, got)
		}
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := l.Append(cancelled, Entry{Kind: "k"}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled append: %v", err)
	}
	if st, _ := os.Stat(path); st.Size() != 0 {
		t.Errorf("refused entries were written: %d bytes", st.Size())
	}
}

func TestAppendConcurrent(t *testing.T) {
	s, _ := openStore(t)
	path := filepath.Join(t.TempDir(), "a.jsonl")
	l, err := Open(path, Options{Mirror: s})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 10 {
				if _, err := l.Append(context.Background(), Entry{Kind: "action", ActionKey: fmt.Sprintf("g%d/%d", g, i)}, Entry{Kind: "evaluation"}); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	l.Close()
	rows, err := s.AuditRows(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	rep := verifyFile(t, path, rows)
	mustOK(t, rep)
	if rep.Entries != 160 || rep.StoreSeq != 160 {
		t.Errorf("%d entries, store copy to %d; want 160", rep.Entries, rep.StoreSeq)
	}
}

// TestMirror: the store holds a copy of every entry, and tampering with
// either side is seen.
func TestMirror(t *testing.T) {
	ctx := context.Background()
	s, _ := openStore(t)
	path := filepath.Join(t.TempDir(), "a.audit.jsonl")
	entries := writeSample(t, path, s)
	rows, err := s.AuditRows(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != len(entries) {
		t.Fatalf("%d rows, want %d", len(rows), len(entries))
	}
	for i := range rows {
		want := rowOf(&entries[i])
		if d := rowDiff(&want, &rows[i]); len(d) > 0 {
			t.Errorf("row %d: %v", i+1, d)
		}
	}
	mustOK(t, verifyFile(t, path, rows))

	// Edit a store row.
	if _, err := s.DB().ExecContext(ctx, `UPDATE audit SET decision = 'no-action' WHERE seq = 2`); err != nil {
		t.Fatal(err)
	}
	rows, err = s.AuditRows(ctx)
	if err != nil {
		t.Fatal(err)
	}
	rep := verifyFile(t, path, rows)
	if len(rep.Problems) != 1 || rep.Problems[0].Kind != StoreEdited || rep.Problems[0].Line != 2 || rep.Problems[0].Seq != 2 {
		t.Errorf("store edit: %v", rep.Problems)
	}
	if _, err := s.DB().ExecContext(ctx, `UPDATE audit SET decision = 'applied' WHERE seq = 2`); err != nil {
		t.Fatal(err)
	}

	// Delete the file's last line: only the store copy can tell.
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	cut := data[:bytes.LastIndexByte(data[:len(data)-1], '\n')+1]
	if err := os.WriteFile(path, cut, 0o600); err != nil {
		t.Fatal(err)
	}
	mustOK(t, verifyFile(t, path, nil))
	rows, _ = s.AuditRows(ctx)
	rep = verifyFile(t, path, rows)
	if len(rep.Problems) != 1 || rep.Problems[0].Error() != "a.audit.jsonl:6: seq 6: truncated: the file ends at seq 5, but the store copy holds entries up to seq 6" {
		t.Errorf("cut file: %v", rep.Problems)
	}
	_, err = Open(path, Options{Mirror: s})
	if err == nil || !strings.Contains(err.Error(), path+":6: seq 6: truncated") {
		t.Errorf("Open of a file behind its store copy: %v", err)
	}
}

// TestMirrorCatchesUp: entries that reached the file but not the store
// (a crash in between, or a failed copy) are copied later.
func TestMirrorCatchesUp(t *testing.T) {
	ctx := context.Background()
	s, _ := openStore(t)
	path := filepath.Join(t.TempDir(), "a.jsonl")
	writeSample(t, path, nil) // as if every copy was lost
	rows, _ := s.AuditRows(ctx)
	rep := verifyFile(t, path, rows)
	mustOK(t, rep)
	if rep.StoreSeq != 0 || rep.LastSeq != 6 {
		t.Errorf("report %+v", rep)
	}

	flaky := &flakyMirror{Store: s}
	l, err := Open(path, Options{Mirror: flaky})
	if err != nil {
		t.Fatal(err)
	}
	if seq, _, _ := s.LastAudit(ctx); seq != 6 {
		t.Fatalf("Open copied the store up to seq %d, want 6", seq)
	}
	flaky.fail = 1
	got, err := l.Append(ctx, Entry{Kind: "a"})
	if err == nil || len(got) != 1 || got[0].Seq != 7 {
		t.Fatalf("failing copy: %v, %+v", err, got)
	}
	if _, err := l.Append(ctx, Entry{Kind: "b"}); err != nil {
		t.Fatal(err)
	}
	l.Close()
	rows, _ = s.AuditRows(ctx)
	rep = verifyFile(t, path, rows)
	mustOK(t, rep)
	if rep.StoreSeq != 8 {
		t.Errorf("store copy to %d, want 8", rep.StoreSeq)
	}
}

// flakyMirror is the real store, whose next fail copies fail.
type flakyMirror struct {
	*store.Store
	fail int
}

func (m *flakyMirror) AppendAudit(ctx context.Context, rows []store.AuditRow) error {
	if m.fail > 0 {
		m.fail--
		return errors.New("disk full")
	}
	return m.Store.AppendAudit(ctx, rows)
}

// TestOpenRefuses: a log whose end is not an intact entry, or that
// disagrees with its store copy, is never appended to.
func TestOpenRefuses(t *testing.T) {
	intact, err := os.ReadFile(filepath.Join("testdata", "intact.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(string(intact), "\n")
	for _, tc := range []struct {
		name, data, want string
	}{
		{"cut", string(intact[:len(intact)-20]), ":6: seq ?: truncated: the last line is cut off"},
		{"no newline", string(intact[:len(intact)-1]), ":6: seq ?: truncated"},
		{"garbage", string(intact) + "{}\n", ":7: seq ?: malformed: not an audit entry: no seq"},
		{"edited", strings.Replace(string(intact), `"no-action"`, `"act"`, 1), ":6: seq 6: edited: the last entry does not match its hash"},
		{"deleted", lines[0] + lines[1] + lines[3] + lines[4] + lines[5], ":5: seq 6: deleted: the last entry has seq 6 on line 5"},
		{"inserted", lines[0] + lines[1] + lines[1] + lines[2] + lines[3] + lines[4] + lines[5], ":7: seq 6: inserted: the last entry has seq 6 on line 7"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "a.jsonl")
			if err := os.WriteFile(path, []byte(tc.data), 0o600); err != nil {
				t.Fatal(err)
			}
			l, err := Open(path, Options{})
			if err == nil {
				l.Close()
				t.Fatal("opened")
			}
			if !strings.Contains(err.Error(), path+tc.want) {
				t.Errorf("error %q does not say %q", err, path+tc.want)
			}
			var p *Problem
			if !errors.As(err, &p) {
				t.Errorf("error %T is not a *Problem", err)
			}
		})
	}

	t.Run("store differs", func(t *testing.T) {
		ctx := context.Background()
		s, _ := openStore(t)
		path := filepath.Join(t.TempDir(), "a.jsonl")
		writeSample(t, path, s)
		if _, err := s.DB().ExecContext(ctx, `UPDATE audit SET hash = replace(hash, hash[1], 'x') WHERE seq = 6`); err != nil {
			t.Fatal(err)
		}
		if _, err := Open(path, Options{Mirror: s}); err == nil || !strings.Contains(err.Error(), path+":6: seq 6: edited (store copy)") {
			t.Errorf("Open: %v", err)
		}
	})
}

func TestAppendRefusesAnotherWriter(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.jsonl")
	l, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if _, err := l.Append(context.Background(), Entry{Kind: "k"}); err != nil {
		t.Fatal(err)
	}
	other, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := other.Append(context.Background(), Entry{Kind: "k"}); err != nil {
		t.Fatal(err)
	}
	other.Close()
	if _, err := l.Append(context.Background(), Entry{Kind: "k"}); err == nil || !strings.Contains(err.Error(), "another process") {
		t.Errorf("append after another writer: %v", err)
	}
	mustOK(t, verifyFile(t, path, nil))
}

func TestDefaultPath(t *testing.T) {
	for in, want := range map[string]string{
		"trailbook.duckdb":      "trailbook.audit.jsonl",
		"/var/lib/t/x.duckdb":   "/var/lib/t/x.audit.jsonl",
		"store.db":              "store.db.audit.jsonl",
		"x.duckdb.bak":          "x.duckdb.bak.audit.jsonl",
		"dir.duckdb/tb.duckdb":  "dir.duckdb/tb.audit.jsonl",
		"":                      ".audit.jsonl",
		"trailbook.duckdb.wal2": "trailbook.duckdb.wal2.audit.jsonl",
	} {
		if got := DefaultPath(in); got != want {
			t.Errorf("DefaultPath(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestDeferMirror: with DeferMirror the store's copy waits for Flush (or
// Close), and then holds every entry; the chain verifies either way.
func TestDeferMirror(t *testing.T) {
	ctx := context.Background()
	st, dbPath := openStore(t)
	path := dbPath + ".audit.jsonl"
	l, err := Open(path, Options{Mirror: st, Now: clock(), DeferMirror: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range sampleEntries() {
		if _, err := l.Append(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	rows, err := st.AuditRows(ctx)
	if err != nil || len(rows) != 0 {
		t.Fatalf("before Flush the store holds %d rows (%v)", len(rows), err)
	}
	mustOK(t, verifyFile(t, path, rows))
	if err := l.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if rows, err = st.AuditRows(ctx); err != nil || len(rows) != len(sampleEntries()) {
		t.Fatalf("after Flush the store holds %d rows (%v)", len(rows), err)
	}
	if _, err := l.Append(ctx, sampleEntries()[0]); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if rows, err = st.AuditRows(ctx); err != nil || len(rows) != len(sampleEntries())+1 {
		t.Fatalf("after Close the store holds %d rows (%v)", len(rows), err)
	}
	mustOK(t, verifyFile(t, path, rows))
}
