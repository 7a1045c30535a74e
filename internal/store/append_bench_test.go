package store

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/trailbook/trailbook/internal/cloudtrail"
)

// BenchmarkAppend measures storing batches of 50,000 realistic events into a
// growing store, the shape of a large ingest. It reports events/s.
func BenchmarkAppend(b *testing.B) {
	ctx := context.Background()
	s, err := Open(ctx, filepath.Join(b.TempDir(), "b.duckdb"), Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	batch := benchBatch()
	t0 := time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)
	json := make([]byte, 1200)
	for i := range json {
		json[i] = 'x'
	}
	events := make([]cloudtrail.Event, batch)
	b.ResetTimer()
	for n := 0; n < b.N; n++ {
		b.StopTimer()
		for i := range events {
			ev := sampleEvent(fmt.Sprintf("%d-%d", n, i), t0.Add(time.Duration(n*batch+i)*time.Second))
			ev.JSON = json
			events[i] = ev
		}
		b.StartTimer()
		c, err := s.Append(ctx, []File{{Source: "f", Records: batch, Events: events}})
		if err != nil || c.Stored != batch {
			b.Fatalf("%+v %v", c, err)
		}
	}
	b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "events/s")
}

func benchBatch() int {
	if v := os.Getenv("BENCH_BATCH"); v != "" {
		n, _ := strconv.Atoi(v)
		return n
	}
	return 50000
}

// BenchmarkSmallCommits measures what serve's writer does many times a
// second: a Commit of 50 one-event files, with their evaluations queued
// and no ledger rows, into a store already holding 50,000 events, the
// checkpoints left to a 256MB log as serve does. One event in ten tags a
// bucket (of a hundred); the rest are PutObject calls on them. It reports
// the time per commit (ns/op) and events/s.
func BenchmarkSmallCommits(b *testing.B) {
	ctx := context.Background()
	s, err := Open(ctx, filepath.Join(b.TempDir(), "b.duckdb"), Options{CheckpointWAL: 256 << 20, Threads: benchThreads()})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	t0 := time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)
	event := func(id string, i int) cloudtrail.Event {
		ev := sampleEvent(id, t0.Add(time.Duration(i)*time.Second))
		bucket := fmt.Sprint("bucket-", i%100)
		ev.Resources[0].ARN.V = "arn:aws:s3:::" + bucket
		ev.RequestParameters[0].Value.V = bucket
		if i%10 != 0 {
			ev.EventName = "PutObject"
			ev.RequestParameters = ev.RequestParameters[:1]
		}
		return ev
	}
	history := make([]cloudtrail.Event, 50000)
	for i := range history {
		history[i] = event(fmt.Sprint("h", i), i)
	}
	if _, err := s.Append(ctx, []File{{Source: "history", Records: len(history), Events: history}}); err != nil {
		b.Fatal(err)
	}
	w := newWriter(b, s)
	w.QueueEvaluations()
	per := 50
	if v := os.Getenv("BENCH_PER"); v != "" {
		per, _ = strconv.Atoi(v)
	}
	next := len(history)
	b.ResetTimer()
	for n := 0; n < b.N; n++ {
		for range per {
			ev := event(fmt.Sprint("e", next), next)
			next++
			if err := w.Add(ctx, &File{Source: "push", Records: 1, Events: []cloudtrail.Event{ev}, NoLedger: true}); err != nil {
				b.Fatal(err)
			}
		}
		if c, err := w.Commit(ctx); err != nil || c.Stored != per {
			b.Fatalf("%+v %v", c, err)
		}
	}
	b.ReportMetric(float64(b.N*per)/b.Elapsed().Seconds(), "events/s")
}

// benchThreads is DuckDB's thread count from BENCH_THREADS (default 2).
func benchThreads() int {
	n, _ := strconv.Atoi(os.Getenv("BENCH_THREADS"))
	return n
}
