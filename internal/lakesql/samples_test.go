package lakesql

import (
	"bufio"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// sampleEntry is one line of a testdata/*/index.txt file.
type sampleEntry struct {
	file   string
	status string // ok, config, malformed, invalid
	detail string // LINE:COL for malformed, error text for invalid
}

func loadIndex(t testing.TB, dir string) []sampleEntry {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, "index.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []sampleEntry
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		text, _, _ := strings.Cut(sc.Text(), "#")
		fields := strings.Fields(text)
		if len(fields) == 0 {
			continue
		}
		if len(fields) < 2 {
			t.Fatalf("%s/index.txt:%d: want FILE STATUS [DETAIL]", dir, line)
		}
		e := sampleEntry{file: fields[0], status: fields[1], detail: strings.Join(fields[2:], " ")}
		switch e.status {
		case "ok", "config":
		case "malformed", "invalid":
			if e.detail == "" {
				t.Fatalf("%s/index.txt:%d: %s needs a detail", dir, line, e.status)
			}
		default:
			t.Fatalf("%s/index.txt:%d: unknown status %q", dir, line, e.status)
		}
		out = append(out, e)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	// The index must list exactly the .sql files present.
	files, _ := filepath.Glob(filepath.Join(dir, "*.sql"))
	var listed, present []string
	for _, e := range out {
		listed = append(listed, e.file)
	}
	for _, f := range files {
		present = append(present, filepath.Base(f))
	}
	sort.Strings(listed)
	sort.Strings(present)
	if strings.Join(listed, "\n") != strings.Join(present, "\n") {
		t.Fatalf("%s/index.txt lists\n%v\nbut the directory holds\n%v", dir, listed, present)
	}
	return out
}

// TestSamples translates and runs the AWS sample queries as their index
// says: the CloudTrail ones run, the malformed ones fail at a position.
func TestSamples(t *testing.T) {
	conn := newConn(t, true)
	ctx := context.Background()
	counts := map[string]int{}
	for _, dir := range []string{"testdata/samples", "testdata/userguide"} {
		for _, e := range loadIndex(t, dir) {
			counts[filepath.Base(dir)+" "+e.status]++
			t.Run(filepath.Base(dir)+"/"+e.file, func(t *testing.T) {
				if e.status == "config" {
					t.Skip("queries AWS Config items, not CloudTrail events")
				}
				src, err := os.ReadFile(filepath.Join(dir, e.file))
				if err != nil {
					t.Fatal(err)
				}
				checkSample(ctx, t, conn, e, string(src))
			})
		}
	}
	want := map[string]int{
		"samples ok": 58, "samples config": 7, "samples malformed": 7,
		"userguide ok": 7, "userguide invalid": 1, "userguide malformed": 2,
	}
	if fmt.Sprint(counts) != fmt.Sprint(want) {
		t.Errorf("index counts %v, want %v", counts, want)
	}
}

func checkSample(ctx context.Context, t *testing.T, conn *sql.Conn, e sampleEntry, src string) {
	q, err := Translate(ctx, conn, src, Options{})
	if e.status == "malformed" {
		var le *Error
		if !errors.As(err, &le) {
			t.Fatalf("translated a malformed query, want a syntax error at %s; got %v", e.detail, err)
		}
		if le.Code != CodeSyntax || fmt.Sprintf("%d:%d", le.Line, le.Col) != e.detail {
			t.Fatalf("got %s error %q at %d:%d, want syntax at %s", le.Code, le.Error(), le.Line, le.Col, e.detail)
		}
		return
	}
	if err != nil {
		t.Fatalf("translate: %v", err)
	}
	values := map[string]string{}
	for _, p := range q.Params {
		values[p] = "2023-06-20 00:00:00"
	}
	args, err := q.Args(values)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := conn.QueryContext(ctx, q.SQL, args...)
	if err == nil {
		for rows.Next() {
		}
		err = rows.Err()
		rows.Close()
	}
	switch {
	case e.status == "ok" && err != nil:
		t.Fatalf("run: %v\n%s", err, q.SQL)
	case e.status == "invalid" && err == nil:
		t.Fatalf("ran, want an error containing %q\n%s", e.detail, q.SQL)
	case e.status == "invalid" && !strings.Contains(err.Error(), e.detail):
		t.Fatalf("got %v, want an error containing %q", err, e.detail)
	}
}
