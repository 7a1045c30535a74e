package ingest

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/trailbook/trailbook/internal/store"
)

func record(id, at string) string {
	return fmt.Sprintf(`{"eventVersion":"1.08","eventTime":%q,"eventSource":"s3.amazonaws.com","eventName":"GetObject","eventID":%q,"recipientAccountId":"111122223333"}`, at, id)
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// openWriter opens the store at db and its writer; close closes both, so
// that the file can be opened again.
func openWriter(t *testing.T, db string) (w *store.Writer, close func()) {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, db, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	w, err = st.NewWriter(ctx)
	if err != nil {
		st.Close()
		t.Fatal(err)
	}
	return w, func() { w.Close(); st.Close() }
}

// run ingests paths into a fresh store with the real writer.
func run(t *testing.T, db string, paths []string, stdin string, opts Options) Summary {
	t.Helper()
	w, close := openWriter(t, db)
	defer close()
	sum, err := Run(context.Background(), w, paths, strings.NewReader(stdin), opts)
	if err != nil {
		t.Fatal(err)
	}
	return sum
}

func TestRunWalksSkipsAndBatches(t *testing.T) {
	dir := t.TempDir()
	tree := filepath.Join(dir, "AWSLogs")
	// Two days of a tree, a README in it, and one file outside it named
	// explicitly that is not JSON.
	writeFile(t, filepath.Join(tree, "2024", "05", "02", "b.json"), `{"Records":[`+record("b1", "2024-05-02T10:00:00Z")+`,`+record("b2", "2024-05-02T10:01:00Z")+`]}`)
	writeFile(t, filepath.Join(tree, "2024", "05", "01", "a.json"), `{"Records":[`+record("a1", "2024-05-01T10:00:00Z")+`]}`)
	writeFile(t, filepath.Join(tree, "README.txt"), "not data\n")
	notes := filepath.Join(dir, "notes.txt")
	writeFile(t, notes, "also not data\n")

	var progress []Progress
	db := filepath.Join(dir, "t.duckdb")
	sum := run(t, db, []string{tree, notes, filepath.Join(dir, "missing.json"), Stdin},
		record("s1", "2024-05-03T10:00:00Z")+"\n", Options{BatchEvents: 2, Progress: func(p Progress) { progress = append(progress, p) }})

	want := store.Counts{Files: 6, Records: 7, Stored: 4, Skipped: 1, Rejected: 2}
	if sum.Counts != want {
		t.Fatalf("counts: got %+v, want %+v", sum.Counts, want)
	}
	// The walked README is skipped; the named notes.txt and the missing
	// file are rejected, each naming its input.
	if sum.SkippedKinds["file that is not JSON"] != 1 {
		t.Errorf("skipped kinds: %v", sum.SkippedKinds)
	}
	if len(sum.Rejects) != 2 || sum.Rejects[0].Source != filepath.Join(dir, "missing.json") || !strings.Contains(sum.Rejects[0].Reason, "no such file") ||
		sum.Rejects[1].Source != notes {
		t.Errorf("rejects: %+v", sum.Rejects)
	}
	// BatchEvents 2 makes several transactions; progress only grows and
	// ends with Done.
	if len(progress) < 3 || !progress[len(progress)-1].Done {
		t.Fatalf("progress: %+v", progress)
	}
	for i := 1; i < len(progress); i++ {
		if progress[i].FilesDone < progress[i-1].FilesDone || progress[i].Counts.Stored < progress[i-1].Counts.Stored {
			t.Fatalf("progress went back: %+v then %+v", progress[i-1], progress[i])
		}
	}
	if last := progress[len(progress)-1]; last.FilesDone != last.FilesTotal {
		t.Errorf("progress ends at %d of %d files", last.FilesDone, last.FilesTotal)
	}

	// Files are taken in lexical order within a directory: the ledger
	// records a (05/01) before b (05/02), whatever order they were made in.
	sqldb, err := sql.Open("duckdb", db)
	if err != nil {
		t.Fatal(err)
	}
	defer sqldb.Close()
	var order string
	if err := sqldb.QueryRow(`SELECT string_agg(parse_filename(source), ',' ORDER BY rowid) FROM ingested_files`).Scan(&order); err != nil {
		t.Fatal(err)
	}
	if order != "missing.json,a.json,b.json,README.txt,notes.txt,-" {
		t.Errorf("ledger order: %s", order)
	}
}

// countingBatcher is the real writer, noting how many events each Commit
// held.
type countingBatcher struct {
	*store.Writer
	commits []int
}

func (b *countingBatcher) Commit(ctx context.Context) (store.Counts, error) {
	b.commits = append(b.commits, b.Staged())
	return b.Writer.Commit(ctx)
}

// A transaction is committed before the file that would take it past
// BatchEvents, so that it never ends a few rows into a new row group; a
// file larger than BatchEvents has one to itself.
func TestRunCommitsBeforePassingBatch(t *testing.T) {
	dir := t.TempDir()
	n := 0
	file := func(name string, events int) {
		var recs []string
		for range events {
			n++
			recs = append(recs, record(fmt.Sprint("e", n), fmt.Sprintf("2024-05-01T10:%02d:%02dZ", n/60, n%60)))
		}
		writeFile(t, filepath.Join(dir, "in", name), `{"Records":[`+strings.Join(recs, ",")+`]}`)
	}
	file("a.json", 3)
	file("b.json", 3)
	file("c.json", 3)
	file("d.json", 5)
	file("e.json", 9)
	file("f.json", 1)

	w, close := openWriter(t, filepath.Join(dir, "t.duckdb"))
	defer close()
	b := &countingBatcher{Writer: w}
	sum, err := Run(context.Background(), b, []string{filepath.Join(dir, "in")}, nil, Options{BatchEvents: 7})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Stored != n {
		t.Fatalf("stored %d of %d", sum.Stored, n)
	}
	if got, want := fmt.Sprint(b.commits), "[6 3 5 9 1]"; got != want {
		t.Errorf("events per commit: got %s, want %s", got, want)
	}
}
