package engine_test

import (
	"cmp"
	"context"
	"database/sql"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	_ "github.com/duckdb/duckdb-go/v2"
	"github.com/klauspost/compress/gzip"

	"github.com/trailbook/trailbook/internal/cloudtrail"
	"github.com/trailbook/trailbook/internal/engine"
	"github.com/trailbook/trailbook/internal/gen"
	"github.com/trailbook/trailbook/internal/runbook"
	"github.com/trailbook/trailbook/internal/store"
)

// BenchmarkEvaluate100Runbooks is the daemon's path for one event with a
// library of 100 runbooks: the shipped ones and variants up to 100
// (benchRunbooks), all through runbook.Load. One op is one event.
//
// Measured, per event: Engine.MatchBatch, which matches each file's
// records against every trigger on all cores, as the daemon does with a
// delivery, and Engine.EvaluateMatched, which for each matched runbook
// evaluates params, reads its cooldown from the store, runs its query
// (through the engine's cache, against a real store holding the corpus)
// and its condition, and plans its actions, templates rendered.
//
// Not measured: reading and decoding the files (ingest's cost; done
// before timing), storing the event, and carrying plans out (the runner). The store holds the
// corpus's 30,000 events, not a million: queries cost what they cost on a
// small store (cmd/trailbook-bench measures the same library over 1M).
// No cooldown is ever recorded, so runbooks with one run their query
// every time, as they do until they first act. The cache is emptied at
// every file, as the commit of each file in the daemon changes the
// store's watermark, which the cache keys on.
//
// Metrics: events/s; plan-events/s (matching and planning alone: the
// time in store calls taken out, as the query's cost is measured on its
// own); matched-% (events at least one runbook matched);
// queried-% (events that ran at least one query or took one from the
// cache); cache-hit-% (of queries); store-% (of the time, in the store's
// calls: queries, watermark and cooldown reads).
//
// The corpus's files hold 100 records each and are taken in delivery
// order, so that a short run sees every account and region; one pass is
// 30,000 ops (-benchtime 30000x).
func BenchmarkEvaluate100Runbooks(b *testing.B) {
	ctx := context.Background()
	db, err := sql.Open("duckdb", "")
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	set, err := runbook.Load(ctx, benchRunbooks(b), runbook.Options{Conn: db})
	if err != nil {
		b.Fatal(err)
	}
	if len(set.Runbooks) != 100 {
		b.Fatalf("%d runbooks, want 100", len(set.Runbooks))
	}

	files, events := benchCorpus(b)
	r := storeOf(b, events)
	snap := &engine.TimedSnapshot{Snapshot: engine.StoreSnapshot{Conn: r}}

	clock := time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)
	cache := engine.NewCache(time.Minute, func() time.Time { return clock })
	eng, err := engine.New(set, engine.Options{Cache: cache})
	if err != nil {
		b.Fatal(err)
	}

	// Decoding is ingest's work, measured there: done before timing.
	decoded := make([][]cloudtrail.Event, len(files))
	for i, f := range files {
		decoded[i] = cloudtrail.Decode(f, cloudtrail.Options{}).Events
	}
	var (
		batch            []cloudtrail.Event
		names            [][]string
		nextFile, nextEv int
		matched, queried int
	)
	b.ReportAllocs()
	for b.Loop() {
		if nextEv == len(batch) {
			batch, nextEv = decoded[nextFile], 0
			nextFile = (nextFile + 1) % len(files)
			clock = clock.Add(2 * time.Minute) // a new commit: nothing cached is valid
			// As the daemon does with each delivery: match the whole
			// file on every core, then plan in event order.
			if names, err = eng.MatchBatch(batch); err != nil {
				b.Fatal(err)
			}
		}
		ev := &batch[nextEv]
		p, err := eng.EvaluateMatched(ctx, ev, store.EventKey(ev), names[nextEv], snap, ev.EventTime.Add(5*time.Minute))
		nextEv++
		if err != nil {
			b.Fatal(err)
		}
		if len(p.Runs) > 0 {
			matched++
		}
		for _, run := range p.Runs {
			if run.Decision == engine.Failed {
				b.Fatalf("%s on %s: %s", run.Runbook, p.Event.ID, run.Reason)
			}
			if run.Query != "" {
				queried++
				break
			}
		}
	}
	n := float64(b.N)
	b.ReportMetric(n/b.Elapsed().Seconds(), "events/s")
	// Matching and planning alone: the store's calls (queries, cooldown
	// and watermark reads) taken out; queries are measured on their own.
	b.ReportMetric(n/(b.Elapsed()-snap.Spent).Seconds(), "plan-events/s")
	b.ReportMetric(100*float64(matched)/n, "matched-%")
	b.ReportMetric(100*float64(queried)/n, "queried-%")
	b.ReportMetric(100*float64(snap.Spent)/float64(b.Elapsed()), "store-%")
	if hits, misses := cache.Stats(); hits+misses > 0 {
		b.ReportMetric(100*float64(hits)/float64(hits+misses), "cache-hit-%")
	}
}

// benchCorpus generates 30,000 events of a synthetic organisation and
// returns its delivery files, gunzipped, in delivery order, and all their
// events.
func benchCorpus(b *testing.B) ([][]byte, []cloudtrail.Event) {
	b.Helper()
	dir := b.TempDir()
	if _, err := gen.Generate(context.Background(), gen.Options{Events: 30000, Seed: 5, Out: dir, PerFile: 100}); err != nil {
		b.Fatal(err)
	}
	names, err := filepath.Glob(filepath.Join(dir, "AWSLogs", "*", "CloudTrail", "*", "*", "*", "*", "*.json.gz"))
	if err != nil || len(names) == 0 {
		b.Fatalf("no generated files: %v", err)
	}
	// <account>_CloudTrail_<region>_<delivered>_<random>.json.gz
	delivered := func(name string) string { return strings.Split(filepath.Base(name), "_")[3] }
	slices.SortFunc(names, func(a, b string) int {
		return cmp.Or(strings.Compare(delivered(a), delivered(b)), strings.Compare(a, b))
	})
	var files [][]byte
	var events []cloudtrail.Event
	for _, name := range names {
		f, err := os.Open(name)
		if err != nil {
			b.Fatal(err)
		}
		zr, err := gzip.NewReader(f)
		if err != nil {
			b.Fatal(err)
		}
		data, err := io.ReadAll(zr)
		f.Close()
		if err != nil {
			b.Fatal(err)
		}
		files = append(files, data)
		events = append(events, cloudtrail.Decode(data, cloudtrail.Options{}).Events...)
	}
	return files, events
}

// benchRunbooks is a library of 100 runbooks: the shipped ones, and 94
// variants of the kinds a real library holds: watches on sensitive calls,
// eventName prefixes, anything-but on identities and regions, exists on
// errorCode, request fields, EventBridge envelope patterns; params and
// CEL conditions on all; queries on some (error bursts, first use of a
// call by a principal, the Environment tag of the resource touched).
func benchRunbooks(b *testing.B) []runbook.File {
	b.Helper()
	dir := filepath.Join("..", "..", "runbooks")
	names, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil {
		b.Fatal(err)
	}
	var files []runbook.File
	for _, name := range names {
		data, err := os.ReadFile(name)
		if err != nil {
			b.Fatal(err)
		}
		files = append(files, runbook.File{Name: name, Data: data})
	}
	// The folder holds gates too: count its runbooks.
	for _, v := range gen.RunbookVariants(100 - len(shipped(b).Runbooks)) {
		files = append(files, runbook.File{Name: filepath.Join(dir, v.Name+".yaml"), Data: []byte(v.YAML)})
	}
	return files
}
