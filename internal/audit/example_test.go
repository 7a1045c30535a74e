package audit_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/trailbook/trailbook/internal/audit"
)

func Example() {
	dir, err := os.MkdirTemp("", "audit")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	path := audit.DefaultPath(filepath.Join(dir, "trailbook.duckdb"))

	clock := func() time.Time { return time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC) }
	l, err := audit.Open(path, audit.Options{Now: clock})
	if err != nil {
		panic(err)
	}
	entries, err := l.Append(context.Background(),
		audit.Entry{Kind: "gate-decision", Gate: "deploy-prod", Decision: "halt"},
		audit.Entry{Kind: "gate-override", Gate: "deploy-prod", Decision: "proceed"},
	)
	if err != nil {
		panic(err)
	}
	l.Close()
	fmt.Println(entries[1].Seq, entries[1].Prev == entries[0].Hash)

	// Someone turns the halt into a proceed.
	data, _ := os.ReadFile(path)
	os.WriteFile(path, []byte(strings.Replace(string(data), `"halt"`, `"proceed"`, 1)), 0o600)

	f, _ := os.Open(path)
	defer f.Close()
	rep := audit.Verify(f, "trailbook.audit.jsonl", nil)
	for _, p := range rep.Problems {
		fmt.Println(p)
	}
	// Output:
	// 2 true
	// trailbook.audit.jsonl:1: seq 1: edited: the entry does not match its hash
}
