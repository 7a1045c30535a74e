package audit

import (
	"context"
	"encoding/json"
	"path/filepath"
	"testing"
)

// BenchmarkAppend measures one Append: an entry (or a batch) hashed,
// written with one write and fsynced, and with "store", copied to a real
// DuckDB store. The fsync dominates, so batching pays.
func BenchmarkAppend(b *testing.B) {
	e := Entry{Kind: "evaluation", Runbook: "untagged-instances", EventID: "run-1", Decision: "act",
		Data: json.RawMessage(`{"matched":true,"query_rows":1,"plan":{"actions":[{"kind":"tags","set":{"Owner":"unknown"}}]}}`)}
	for _, bc := range []struct {
		name  string
		batch int
		store bool
	}{
		{"file", 1, false},
		{"file/batch16", 16, false},
		{"store", 1, true},
		{"store/batch16", 16, true},
	} {
		b.Run(bc.name, func(b *testing.B) {
			var opts Options
			if bc.store {
				s, _ := openStore(b)
				opts.Mirror = s
			}
			l, err := Open(filepath.Join(b.TempDir(), "a.jsonl"), opts)
			if err != nil {
				b.Fatal(err)
			}
			defer l.Close()
			batch := make([]Entry, bc.batch)
			for i := range batch {
				batch[i] = e
			}
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := l.Append(ctx, batch...); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*bc.batch), "ns/entry")
		})
	}
}
