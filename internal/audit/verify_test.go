package audit

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/tools/txtar"

	"github.com/trailbook/trailbook/internal/store"
)

// verifyCase is one testdata/verify/*.txtar archive: the intact sample log
// (testdata/intact.jsonl) with one mutation, described in its comment. Its
// files are:
//
//   - log.jsonl: the log file; absent means there is none;
//   - cut: a byte count, when the file keeps only that many bytes of
//     log.jsonl (a txtar file always ends with a newline);
//   - store.jsonl: the store's copy, one row a line written as the entry
//     it copies; absent means there is no store copy. The rows go through
//     the real store: inserted into a DuckDB audit table, read back with
//     AuditRows;
//   - want: a summary line, then the problems, one a line; rewritten by
//     -update.
type verifyCase struct {
	path string
	ar   *txtar.Archive
	log  []byte
	rows []store.AuditRow
}

func loadVerifyCases(t testing.TB) []*verifyCase {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join("testdata", "verify", "*.txtar"))
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) == 0 {
		t.Fatal("no testdata/verify cases")
	}
	var out []*verifyCase
	for _, path := range paths {
		ar, err := txtar.ParseFile(path)
		if err != nil {
			t.Fatal(err)
		}
		c := &verifyCase{path: path, ar: ar}
		files := map[string][]byte{}
		for _, f := range ar.Files {
			files[f.Name] = f.Data
		}
		c.log = files["log.jsonl"]
		if cut, ok := files["cut"]; ok {
			n, err := strconv.Atoi(strings.TrimSpace(string(cut)))
			if err != nil || n > len(c.log) {
				t.Fatalf("%s: cut: %q", path, cut)
			}
			c.log = c.log[:n]
		}
		if st, ok := files["store.jsonl"]; ok {
			c.rows = []store.AuditRow{}
			for i, line := range bytes.Split(bytes.TrimSuffix(st, []byte("\n")), []byte("\n")) {
				if len(line) == 0 {
					continue
				}
				e, _, err := decodeLine(line)
				if err != nil {
					t.Fatalf("%s: store.jsonl:%d: %v", path, i+1, err)
				}
				c.rows = append(c.rows, rowOf(&e))
			}
		}
		out = append(out, c)
	}
	return out
}

// throughStore inserts rows as they are, duplicates and gaps included, into
// a new store's audit table and reads them back.
func throughStore(t *testing.T, rows []store.AuditRow) []store.AuditRow {
	t.Helper()
	if rows == nil {
		return nil
	}
	ctx := context.Background()
	s, _ := openStore(t)
	for _, r := range rows {
		var data any
		if r.Data != nil {
			data = string(r.Data)
		}
		if _, err := s.DB().ExecContext(ctx, `INSERT INTO audit VALUES (?, ?, ?, nullif(?, ''), nullif(?, ''), nullif(?, ''), nullif(?, ''), nullif(?, ''), ?, ?, ?)`,
			r.Seq, r.LoggedAt, r.Kind, r.Runbook, r.Gate, r.EventID, r.ActionKey, r.Decision, data, r.Prev, r.Hash); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.AuditRows(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func formatReport(rep Report) string {
	var b strings.Builder
	fmt.Fprintf(&b, "entries %d, last seq %d, store seq %d, last hash %s\n", rep.Entries, rep.LastSeq, rep.StoreSeq, rep.LastHash)
	for _, p := range rep.Problems {
		b.WriteString(p.Error() + "\n")
	}
	return b.String()
}

// TestVerifyCases checks each mutation of the sample log is reported as
// the want section says, and that the problems are well formed.
func TestVerifyCases(t *testing.T) {
	for _, c := range loadVerifyCases(t) {
		t.Run(strings.TrimSuffix(filepath.Base(c.path), ".txtar"), func(t *testing.T) {
			rows := throughStore(t, c.rows)
			rep := Verify(bytes.NewReader(c.log), "log.jsonl", rows)
			if rep.Err != nil {
				t.Fatal(rep.Err)
			}
			checkReport(t, rep, c.log)
			got := formatReport(rep)
			if *update {
				for i := range c.ar.Files {
					if c.ar.Files[i].Name == "want" {
						c.ar.Files[i].Data = []byte(got)
					}
				}
				if err := os.WriteFile(c.path, txtar.Format(c.ar), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			var want string
			for _, f := range c.ar.Files {
				if f.Name == "want" {
					want = string(f.Data)
				}
			}
			if got != want {
				t.Errorf("report differs:\n--- got\n%s--- want\n%s", got, want)
			}
		})
	}
}

// checkReport checks what holds of every report: problems in line order,
// at lines of the file (or the one after it), with a kind and a
// lowercase message, and OK exactly when there are none.
func checkReport(t *testing.T, rep Report, log []byte) {
	t.Helper()
	lines := bytes.Count(log, []byte("\n"))
	if len(log) > 0 && log[len(log)-1] != '\n' {
		lines++
	}
	if rep.OK() != (len(rep.Problems) == 0 && rep.Err == nil) {
		t.Errorf("OK() = %v with %d problems", rep.OK(), len(rep.Problems))
	}
	if rep.LastHash == "" || rep.Entries > lines {
		t.Errorf("report %+v for %d lines", rep, lines)
	}
	for i, p := range rep.Problems {
		if p.Line < 0 || p.Line > lines+1 || p.Kind == "" || p.Message == "" || p.Seq < 0 {
			t.Errorf("malformed problem %#v", p)
		}
		if m := p.Message; strings.ToLower(m[:1]) != m[:1] || strings.HasSuffix(m, ".") {
			t.Errorf("message %q is not lowercase without a final period", m)
		}
		if i > 0 && rep.Problems[i-1].Line > p.Line {
			t.Errorf("problems out of line order: %v", rep.Problems)
		}
	}
}

// TestVerifyAgainstGoldenHashes: the chain of the checked-in sample log,
// whose hashes were also computed outside Go (see docs/audit.md), verifies.
func TestVerifyAgainstGoldenHashes(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "intact.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	var rows []store.AuditRow
	for _, line := range bytes.SplitAfter(data, []byte("\n")) {
		if len(line) == 0 {
			continue
		}
		e, canonical, err := decodeLine(bytes.TrimSuffix(line, []byte("\n")))
		if err != nil || !canonical {
			t.Fatalf("%s: %v, canonical %v", line, err, canonical)
		}
		if h := hashEntry(&e); h != e.Hash {
			t.Errorf("seq %d: hash %s, line says %s", e.Seq, h, e.Hash)
		}
		rows = append(rows, rowOf(&e))
	}
	rep := Verify(bytes.NewReader(data), "intact.jsonl", throughStore(t, rows))
	mustOK(t, rep)
	if rep.Entries != 6 || rep.StoreSeq != 6 || rep.LastHash != "918807d9b8b3c6296e50ede0bebb46ca392e1153e3e8fc3951616c350cf02243" {
		t.Errorf("report %+v", rep)
	}
}
