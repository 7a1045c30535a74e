package engine_test

import (
	"bytes"
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"testing"
	"time"

	_ "github.com/duckdb/duckdb-go/v2"
	json "github.com/goccy/go-json"

	"github.com/trailbook/trailbook/internal/cloudtrail"
	"github.com/trailbook/trailbook/internal/engine"
	"github.com/trailbook/trailbook/internal/gen"
	"github.com/trailbook/trailbook/internal/query"
	"github.com/trailbook/trailbook/internal/runbook"
	"github.com/trailbook/trailbook/internal/runbooktest"
	"github.com/trailbook/trailbook/internal/store"
)

// shipped loads the runbook library the repository ships.
func shipped(t testing.TB) *runbook.Set {
	t.Helper()
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	set, err := runbook.LoadDir(context.Background(), filepath.Join("..", "..", "runbooks"), runbook.Options{Conn: db})
	if err != nil {
		t.Fatal(err)
	}
	return set
}

// corpusEvents are the generated events of a small organisation and the
// Stratus Red Team detonations the runbooks' tests use.
func corpusEvents(t testing.TB) []cloudtrail.Event {
	t.Helper()
	dir := t.TempDir()
	if _, err := gen.Generate(context.Background(), gen.Options{Events: 3000, Seed: 3, Out: dir}); err != nil {
		t.Fatal(err)
	}
	var evs []cloudtrail.Event
	for _, glob := range []string{filepath.Join(dir, "AWSLogs", "*", "CloudTrail", "*", "*", "*", "*", "*.json.gz"),
		filepath.Join("..", "..", "runbooks", "testdata", "stratus", "*.json")} {
		files, _ := filepath.Glob(glob)
		for _, f := range files {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			res := cloudtrail.Decode(data, cloudtrail.Options{})
			evs = append(evs, res.Events...)
		}
	}
	if len(evs) < 3000 {
		t.Fatalf("only %d events", len(evs))
	}
	return evs
}

// storeOf stores evs in a new store and opens it for reading, as the
// daemon's evaluator reads it; the reader is closed when tb ends.
func storeOf(tb testing.TB, evs []cloudtrail.Event) *store.Reader {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "s.duckdb")
	if err := runbooktest.Store(context.Background(), path, evs); err != nil {
		tb.Fatal(err)
	}
	r, err := query.Open(context.Background(), path, "")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { r.Close() })
	return r
}

// TestPlansAreDeterministic evaluates every event of a store twice, with
// two engines, one event at a time and in a batch, and requires
// byte-identical plans.
func TestPlansAreDeterministic(t *testing.T) {
	ctx := context.Background()
	set := shipped(t)
	evs := corpusEvents(t)
	r := storeOf(t, evs)
	now := time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)
	var outs [2][]byte
	acted := 0
	for i := range outs {
		eng, err := engine.New(set, engine.Options{Cache: engine.NewCache(time.Minute, nil)})
		if err != nil {
			t.Fatal(err)
		}
		// The second pass matches all events at once, on every core, as
		// the daemon and runbook run do: it must plan the same.
		var batch [][]string
		if i == 1 {
			if batch, err = eng.MatchBatch(evs); err != nil {
				t.Fatal(err)
			}
		}
		var b bytes.Buffer
		for j := range evs {
			var p engine.Plan
			if i == 0 {
				p, err = eng.Evaluate(ctx, &evs[j], store.EventKey(&evs[j]), engine.StoreSnapshot{Conn: r}, now)
			} else {
				p, err = eng.EvaluateMatched(ctx, &evs[j], store.EventKey(&evs[j]), batch[j], engine.StoreSnapshot{Conn: r}, now)
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(p.Runs) == 0 {
				continue
			}
			for _, run := range p.Runs {
				if run.Decision == engine.Failed {
					t.Errorf("%s on %s: %s", run.Runbook, p.Event.ID, run.Reason)
				}
				if i == 0 && run.Decision == engine.Act {
					acted++
				}
			}
			line, err := json.Marshal(p)
			if err != nil {
				t.Fatal(err)
			}
			b.Write(append(line, '\n'))
		}
		outs[i] = b.Bytes()
	}
	if !bytes.Equal(outs[0], outs[1]) {
		t.Fatal("two evaluations of the same events gave different plans")
	}
	if acted == 0 {
		t.Fatal("no runbook acted on any event: the comparison proves nothing")
	}
	t.Logf("%d events, %d plan bytes, %d runs acted", len(evs), len(outs[0]), acted)
}

// TestCacheExpiresWithTheWatermark checks that a query result is reused
// while the store is unchanged, and not after a Commit.
func TestCacheExpiresWithTheWatermark(t *testing.T) {
	ctx := context.Background()
	set := shipped(t)
	var ev cloudtrail.Event
	evs := corpusEvents(t)
	for _, e := range evs {
		if e.ErrorCode.V == "AccessDenied" || e.ErrorCode.V == "Client.UnauthorizedOperation" {
			ev = e
			break
		}
	}
	if ev.EventName == "" {
		t.Fatal("no denied event in the corpus")
	}
	path := filepath.Join(t.TempDir(), "s.duckdb")
	if err := runbooktest.Store(ctx, path, evs[:100]); err != nil {
		t.Fatal(err)
	}
	cache := engine.NewCache(time.Hour, nil)
	eng, err := engine.New(set, engine.Options{Cache: cache})
	if err != nil {
		t.Fatal(err)
	}
	cached := func() bool {
		r, err := query.Open(ctx, path, "")
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		p, err := eng.EvaluateRunbook(ctx, "access-denied-burst", &ev, store.EventKey(&ev), engine.StoreSnapshot{Conn: r}, ev.EventTime)
		if err != nil {
			t.Fatal(err)
		}
		if p.Runs[0].Query == "" {
			t.Fatalf("no query ran: %+v", p.Runs[0])
		}
		return p.Runs[0].Cached
	}
	if cached() {
		t.Fatal("first evaluation came from the cache")
	}
	if !cached() {
		t.Fatal("second evaluation on an unchanged store did not use the cache")
	}
	if err := runbooktest.Store(ctx, path, evs[100:200]); err != nil {
		t.Fatal(err)
	}
	if cached() {
		t.Fatal("evaluation after a commit used the cache")
	}
	if hits, misses := cache.Stats(); hits != 1 || misses != 2 {
		t.Fatalf("hits %d, misses %d; want 1 and 2", hits, misses)
	}
}

// TestRevertsOfRegionlessARNsCarryTheEventsRegion checks that an action
// on a resource whose ARN names no region (an S3 bucket) is planned for
// the region of the event it answers, and one on a regional ARN for none
// but its own.
func TestRevertsOfRegionlessARNsCarryTheEventsRegion(t *testing.T) {
	ctx := context.Background()
	set := shipped(t)
	const provisioner = `"userIdentity": {"type": "AssumedRole", "arn": "arn:aws:sts::111122223333:assumed-role/provisioner/ci", "accountId": "111122223333", "sessionContext": {"sessionIssuer": {"type": "Role", "arn": "arn:aws:iam::111122223333:role/provisioner", "userName": "provisioner"}}}`
	const alice = `"userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::111122223333:user/alice", "accountId": "111122223333", "userName": "alice"}`
	bucketTagging := func(id, at, who, env string) string {
		return `{"eventVersion": "1.09", "eventTime": "` + at + `", "eventSource": "s3.amazonaws.com", "eventName": "PutBucketTagging", "awsRegion": "eu-west-3", "eventID": "` + id + `", "recipientAccountId": "111122223333", ` + who +
			`, "requestParameters": {"bucketName": "ledger", "Tagging": {"TagSet": {"Tag": [{"Key": "Environment", "Value": "` + env + `"}]}}}}`
	}
	instanceTagging := func(id, at, who, env string) string {
		return `{"eventVersion": "1.09", "eventTime": "` + at + `", "eventSource": "ec2.amazonaws.com", "eventName": "CreateTags", "awsRegion": "us-west-2", "eventID": "` + id + `", "recipientAccountId": "111122223333", ` + who +
			`, "requestParameters": {"resourcesSet": {"items": [{"resourceId": "i-0abc"}]}, "tagSet": {"items": [{"key": "Environment", "value": "` + env + `"}]}}}`
	}
	var evs []cloudtrail.Event
	for _, rec := range []string{
		bucketTagging("b-1", "2024-05-01T10:00:00Z", provisioner, "Production"),
		bucketTagging("b-2", "2024-05-01T12:00:00Z", alice, "Development"),
		instanceTagging("i-1", "2024-05-01T10:00:00Z", provisioner, "Production"),
		instanceTagging("i-2", "2024-05-01T12:00:00Z", alice, "Development"),
	} {
		res := cloudtrail.Decode([]byte(rec), cloudtrail.Options{})
		if len(res.Events) != 1 {
			t.Fatalf("%s: rejects %v", rec, res.Rejects)
		}
		evs = append(evs, res.Events[0])
	}
	r := storeOf(t, evs)
	eng, err := engine.New(set, engine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		event      int
		arn        string
		wantRegion string
	}{
		{1, "arn:aws:s3:::ledger", "eu-west-3"},
		{3, "arn:aws:ec2:us-west-2:111122223333:instance/i-0abc", ""},
	} {
		p, err := eng.Evaluate(ctx, &evs[c.event], store.EventKey(&evs[c.event]), engine.StoreSnapshot{Conn: r}, time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC))
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, run := range p.Runs {
			for _, a := range run.Actions {
				if a.Tags == nil || a.Kind != "revert-tags" {
					continue
				}
				found = true
				if a.Tags.ARN != c.arn || a.Tags.Region != c.wantRegion || a.Tags.Set["Environment"] != "Production" {
					t.Errorf("%s: revert %+v; want ARN %s, region %q, Environment=Production", run.Runbook, *a.Tags, c.arn, c.wantRegion)
				}
			}
		}
		if !found {
			t.Errorf("event %s: no revert-tags planned (plan %+v)", evs[c.event].EventID.V, p.Runs)
		}
	}
}
