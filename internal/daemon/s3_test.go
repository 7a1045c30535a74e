package daemon_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io/fs"
	"iter"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/trailbook/trailbook/internal/daemon"
	"github.com/trailbook/trailbook/internal/gen"
)

// isolateAWS hides the machine's AWS configuration from the SDK and
// gives it test credentials, so that sources build their clients the
// way serve does.
func isolateAWS(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "config"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "credentials"))
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("AWS_PROFILE", "")
	t.Setenv("AWS_REGION", "")
	t.Setenv("AWS_ENDPOINT_URL", "")
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDTRAILBOOKTEST")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
	t.Setenv("AWS_SESSION_TOKEN", "")
}

// fakeS3 is gofakes3 with its in-memory backend on 127.0.0.1, recording
// every request.
type fakeS3 struct {
	t       *testing.T
	backend *s3mem.Backend
	srv     *httptest.Server

	mu   sync.Mutex
	reqs []*http.Request // method and URL only
}

func newFakeS3(t *testing.T, buckets ...string) *fakeS3 {
	f := &fakeS3{t: t, backend: s3mem.New()}
	h := gofakes3.New(f.backend).Server()
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.reqs = append(f.reqs, &http.Request{Method: r.Method, URL: r.URL})
		f.mu.Unlock()
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(f.srv.Close)
	for _, b := range buckets {
		if err := f.backend.CreateBucket(b); err != nil {
			t.Fatal(err)
		}
	}
	return f
}

func (f *fakeS3) put(bucket, key string, data []byte) {
	f.t.Helper()
	if _, err := f.backend.PutObject(bucket, key, map[string]string{}, bytes.NewReader(data), int64(len(data)), nil); err != nil {
		f.t.Fatal(err)
	}
}

// gets counts the GetObject requests for key.
func (f *fakeS3) gets(bucket, key string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, r := range f.reqs {
		if r.Method == http.MethodGet && r.URL.Path == "/"+bucket+"/"+key && r.URL.Query().Get("list-type") == "" {
			n++
		}
	}
	return n
}

// lists is the query of every ListObjectsV2 request.
func (f *fakeS3) lists() []url.Values {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []url.Values
	for _, r := range f.reqs {
		if q := r.URL.Query(); q.Get("list-type") == "2" {
			out = append(out, q)
		}
	}
	return out
}

// ledger is a daemon's ingested_files for sources made before the
// daemon is open, as serve makes them.
type ledger struct {
	d     *daemon.Daemon
	asked atomic.Int64 // Ingested calls

	mu   sync.Mutex
	read []string // Taken's prefixes
}

func (l *ledger) Ingested(ctx context.Context, source string) (bool, error) {
	l.asked.Add(1)
	return l.d.Ingested(ctx, source)
}

// Taken is S3Config.Taken.
func (l *ledger) Taken(ctx context.Context, prefix string) iter.Seq2[string, error] {
	l.mu.Lock()
	l.read = append(l.read, prefix)
	l.mu.Unlock()
	return l.d.Taken(ctx, prefix)
}

// reads is the prefixes Taken was called with.
func (l *ledger) reads() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.read)
}

// startSources opens a daemon on e's store with the sources mk makes,
// hands it to each opened and runs it until stop is called.
func (e *env) startSources(mk func(*ledger) []daemon.Source, opened ...func(*daemon.Daemon)) (*daemon.Daemon, func()) {
	e.t.Helper()
	l := &ledger{} // l.d is set before Run, which alone uses it
	ctx, cancel := context.WithCancel(context.Background())
	d, err := daemon.Open(ctx, daemon.Options{DB: e.db, RunbookDir: filepath.Join(e.dir, "runbooks"), Alerts: true,
		Stdout: e.stdout, Sources: mk(l), BatchWait: 10 * time.Millisecond, ReloadPoll: -1,
		Now:    func() time.Time { return time.Date(2024, 5, 1, 12, 5, 0, 0, time.UTC) },
		Logger: slog.New(slog.NewTextHandler(e.t.Output(), nil))})
	if err != nil {
		e.t.Fatal(err)
	}
	l.d = d
	for _, f := range opened {
		f(d)
	}
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	return d, func() {
		cancel()
		if err := <-done; err != nil {
			e.t.Error(err)
		}
		if err := d.Close(); err != nil {
			e.t.Error(err)
		}
	}
}

// live is the value of a count query on a running daemon's store.
func live(t *testing.T, d *daemon.Daemon, q string, args ...any) int {
	t.Helper()
	var n int
	if err := d.Store().DB().QueryRow(q, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func gz(t *testing.T, s string) []byte {
	t.Helper()
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	if _, err := w.Write([]byte(s)); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// records is a CloudTrail file of one DescribeTrails record per ID.
func records(ids ...string) string {
	recs := make([]string, len(ids))
	for i, id := range ids {
		recs[i] = record(id, "DescribeTrails")
	}
	return `{"Records": [` + strings.Join(recs, ", ") + `]}`
}

// TestS3Source: a bucket holding trails of single accounts and of an
// organisation, across accounts and regions, is stored once, object by
// object, with digests and other services' files never fetched; objects
// added while the source runs arrive (in known streams, new regions, new
// accounts), and after the first poll streams are listed from their
// recent days only; after a restart nothing is fetched or stored twice,
// and a file written into an old day is found by the sweeps.
func TestS3Source(t *testing.T) {
	isolateAWS(t)
	e := newEnv(t)
	const bucket = "trail"
	s3f := newFakeS3(t, bucket)

	out := t.TempDir()
	stats, err := gen.Generate(context.Background(), gen.Options{Events: 600, PerFile: 40, Seed: 11, Span: 72 * time.Hour, Out: out})
	if err != nil {
		t.Fatal(err)
	}
	var keys []string // every object to take
	layouts := map[bool]int{}
	err = filepath.WalkDir(out, func(path string, de fs.DirEntry, err error) error {
		if err != nil || de.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(out, path)
		key := filepath.ToSlash(rel)
		account := strings.Split(key, "/")[1]
		org := (account[len(account)-1]-'0')%2 == 0
		if org {
			key = "AWSLogs/o-a1b2c3d4e5/" + strings.TrimPrefix(key, "AWSLogs/")
		}
		layouts[org]++
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		s3f.put(bucket, key, data)
		keys = append(keys, key)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if layouts[true] == 0 || layouts[false] == 0 {
		t.Fatalf("want both layouts: %v", layouts)
	}
	parts := strings.Split(keys[len(keys)-1], "/")
	root := strings.Join(parts[:len(parts)-4], "/") + "/" // a stream: .../CloudTrail/REGION/
	account, region := parts[len(parts)-7], parts[len(parts)-5]
	name := func(day, unique string) string {
		return root + day + "/" + account + "_CloudTrail_" + region + "_" + strings.ReplaceAll(day, "/", "") + "T0005Z_" + unique + ".json.gz"
	}
	digest := "AWSLogs/" + account + "/CloudTrail-Digest/" + region + "/2024/04/15/" + account + "_CloudTrail-Digest_" + region + "_org_" + region + "_20240415T010000Z.json.gz"
	s3f.put(bucket, digest, gz(t, `{"awsAccountId": "`+account+`", "digestStartTime": "2024-04-15T00:00:00Z", "digestEndTime": "2024-04-15T01:00:00Z", "logFiles": []}`))
	config := "AWSLogs/" + account + "/Config/" + region + "/2024/4/15/ConfigHistory/" + account + "_Config_" + region + "_ConfigHistory_AWS::EC2::Instance_20240415T010000Z_20240415T020000Z_1.json.gz"
	s3f.put(bucket, config, gz(t, `{"fileVersion": "1.0", "configurationItems": []}`))
	s3f.put(bucket, "manual/extra.json", []byte(records("manual-1")))
	keys = append(keys, "manual/extra.json")
	want := stats.Events + 1

	cfg := daemon.WithPageSize(daemon.S3Config{Name: "trail", Bucket: bucket, Region: "us-east-1", Endpoint: s3f.srv.URL,
		Poll: 30 * time.Millisecond, Sweep: -1, Logger: slog.New(slog.NewTextHandler(t.Output(), nil))}, 5)
	events := `SELECT count(*) FROM events`
	var l *ledger
	d, stop := e.startSources(func(made *ledger) []daemon.Source {
		l = made
		return []daemon.Source{daemon.NewS3Source(cfg, l.Ingested)}
	})
	until(t, "the bucket", func() bool { return live(t, d, events) == want })

	// New objects: in a known stream, in a new region, in a new account
	// of the organisation.
	added := map[string]string{
		name("2024/04/25", "LATER00000000001"):                                                                                                        records("later-1", "later-2"),
		strings.Replace(name("2024/04/16", "NEWREGION0000001"), "/"+region+"/", "/ap-south-2/", 1):                                                    records("region-1"),
		"AWSLogs/o-a1b2c3d4e5/999988887777/CloudTrail/us-west-2/2024/04/16/999988887777_CloudTrail_us-west-2_20240416T0005Z_NEWACCOUNT000001.json.gz": records("account-1"),
	}
	for k, v := range added {
		s3f.put(bucket, k, gz(t, v))
		keys = append(keys, k)
	}
	want += 4
	until(t, "the new objects", func() bool { return live(t, d, events) == want })
	// A file written into an old day: below where polls now list the
	// stream from, it waits for a sweep (here, the restart's).
	back1 := name("2024/04/01", "BACKFILL00000001")
	s3f.put(bucket, back1, gz(t, records("back-1")))
	keys = append(keys, back1)
	time.Sleep(100 * time.Millisecond)
	stop()
	if n := l.asked.Load(); n != int64(len(keys)-1) {
		t.Errorf("the store was asked %d times about %d keys", n, len(keys)-1)
	}

	whole, forward := 0, 0
	for _, q := range s3f.lists() {
		if q.Get("prefix") != root || q.Get("continuation-token") != "" {
			continue
		}
		if after := q.Get("start-after"); after == "" {
			whole++
		} else if after >= root+"2024/04/" {
			forward++
		}
	}
	if whole != 1 || forward < 2 {
		t.Errorf("the stream was listed whole %d times (want 1, the first poll) and from its recent days %d times", whole, forward)
	}

	// Restarted, with sweeps that read the store's ledger at once.
	cfg.Sweep = 150 * time.Millisecond
	d, stop = e.startSources(func(made *ledger) []daemon.Source {
		l = made
		cfg := cfg
		cfg.Taken = l.Taken
		return []daemon.Source{daemon.NewS3Source(cfg, l.Ingested)}
	})
	after := name("2024/04/26", "AFTERRESTART0001")
	s3f.put(bucket, after, gz(t, records("after-1")))
	keys = append(keys, after)
	want += 2 // back-1 and after-1
	until(t, "the objects after the restart", func() bool { return live(t, d, events) == want })
	back2 := name("2024/04/02", "BACKFILL00000002")
	s3f.put(bucket, back2, gz(t, records("back-2")))
	keys = append(keys, back2)
	want++
	until(t, "the file written into an old day", func() bool { return live(t, d, events) == want })
	stop()
	if n := l.asked.Load(); n != 3 {
		t.Errorf("after the restart the store was asked %d times, want 3 (the new keys)", n)
	}

	for _, k := range keys {
		if n := s3f.gets(bucket, k); n != 1 {
			t.Errorf("%s fetched %d times", k, n)
		}
	}
	for _, k := range []string{digest, config} {
		if n := s3f.gets(bucket, k); n != 0 {
			t.Errorf("%s fetched %d times", k, n)
		}
	}
	if n := e.count(`SELECT count(*) FROM events`); n != want {
		t.Errorf("%d events, want %d", n, want)
	}
	if n := e.count(`SELECT count(DISTINCT eventID) FROM events`); n != want {
		t.Errorf("%d distinct events, want %d", n, want)
	}
	if n := e.count(`SELECT count(*) FROM ingested_files`); n != len(keys) {
		t.Errorf("%d files taken, want %d", n, len(keys))
	}
	if n := e.count(`SELECT count(DISTINCT source) FROM ingested_files WHERE source LIKE 's3://trail/%'`); n != len(keys) {
		t.Errorf("%d objects taken, want %d", n, len(keys))
	}
}

// TestS3SourceForgetsOldKeys: after a stream is listed, the source keeps
// in memory only the keys the next poll lists (its recent days), not the
// stream's whole history, yet sweeps still find a file written into an
// old day and fetch nothing twice, asking the store about no old key
// one by one, and reading what it took in one pass for the whole bucket,
// not once a stream.
func TestS3SourceForgetsOldKeys(t *testing.T) {
	isolateAWS(t)
	e := newEnv(t)
	const bucket = "trail"
	s3f := newFakeS3(t, bucket)
	key := func(region string, day int, unique string) string {
		return fmt.Sprintf("AWSLogs/111122223333/CloudTrail/%s/2024/04/%02d/111122223333_CloudTrail_%s_202404%02dT0005Z_%s.json.gz",
			region, day, region, day, unique)
	}
	regions := []string{"ap-south-1", "eu-west-1", "us-east-1"}
	var keys []string
	for _, region := range regions {
		for day := 1; day <= 20; day++ {
			k := key(region, day, fmt.Sprintf("DAY%02d", day))
			s3f.put(bucket, k, gz(t, records(fmt.Sprintf("%s-%02d", region, day))))
			keys = append(keys, k)
		}
	}
	s3f.put(bucket, "manual/extra.json", []byte(records("manual-1")))
	keys = append(keys, "manual/extra.json")
	want := len(keys)

	var src daemon.Source
	var l *ledger
	d, stop := e.startSources(func(made *ledger) []daemon.Source {
		l = made
		src = daemon.NewS3Source(daemon.S3Config{Name: "trail", Bucket: bucket, Region: "us-east-1", Endpoint: s3f.srv.URL,
			Poll: 20 * time.Millisecond, Sweep: 100 * time.Millisecond, Taken: l.Taken,
			Logger: slog.New(slog.NewTextHandler(t.Output(), nil))}, l.Ingested)
		return []daemon.Source{src}
	})
	defer stop()
	events := `SELECT count(*) FROM events`
	until(t, "the bucket", func() bool { return live(t, d, events) == want })
	// Some polls and a sweep or two later.
	time.Sleep(300 * time.Millisecond)
	// Each stream's files of its last two days (a poll lists from an hour
	// before the newest file's delivery time, which crosses midnight
	// here), and the file outside the AWSLogs tree, which every poll
	// lists.
	if n, most := daemon.CachedKeys(src), 2*len(regions)+1; n > most {
		t.Errorf("%d keys held in memory after the streams were listed, want at most %d of %d", n, most, len(keys))
	}
	asked := l.asked.Load()
	back := key("eu-west-1", 3, "BACKFILL")
	s3f.put(bucket, back, gz(t, records("back-1")))
	keys = append(keys, back)
	want++
	until(t, "the file written into an old day", func() bool { return live(t, d, events) == want })
	time.Sleep(250 * time.Millisecond)
	if n := l.asked.Load() - asked; n != 1 {
		t.Errorf("the store was asked %d times about single keys after the first listing, want 1 (the new one)", n)
	}
	for _, k := range keys {
		if n := s3f.gets(bucket, k); n != 1 {
			t.Errorf("%s fetched %d times", k, n)
		}
	}
	// A sweep reads the bucket's ledger twice: the pass its streams take
	// from, and the one for the folders outside the AWSLogs tree.
	reads := l.reads()
	if len(reads) < 2 {
		t.Errorf("Taken read %d times; want the sweeps' reads", len(reads))
	}
	for _, p := range reads {
		if p != "s3://"+bucket+"/" {
			t.Errorf("Taken read under %s; want only the bucket's prefix, never a stream's", p)
		}
	}
}

// TestTakenPages: Taken yields every source under its prefix once, in
// byte order, across the pages it reads them in, and stops when its
// caller does.
func TestTakenPages(t *testing.T) {
	e := newEnv(t)
	d, stop := e.start()
	defer stop()
	ctx := context.Background()
	const n = 120001 // more than two pages
	_, err := d.Store().DB().ExecContext(ctx, `INSERT INTO ingested_files
		SELECT 's3://b/' || CASE WHEN i % 3 = 0 THEN 'AWSLogs/' ELSE 'aWSLogs/' END || lpad(i::VARCHAR, 7, '0'), 0, '', 0, 0, 0, 0, 0, now()
		FROM range(?) t(i)`, 3*n)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for s, err := range d.Taken(ctx, "s3://b/AWSLogs/") {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, s)
	}
	if len(got) != n || !slices.IsSorted(got) || got[0] != "s3://b/AWSLogs/0000000" {
		t.Fatalf("%d sources (want %d), sorted %v, first %q", len(got), n, slices.IsSorted(got), got[:min(1, len(got))])
	}
	if c := len(slices.Compact(slices.Clone(got))); c != n {
		t.Fatalf("%d distinct of %d", c, n)
	}
	seen := 0
	for range d.Taken(ctx, "s3://b/") {
		if seen++; seen == 10 {
			break
		}
	}
	if seen != 10 {
		t.Fatalf("stopped after %d", seen)
	}
}
