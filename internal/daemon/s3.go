package daemon

import (
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"log/slog"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/trailbook/trailbook/internal/action/awsact"
	"github.com/trailbook/trailbook/internal/ingest"
	"github.com/trailbook/trailbook/internal/store"
)

// S3Config configures an S3 source. Its first fields are those of
// config.S3Source; zero values take the defaults noted.
type S3Config struct {
	Name   string
	Bucket string
	// Prefix is the key prefix read ("" for the whole bucket). It may
	// stop anywhere: before AWSLogs/, inside it, or inside a stream.
	Prefix string
	// Region and Endpoint build the client when Client is nil; a
	// non-empty Endpoint (http://127.0.0.1:PORT) is addressed path-style.
	Region, Endpoint string
	Poll             time.Duration // how often the bucket is listed; default 1m
	// Sweep is how often a poll lists every stream from its start
	// rather than from its recent days (see NewS3Source); default 1h,
	// negative: only the first poll after a start.
	Sweep time.Duration
	// Workers is how many objects are checked, fetched and delivered at
	// once; default 8. Deliveries in flight together are committed
	// together.
	Workers int
	// Taken, when set, yields the sources the store has taken that start
	// with a prefix, in ascending byte order (Daemon.Taken). A sweep
	// reads it once for s3://BUCKET/PREFIX, along with its listing, and
	// once more for a folder outside an AWSLogs tree, rather than asking
	// the checkpoint key by key (a point query of ingested_files costs
	// milliseconds on a large store).
	Taken func(ctx context.Context, prefix string) iter.Seq2[string, error]
	// Client, when set, is used instead of one built from Region and
	// Endpoint.
	Client *s3.Client
	Logger *slog.Logger

	pageSize int32 // MaxKeys of a listing page; 0: S3's default (1000). Tests.
}

// Checkpoint reports whether the store has taken a file under source:
// Daemon.Ingested.
type Checkpoint func(ctx context.Context, source string) (bool, error)

// s3Lookback is how far before the newest file of a stream a forward
// listing starts, beyond the start of that file's day: CloudTrail names
// a file by its delivery time, so a new file never sorts far behind the
// newest one already there; an upload slower than this across midnight
// waits for the next sweep.
const s3Lookback = time.Hour

// maxObject bounds an object the S3 and SQS sources read; larger ones
// are stored as one reject, as the folder source does.
const maxObject = maxFolderFile

// S3Source polls an S3 bucket for CloudTrail files: those of trails of
// one account and of organisation trails, in every account and region,
// and any other file under Prefix outside an AWSLogs tree. Each object
// the store has not taken (ingested_files, source s3://BUCKET/KEY) is
// fetched and delivered once; digest files (CloudTrail-Digest/) and
// other services' folders in an AWSLogs tree (Config/, ...) are never
// fetched.
//
// Listing is shaped by CloudTrail's layout. A poll walks the prefix
// folder by folder (ListObjectsV2 with a delimiter) down to the streams,
// AWSLogs/[o-ORG/]ACCOUNT/CloudTrail[-Insight]/REGION/, so new accounts
// and regions are found at every poll; elsewhere the walk goes on to
// the leaves. A stream's keys sort by the day folder and the file's
// delivery time, so once a stream has been listed whole, a poll lists
// it from the start of the day of its newest file less s3Lookback
// (StartAfter), not from its first year. What that could miss, a file
// written into an older day later (a backfill, a copy, a late
// replica), a sweep finds: every Sweep, and at the first poll after a
// start, every stream is listed whole. Keys already taken are kept in
// memory, so a poll asks the store (checkpoint) only about keys it has
// not seen; when Taken is set, a sweep reads what the store holds under
// the prefix in one pass, in key order, alongside its walk, which meets
// the streams in the same order: each stream's keys are read just before
// it is listed. Of a stream, only the keys a poll lists from its recent
// days are kept after its listing: memory follows the number of streams,
// not the bucket's history (an organisation trail adds some 290 files a
// day to each account and region).
//
// Run fetches and delivers up to Workers objects at once, logs and
// skips an object it cannot fetch (it is tried again at the next poll
// that lists it), and ends a poll early when the store fails. Nothing
// is acknowledged upstream, so stopping at any point loses nothing.
func NewS3Source(cfg S3Config, checkpoint Checkpoint) Source {
	if cfg.Poll <= 0 {
		cfg.Poll = time.Minute
	}
	if cfg.Sweep == 0 {
		cfg.Sweep = time.Hour
	}
	if cfg.Workers <= 0 {
		cfg.Workers = 8
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if checkpoint == nil {
		checkpoint = func(context.Context, string) (bool, error) { return false, nil }
	}
	return &s3Source{cfg: cfg, checkpoint: checkpoint, taken: map[string]map[string]bool{}, newest: map[string]string{}}
}

type s3Source struct {
	cfg        S3Config
	checkpoint Checkpoint

	mu sync.Mutex
	// taken is the keys known stored, by this run or before it, by
	// stream root ("" for keys outside a stream): a cache of checkpoint,
	// which stays the truth.
	taken map[string]map[string]bool
	// newest is each stream's greatest dated key listed so far, by
	// stream root; only Run's goroutine uses it.
	newest map[string]string
}

func (s *s3Source) Name() string { return s.cfg.Name }
func (s *s3Source) Kind() string { return "s3" }

// Run polls the bucket until ctx ends.
func (s *s3Source) Run(ctx context.Context, deliver Deliver) error {
	client := s.cfg.Client
	if client == nil {
		var err error
		if client, err = newS3Client(ctx, s.cfg.Region, s.cfg.Endpoint); err != nil {
			return err
		}
	}
	var swept time.Time // when the last sweep began; zero: none yet
	timer := time.NewTimer(jitter(s.cfg.Name, s.cfg.Poll/4))
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-timer.C:
		}
		start := time.Now()
		sweep := swept.IsZero() || s.cfg.Sweep > 0 && start.Sub(swept) >= s.cfg.Sweep
		st, err := s.poll(ctx, client, deliver, sweep)
		if err := ctx.Err(); err != nil {
			return err
		}
		if err != nil {
			s.cfg.Logger.Warn("s3 poll", "source", s.cfg.Name, "bucket", s.cfg.Bucket, "sweep", sweep, "err", err)
		} else if sweep {
			swept = start
		}
		s.cfg.Logger.Debug("s3 polled", "source", s.cfg.Name, "sweep", sweep, "listings", st.listings.Load(),
			"new", st.listed.Load(), "delivered", st.delivered.Load(), "failed", st.failed.Load(), "took", time.Since(start))
		timer.Reset(s.cfg.Poll)
	}
}

// pollStats is what one poll did, for the log.
type pollStats struct {
	listings, listed, delivered, failed atomic.Int64
}

// poll lists the prefix once and delivers the objects not yet taken.
// It returns the first error of the store or of a listing.
func (s *s3Source) poll(ctx context.Context, client *s3.Client, deliver Deliver, sweep bool) (*pollStats, error) {
	st := &pollStats{}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	keys := make(chan listedKey)
	var wg sync.WaitGroup
	for range s.cfg.Workers {
		wg.Go(func() {
			for k := range keys {
				if ctx.Err() != nil {
					continue // drain
				}
				if err := s.take(ctx, client, deliver, k, st); err != nil {
					cancel(err)
				}
			}
		})
	}
	l := &lister{s: s, client: client, sweep: sweep, stats: st, offer: func(k listedKey) bool {
		select {
		case keys <- k:
			return true
		case <-ctx.Done():
			return false
		}
	}}
	if sweep && s.cfg.Taken != nil {
		next, stop := iter.Pull2(s.cfg.Taken(ctx, objectSource(s.cfg.Bucket, s.cfg.Prefix)))
		defer stop()
		l.cursor = &takenCursor{next: next}
	}
	err := l.run(ctx)
	close(keys)
	wg.Wait()
	if cause := context.Cause(ctx); cause != nil && !errors.Is(cause, context.Canceled) {
		return st, cause
	}
	return st, err
}

// listedKey is a key a listing offers, with the root of its stream ("" if
// none).
type listedKey struct{ root, key string }

// take delivers one listed key unless the store has it already.
func (s *s3Source) take(ctx context.Context, client *s3.Client, deliver Deliver, k listedKey, st *pollStats) error {
	key := k.key
	source := objectSource(s.cfg.Bucket, key)
	done, err := s.checkpoint(ctx, source)
	if err != nil {
		return fmt.Errorf("checkpoint %s: %w", source, err)
	}
	if !done {
		f, err := fetchObject(ctx, client, s.cfg.Bucket, key, "")
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			st.failed.Add(1)
			s.cfg.Logger.Warn("s3 get", "source", s.cfg.Name, "object", source, "err", err)
			return nil // the next poll that lists it tries again
		}
		if _, err := deliver(ctx, &f); err != nil {
			return fmt.Errorf("deliver %s: %w", source, err)
		}
		st.delivered.Add(1)
	}
	s.noteTaken(k.root, key)
	return nil
}

// noteTaken adds key, of the stream at root, to the keys known stored.
func (s *s3Source) noteTaken(root, key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.taken[root]
	if m == nil {
		m = map[string]bool{}
		s.taken[root] = m
	}
	m[key] = true
}

func (s *s3Source) isTaken(root, key string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.taken[root][key]
}

// forget drops the keys of the stream at root that sort before from:
// polls list the stream from there on, and a sweep reads the rest from
// the store again. A key dropped while a worker takes it is added back;
// either way checkpoint decides.
func (s *s3Source) forget(root, from string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for key := range s.taken[root] {
		if key < from {
			delete(s.taken[root], key)
		}
	}
}

// preload adds what the store has taken under prefix, in the stream at
// root ("" outside streams), to the keys known stored; only in a sweep
// with Taken set. A stream's come from the sweep's one pass over the
// store; a folder outside streams reads its own.
func (l *lister) preload(ctx context.Context, root, prefix string) {
	if l.cursor == nil {
		return
	}
	bucket := objectSource(l.s.cfg.Bucket, "")
	fail := func(err error) {
		if ctx.Err() == nil {
			l.failed = append(l.failed, fmt.Errorf("taken under %s: %w", prefix, err))
		}
	}
	if root != "" {
		if err := l.cursor.under(bucket+prefix, func(src string) { l.s.noteTaken(root, src[len(bucket):]) }); err != nil {
			fail(err)
		}
		return
	}
	for src, err := range l.s.cfg.Taken(ctx, bucket+prefix) {
		if err != nil {
			fail(err)
			return
		}
		// Only keys outside streams: a stream's are read with the stream,
		// and forgotten after it.
		key := src[len(bucket):]
		if at, _ := locate(key); at == outside {
			l.s.noteTaken("", key)
		}
	}
}

// takenCursor reads Taken's sources forward for a sweep, whose walk meets
// the streams in the same ascending order.
type takenCursor struct {
	next func() (string, error, bool)
	head string // read, not yet used, when held
	held bool
	done bool
	err  error
}

// under calls note with each source that starts with prefix, passing
// over those before it (stored under no stream listed now) and keeping
// the first after it for the next call.
func (c *takenCursor) under(prefix string, note func(source string)) error {
	for {
		if !c.held {
			if c.done {
				return c.err
			}
			src, err, ok := c.next()
			switch {
			case !ok:
				c.done = true
				return nil
			case err != nil:
				c.done, c.err = true, err
				return err
			}
			c.head, c.held = src, true
		}
		switch {
		case strings.HasPrefix(c.head, prefix):
			note(c.head)
		case c.head > prefix:
			return nil
		}
		c.held = false
	}
}

// lister is one poll's listing: it walks the prefix and offers each key
// not taken yet.
type lister struct {
	s      *s3Source
	client *s3.Client
	sweep  bool
	stats  *pollStats
	offer  func(k listedKey) bool // false: the poll is over
	cursor *takenCursor           // in a sweep with Taken set
	failed []error                // listings that failed; the walk goes on
}

// run walks the prefix, and returns the listings' errors or, when the
// poll ended early, why.
func (l *lister) run(ctx context.Context) error {
	prefix := l.s.cfg.Prefix
	switch at, root := locate(prefix); at {
	case foreign:
	case inStream:
		l.stream(ctx, root, prefix)
	default:
		l.walk(ctx, prefix, false)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	return errors.Join(l.failed...)
}

// walk lists folder one level down, offers the objects in it and goes
// on into its subfolders as locate places them. loaded says a sweep read
// what the store took under an ancestor already.
func (l *lister) walk(ctx context.Context, folder string, loaded bool) {
	if at, _ := locate(folder); at == outside && !loaded {
		l.preload(ctx, "", folder)
		loaded = true
	}
	subs := l.list(ctx, &s3.ListObjectsV2Input{Prefix: aws.String(folder), Delimiter: aws.String("/")}, "", nil)
	for _, sub := range subs { // those found before a failure too
		if ctx.Err() != nil {
			return
		}
		switch at, root := locate(sub); at {
		case foreign:
		case inStream:
			l.stream(ctx, root, sub)
		default:
			l.walk(ctx, sub, loaded)
		}
	}
}

// stream lists prefix, the stream root or a folder under it, whole in a
// sweep, else from the day startAfter says, then forgets the stream's
// keys that sort before where the next poll will list from.
func (l *lister) stream(ctx context.Context, root, prefix string) {
	l.preload(ctx, root, prefix)
	in := &s3.ListObjectsV2Input{Prefix: aws.String(prefix)}
	newest := l.s.newest[root]
	if after := startAfter(root, newest); !l.sweep && after > prefix {
		in.StartAfter = aws.String(after)
	}
	// A key dated more than a day ahead is not let move the listing on.
	horizon := time.Now().UTC().Add(24 * time.Hour)
	l.list(ctx, in, root, func(key string) {
		if key > newest {
			if day, ok := keyDay(key[len(root):]); ok && !day.After(horizon) {
				newest = key
			}
		}
	})
	// Cut short, the listing moved newest only as far as it got, and the
	// next one starts no later than newest's day.
	l.s.newest[root] = newest
	if from := startAfter(root, newest); from != "" {
		l.s.forget(root, from)
	}
}

// list runs a listing to its end and offers every key that is a file to
// take and not taken yet, as of the stream at root ("" for none); seen,
// when set, sees every key listed. It returns the listing's common
// prefixes, each once, those found before it failed (its error kept in
// failed) or the poll ended included.
func (l *lister) list(ctx context.Context, in *s3.ListObjectsV2Input, root string, seen func(key string)) []string {
	in.Bucket = aws.String(l.s.cfg.Bucket)
	if l.s.cfg.pageSize > 0 {
		in.MaxKeys = aws.Int32(l.s.cfg.pageSize)
	}
	var subs []string
	have := map[string]bool{}
	pages := s3.NewListObjectsV2Paginator(l.client, in)
	for pages.HasMorePages() {
		out, err := pages.NextPage(ctx)
		l.stats.listings.Add(1)
		if err != nil {
			if ctx.Err() == nil {
				l.failed = append(l.failed, fmt.Errorf("list %s: %w", aws.ToString(in.Prefix), err))
			}
			return subs
		}
		for _, cp := range out.CommonPrefixes {
			if p := aws.ToString(cp.Prefix); !have[p] {
				have[p] = true
				subs = append(subs, p)
			}
		}
		for _, obj := range out.Contents {
			key := aws.ToString(obj.Key)
			if seen != nil {
				seen(key)
			}
			if !takeKey(key) || l.s.isTaken(root, key) {
				continue
			}
			l.stats.listed.Add(1)
			if !l.offer(listedKey{root, key}) {
				return subs
			}
		}
	}
	return subs
}

// place is where a folder sits in CloudTrail's AWSLogs tree.
type place int

const (
	// outside an AWSLogs tree, or where its layout is not CloudTrail's:
	// every file is taken, every folder walked.
	outside place = iota
	// above is a folder on the way to streams: AWSLogs/, an
	// organisation, an account, CloudTrail/.
	above
	// inStream is a stream root, ACCOUNT/CloudTrail[-Insight]/REGION/, or
	// a folder under one: keys sort by day.
	inStream
	// foreign is digests (CloudTrail-Digest/) and other services'
	// folders (Config/, vpcflowlogs/, ...): never taken.
	foreign
)

var (
	orgID     = regexp.MustCompile(`^o-[a-z0-9]{10,32}$`)
	accountID = regexp.MustCompile(`^[0-9]{12}$`)
	// fileTime is the delivery time in a CloudTrail file's name:
	// ACCOUNT_CloudTrail_REGION_20240501T1205Z_UNIQUE.json.gz.
	fileTime = regexp.MustCompile(`_([0-9]{8}T[0-9]{4}Z)_[^/]*$`)
)

// locate places the folder of path, a key or a key prefix: what follows
// its last "/" is not looked at, so a folder ends in "/" (or is ""). It
// returns the stream root when the folder is in one.
func locate(path string) (place, string) {
	segs := strings.Split(path, "/")
	segs = segs[:len(segs)-1] // after the last "/"
	base := -1
	for i, s := range segs {
		if s == "AWSLogs" {
			base = i
		}
	}
	if base < 0 {
		return outside, ""
	}
	rest := segs[base+1:]
	depth := base + 1 // segments before rest
	if len(rest) > 0 && orgID.MatchString(rest[0]) {
		rest, depth = rest[1:], depth+1
	}
	switch {
	case len(rest) == 0:
		return above, ""
	case !accountID.MatchString(rest[0]):
		return outside, ""
	case len(rest) == 1:
		return above, ""
	case rest[1] == "CloudTrail-Digest" || !strings.HasPrefix(rest[1], "CloudTrail"):
		return foreign, ""
	case len(rest) == 2:
		return above, ""
	}
	return inStream, strings.Join(segs[:depth+3], "/") + "/"
}

// takeKey reports whether key names a file to take: not a folder marker,
// a digest or another service's file.
func takeKey(key string) bool {
	if key == "" || strings.HasSuffix(key, "/") {
		return false
	}
	at, _ := locate(key)
	return at != foreign
}

// keyDay is the day of rel, a key relative to its stream root, when it
// starts YYYY/MM/DD/.
func keyDay(rel string) (time.Time, bool) {
	if len(rel) < 11 || rel[10] != '/' {
		return time.Time{}, false
	}
	t, err := time.Parse("2006/01/02", rel[:10])
	return t, err == nil
}

// startAfter is the StartAfter of a forward listing of the stream at
// root whose newest dated key is newest: the listing takes the whole day
// folder of newest's delivery time less s3Lookback, or of newest's own
// folder when that is earlier, and every later one; with no delivery
// time in newest's name, from the day before its folder. It is "" (the
// whole stream) when newest is.
func startAfter(root, newest string) string {
	if newest == "" {
		return ""
	}
	rel := newest[len(root):]
	day, ok := keyDay(rel)
	if !ok {
		return ""
	}
	from := day.AddDate(0, 0, -1) // no delivery time in the name: a day back
	if m := fileTime.FindStringSubmatch(rel); m != nil {
		if t, err := time.Parse("20060102T1504Z", m[1]); err == nil {
			if from = t.Add(-s3Lookback).Truncate(24 * time.Hour); day.Before(from) {
				from = day
			}
		}
	}
	return root + from.Format("2006/01/02/")
}

// objectSource names an object in ingested_files.
func objectSource(bucket, key string) string { return "s3://" + bucket + "/" + key }

// newS3Client builds an S3 client through the SDK's standard chain
// (awsact.LoadConfig); a non-empty endpoint is addressed path-style.
func newS3Client(ctx context.Context, region, endpoint string) (*s3.Client, error) {
	cfg, err := awsact.LoadConfig(ctx, region, endpoint)
	if err != nil {
		return nil, err
	}
	return s3.NewFromConfig(cfg, func(o *s3.Options) {
		o.UsePathStyle = o.UsePathStyle || endpoint != ""
		// CloudTrail's objects carry no checksum to check: not worth a
		// line on stderr each.
		o.DisableLogOutputChecksumValidationSkipped = true
	}), nil
}

// fetchObject gets one object and decodes it as a File named
// s3://BUCKET/KEY, asking region for it when not empty. An object over
// maxObject is one reject; an object that cannot be got is an error.
func fetchObject(ctx context.Context, client *s3.Client, bucket, key, region string) (store.File, error) {
	source := objectSource(bucket, key)
	var opts []func(*s3.Options)
	if region != "" {
		opts = append(opts, func(o *s3.Options) { o.Region = region })
	}
	out, err := client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)}, opts...)
	if err != nil {
		return store.File{}, fmt.Errorf("get %s: %w", source, err)
	}
	defer out.Body.Close()
	if aws.ToInt64(out.ContentLength) > maxObject {
		return tooLarge(source), nil
	}
	data, err := io.ReadAll(io.LimitReader(out.Body, maxObject+1))
	if err != nil {
		return store.File{}, fmt.Errorf("read %s: %w", source, err)
	}
	if len(data) > maxObject {
		return tooLarge(source), nil
	}
	f, _ := ingest.File(source, data, true, ingest.Options{})
	return f, nil
}

func tooLarge(source string) store.File {
	f, _ := ingest.File(source, nil, false, ingest.Options{})
	f.Rejects = append(f.Rejects, store.Reject{Reason: "the file is over the 1 GiB limit"})
	f.Records = 1
	return f
}
