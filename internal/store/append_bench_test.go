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
