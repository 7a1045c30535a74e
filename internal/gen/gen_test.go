package gen

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/gzip"
)

// logFile is one generated file, decoded.
type logFile struct {
	path    string // relative to the output directory
	size    int64
	raw     []byte // uncompressed
	records []map[string]any
}

func generate(t testing.TB, o Options) (string, Stats) {
	t.Helper()
	if o.Out == "" {
		o.Out = t.TempDir()
	}
	st, err := Generate(context.Background(), o)
	if err != nil {
		t.Fatalf("Generate: %v", err)
	}
	return o.Out, st
}

// readLogs decodes every file under dir, in path order.
func readLogs(t testing.TB, dir string) []logFile {
	t.Helper()
	var files []logFile
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		info, err := f.Stat()
		if err != nil {
			return err
		}
		zr, err := gzip.NewReader(f)
		if err != nil {
			return err
		}
		raw, err := io.ReadAll(zr)
		if err != nil {
			return err
		}
		var doc struct {
			Records []map[string]any
		}
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		if err := dec.Decode(&doc); err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		files = append(files, logFile{path: filepath.ToSlash(rel), size: info.Size(), raw: raw, records: doc.Records})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Slice(files, func(i, j int) bool { return files[i].path < files[j].path })
	return files
}

// hashTree maps each file under dir to the SHA-256 of its bytes.
func hashTree(t testing.TB, dir string) map[string]string {
	t.Helper()
	sums := map[string]string{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		h := sha256.Sum256(b)
		rel, _ := filepath.Rel(dir, path)
		sums[rel] = hex.EncodeToString(h[:])
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return sums
}

func TestSameSeedSameBytes(t *testing.T) {
	o := Options{Events: 12000, Seed: 42, PerFile: 700}
	prev := runtime.GOMAXPROCS(1)
	dir1, st1 := generate(t, o)
	runtime.GOMAXPROCS(4)
	dir2, st2 := generate(t, o)
	runtime.GOMAXPROCS(prev)
	if st1 != st2 {
		t.Fatalf("stats differ: %+v vs %+v", st1, st2)
	}
	h1, h2 := hashTree(t, dir1), hashTree(t, dir2)
	if len(h1) != st1.Files {
		t.Fatalf("%d files on disk, Stats.Files = %d", len(h1), st1.Files)
	}
	for name, sum := range h1 {
		if h2[name] != sum {
			t.Errorf("%s: %s vs %s", name, sum, h2[name])
		}
	}
	if len(h2) != len(h1) {
		t.Errorf("second run wrote %d files, first %d", len(h2), len(h1))
	}
}

func TestSeedsDiffer(t *testing.T) {
	dir1, _ := generate(t, Options{Events: 3000, Seed: 1})
	dir2, _ := generate(t, Options{Events: 3000, Seed: 2})
	h1, h2 := hashTree(t, dir1), hashTree(t, dir2)
	for name := range h1 {
		if _, ok := h2[name]; ok {
			t.Errorf("both seeds wrote %s", name)
		}
	}
	a1, a2 := accountsOf(readLogs(t, dir1)), accountsOf(readLogs(t, dir2))
	if strings.Join(a1, ",") == strings.Join(a2, ",") {
		t.Errorf("both seeds use accounts %v", a1)
	}
}

func accountsOf(files []logFile) []string {
	seen := map[string]bool{}
	for _, f := range files {
		seen[strings.Split(f.path, "/")[1]] = true
	}
	var out []string
	for a := range seen {
		out = append(out, a)
	}
	sort.Strings(out)
	return out
}

var pathRE = regexp.MustCompile(`^AWSLogs/(\d{12})/CloudTrail/([a-z]{2}-[a-z]+-\d)/(\d{4})/(\d{2})/(\d{2})/(\d{12})_CloudTrail_([a-z]{2}-[a-z]+-\d)_(\d{8}T\d{4}Z)_([A-Za-z0-9]{16})\.json\.gz$`)

func TestLayout(t *testing.T) {
	const events, perFile = 9000, 500
	start := time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)
	span := 10 * 24 * time.Hour
	dir, st := generate(t, Options{Events: events, Seed: 3, PerFile: perFile, Start: start, Span: span})
	files := readLogs(t, dir)
	if st.Events != events || st.Files != len(files) {
		t.Fatalf("stats %+v; %d files on disk", st, len(files))
	}
	var total int
	var size int64
	accounts, regions := map[string]bool{}, map[string]bool{}
	type slice struct{ first, last time.Time }
	byStream := map[string][]slice{}
	for _, f := range files {
		m := pathRE.FindStringSubmatch(f.path)
		if m == nil {
			t.Fatalf("bad path %s", f.path)
		}
		acct, region, stamp := m[1], m[2], m[8]
		if m[6] != acct || m[7] != region {
			t.Errorf("%s: name does not match its directory", f.path)
		}
		if m[3]+m[4]+m[5] != stamp[:8] {
			t.Errorf("%s: date directory does not match the name", f.path)
		}
		accounts[acct], regions[region] = true, true
		n := len(f.records)
		if n == 0 || n > perFile {
			t.Errorf("%s: %d records", f.path, n)
		}
		total += n
		size += f.size
		if !bytes.HasPrefix(f.raw, []byte(`{"Records":[{"eventVersion":`)) || bytes.ContainsAny(f.raw, "\n") {
			t.Errorf("%s: not a compact Records object", f.path)
		}
		var prev time.Time
		var first time.Time
		for i, r := range f.records {
			ts, err := time.Parse(time.RFC3339, r["eventTime"].(string))
			if err != nil {
				t.Fatalf("%s record %d: %v", f.path, i, err)
			}
			if ts.Before(prev) {
				t.Errorf("%s record %d: %v before %v", f.path, i, ts, prev)
			}
			if ts.Before(start) || !ts.Before(start.Add(span)) {
				t.Errorf("%s record %d: %v outside the span", f.path, i, ts)
			}
			if r["recipientAccountId"] != acct || r["awsRegion"] != region {
				t.Errorf("%s record %d: from %v/%v", f.path, i, r["recipientAccountId"], r["awsRegion"])
			}
			if i == 0 {
				first = ts
			}
			prev = ts
		}
		delivered, _ := time.Parse("20060102T1504Z", stamp)
		if delivered.Before(prev) || delivered.Sub(prev) > 5*time.Minute {
			t.Errorf("%s: delivered %v, last event %v", f.path, delivered, prev)
		}
		byStream[acct+"/"+region] = append(byStream[acct+"/"+region], slice{first, prev})
	}
	if total != events || size != st.Bytes {
		t.Errorf("read %d events, %d bytes; stats %+v", total, size, st)
	}
	if len(accounts) < 2 || len(accounts) > 3 || len(regions) < 3 || len(regions) > 4 {
		t.Errorf("%d accounts, %d regions", len(accounts), len(regions))
	}
	for name, sl := range byStream {
		sort.Slice(sl, func(i, j int) bool { return sl[i].first.Before(sl[j].first) })
		for i := 1; i < len(sl); i++ {
			if sl[i].first.Before(sl[i-1].last) {
				t.Errorf("%s: file slices overlap: %v < %v", name, sl[i].first, sl[i-1].last)
			}
		}
	}
}

func TestOptionsErrors(t *testing.T) {
	_, err := Generate(context.Background(), Options{Events: -1, PerFile: -2, Span: -time.Hour})
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{"events is -1", "per-file is -2", "span is -1h0m0s", "out directory is empty"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
}

func TestZeroEvents(t *testing.T) {
	dir, st := generate(t, Options{})
	if st != (Stats{}) || len(hashTree(t, dir)) != 0 {
		t.Errorf("stats %+v", st)
	}
}

func TestCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := Generate(ctx, Options{Events: 10, Out: t.TempDir()})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("got %v, want context.Canceled", err)
	}
}

// BenchmarkGenerate measures end-to-end generation, compression and
// writing. Run with -benchtime=1x -cpu=1 for the single-core figure.
func BenchmarkGenerate(b *testing.B) {
	const events = 200000
	dir := b.TempDir()
	var st Stats
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		var err error
		st, err = Generate(context.Background(), Options{Events: events, Seed: 1, Out: dir})
		if err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(events)*float64(b.N)/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(float64(st.Bytes)/events, "gzbytes/event")
}

func TestTinyRuns(t *testing.T) {
	for _, o := range []Options{
		{Events: 1, Seed: 1},
		{Events: 5, Seed: 2, PerFile: 1},
		{Events: 300, Seed: 3, PerFile: 7, Span: time.Minute},
		{Events: 2000, Seed: 4, Span: 2 * 365 * 24 * time.Hour},
	} {
		dir, st := generate(t, o)
		files := readLogs(t, dir)
		n := 0
		for _, f := range files {
			n += len(f.records)
			if per := max(o.PerFile, 1); o.PerFile > 0 && len(f.records) > per {
				t.Errorf("%+v: %d records in a file", o, len(f.records))
			}
		}
		if n != o.Events || st.Events != o.Events || st.Files != len(files) {
			t.Errorf("%+v: stats %+v, %d records in %d files", o, st, n, len(files))
		}
	}
}
