// Package daemon is `trailbook serve`: live sources feed a pipeline that
// decodes, dedupes and stores events, then triggers, evaluates and acts on
// them, auditing every step.
//
// The pipeline has two stages joined by the store:
//
//   - intake: deliveries (a pushed body, a file from a watched folder)
//     wait in a bounded queue (a full queue holds the sender back; it is
//     never dropped or grown) and are committed in batches by one writer,
//     each file's checkpoint (its ingested_files row) and the queue of
//     evaluations to do (pending_evaluations) in the same transaction as
//     its events;
//   - evaluation: each commit hands the events it stored to the
//     evaluator in memory, in the order of the queue (a full hand-off
//     holds the writer back, and with it the intake); they are matched on
//     every core, planned in order, carried out by the runner (each action
//     claimed by key, so never twice) and taken off the durable queue in
//     the transaction that records the actions' outcomes.
//
// A crash anywhere loses nothing: a delivery not committed is delivered
// again (a push is not acknowledged, a file not checkpointed), and an
// evaluation not finished is read back from pending_evaluations and done
// again after restart, its actions skipped by key.
package daemon

import (
	"cmp"
	"context"
	"crypto/sha256"
	"database/sql"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"iter"
	"log/slog"
	"maps"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/trailbook/trailbook/internal/action"
	"github.com/trailbook/trailbook/internal/audit"
	"github.com/trailbook/trailbook/internal/cloudtrail"
	"github.com/trailbook/trailbook/internal/engine"
	"github.com/trailbook/trailbook/internal/ingest"
	"github.com/trailbook/trailbook/internal/query"
	"github.com/trailbook/trailbook/internal/runbook"
	"github.com/trailbook/trailbook/internal/runner"
	"github.com/trailbook/trailbook/internal/store"
)

// Options configures a Daemon. Zero values take the defaults noted.
type Options struct {
	DB string // the store file; required
	// MemoryLimit is DuckDB's, in bytes (default 1GB); CheckpointWAL is
	// store.Options' (default 256MiB: see there).
	MemoryLimit, CheckpointWAL int64
	// Threads is DuckDB's (default 1: serve's many small statements
	// contend less on one).
	Threads    int
	RunbookDir string // required
	// Enforce lets runbooks in enforce mode act on AWS; Alerts sends
	// alerts in dry run.
	Enforce, Alerts  bool
	Region, Endpoint string // AWS, for enforced actions
	Identity         engine.Identity
	EvidenceRows     int
	CacheTTL         time.Duration // the engine's query cache; default 1m
	Folders          []Folder
	// Sources are the other live sources (S3, SQS), each run until the
	// daemon stops.
	Sources []Source
	// BatchEvents bounds the events of one commit and of one evaluation
	// pass (default 1000); BatchWait is how long the writer waits to fill
	// a commit once it has a delivery (default 2ms: what arrives during a
	// commit goes into the next, so commits grow with the load anyway).
	BatchEvents int
	BatchWait   time.Duration
	// Queue is how many deliveries may wait for the writer (default 64);
	// beyond it senders wait, a Push at most PushWait (default 2s).
	Queue    int
	PushWait time.Duration
	// MaxPushInflated is the most bytes a gzip'd Push body inflates to
	// (default 256 MiB, a CloudTrail log file of 8 MiB compressed and
	// more): past it the rest of the body is rejected, so a small hostile
	// body cannot take the memory that ingest's 1 GiB allows a file.
	MaxPushInflated int
	// RecordInterval is the least time between two records of the
	// actions' journal in the store (default 100ms; negative: none).
	RecordInterval time.Duration
	// ReloadPoll is how often the runbook folder is checked for changes
	// to reload (default 2s; negative: never, only Reload).
	ReloadPoll time.Duration
	// Executors, when set, replaces the executors built from the options
	// (tests).
	Executors map[string]action.Executor
	Stdout    io.Writer // stdout alerts
	Getenv    func(string) string
	Logger    *slog.Logger
	Now       func() time.Time
}

// Source is a live source of CloudTrail files. Run delivers each file it
// takes with deliver, which returns once the file's events (and its
// ledger row, ingested_files, named by the File's Source: the source's
// checkpoint) are committed, or with an error when they are not; the
// source then acknowledges upstream (deletes an SQS message) or moves
// its own position. Run returns when ctx ends.
type Source interface {
	Name() string
	Kind() string // s3, sqs: the metrics' source label
	Run(ctx context.Context, deliver Deliver) error
}

// Deliver hands one file to the pipeline and waits for its commit.
type Deliver func(ctx context.Context, f *store.File) (store.Counts, error)

// Ingested reports whether the store has taken a file under source (its
// ingested_files row), for sources that list what to take.
func (d *Daemon) Ingested(ctx context.Context, source string) (bool, error) {
	var n int
	if err := d.st.DB().QueryRowContext(ctx, `SELECT count(*) FROM ingested_files WHERE source = ?`, source).Scan(&n); err != nil {
		return false, err
	}
	return n > 0, nil
}

// Taken yields the sources under prefix the store has taken (their
// ingested_files rows), each once and in ascending byte order (DuckDB
// orders strings by their bytes when no collation is set), for a source
// to read its checkpoint at once; an error ends it. It reads them a page
// of takenPageSize at a time, each page a query of its own: a caller that
// holds only some of them holds only those, and a slow caller (a sweep
// of a large bucket) keeps no read transaction open, which would hold
// off the store's checkpoints.
func (d *Daemon) Taken(ctx context.Context, prefix string) iter.Seq2[string, error] {
	return func(yield func(string, error) bool) {
		after := ""
		for {
			page, err := d.takenPage(ctx, prefix, after)
			if err != nil {
				yield("", err)
				return
			}
			for _, s := range page {
				if !yield(s, nil) {
					return
				}
			}
			if len(page) < takenPageSize {
				return
			}
			after = page[len(page)-1]
		}
	}
}

// takenPageSize is how many sources Taken reads a query.
const takenPageSize = 50000

// takenPage is the first takenPageSize sources under prefix after after.
func (d *Daemon) takenPage(ctx context.Context, prefix, after string) ([]string, error) {
	rows, err := d.st.DB().QueryContext(ctx, `SELECT DISTINCT source FROM ingested_files
		WHERE starts_with(source, ?) AND source > ? ORDER BY source LIMIT `+strconv.Itoa(takenPageSize), prefix, after)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// Folder is a watched folder: new CloudTrail files under Path (an AWSLogs
// tree or any other layout) are ingested once each.
type Folder struct {
	Name string
	Path string
	Poll time.Duration // default 5s
}

// Daemon is an open store with its runbooks, ready to Run.
type Daemon struct {
	opts  Options
	st    *store.Store
	audit *audit.Log
	// journal claims actions and records the passes (runner.Ledger).
	journal *journal
	conn    *sql.Conn // the engine's and gates' query connection
	state   atomic.Pointer[loaded]

	intake chan *delivery
	// evalStuck: a pass failed for good; nothing more is taken off the
	// durable queue in this run. flushedAt: when the audit log's store
	// copy was last brought up to date. Both the evaluator's alone.
	evalStuck bool
	flushedAt time.Time
	ticks     map[string]time.Time // each scheduled runbook's last tick
	evalq     chan evalBatch       // committed events, writer to evaluator; closed when the writer stops

	metrics *metrics

	mu      sync.Mutex
	ready   bool
	counter Counters
	// oldHits and oldMisses are the query caches' counts of the runbook
	// sets a reload replaced.
	oldHits, oldMisses int64
	loadedAt           time.Time
	reloadErr          error
	loadedFP           uint64 // the runbook folder's fingerprint at the last Reload, loaded or not
}

// loaded is one runbook set and what evaluates it; Reload swaps it whole.
type loaded struct {
	set    *runbook.Set
	eng    *engine.Engine
	cache  *engine.Cache
	runner *runner.Runner
}

// Counters are what the daemon has done since it started.
type Counters struct {
	Deliveries, Events, Stored, Duplicates, Rejected, Skipped int64
	Evaluated, Matched, Actions, ActionsFailed                int64
	Scheduled                                                 int64 // scheduled runbooks' ticks evaluated
}

// evalBatch is what one commit stored, for the evaluator: the events in
// queue order, and the place of the last in the queue.
type evalBatch struct {
	events    []cloudtrail.Event
	through   int64
	committed time.Time // when the first of them was
}

// delivery is one file's worth of records for the writer.
type delivery struct {
	kind string // the source's kind: http, folder, s3, sqs
	file *store.File
	at   time.Time   // queued
	done chan result // buffered: the writer never waits on it
}

type result struct {
	counts store.Counts
	err    error
}

// Open opens the store and the audit log and loads the runbooks.
func Open(ctx context.Context, opts Options) (*Daemon, error) {
	if opts.DB == "" || opts.RunbookDir == "" {
		return nil, errors.New("daemon: a store and a runbook folder are required")
	}
	if opts.BatchEvents == 0 {
		opts.BatchEvents = 1000
	}
	if opts.BatchWait == 0 {
		opts.BatchWait = 2 * time.Millisecond
	}
	if opts.Queue == 0 {
		opts.Queue = 64
	}
	if opts.RecordInterval == 0 {
		opts.RecordInterval = 100 * time.Millisecond
	}
	if opts.PushWait == 0 {
		opts.PushWait = 2 * time.Second
	}
	if opts.MaxPushInflated <= 0 {
		opts.MaxPushInflated = 256 << 20
	}
	if opts.CacheTTL == 0 {
		opts.CacheTTL = time.Minute
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Stdout == nil {
		opts.Stdout = io.Discard
	}
	for i := range opts.Folders {
		if opts.Folders[i].Poll == 0 {
			opts.Folders[i].Poll = 5 * time.Second
		}
	}
	if opts.CheckpointWAL == 0 {
		opts.CheckpointWAL = 256 << 20
	}
	so := store.Options{CheckpointWAL: opts.CheckpointWAL}
	so.Threads = cmp.Or(opts.Threads, 1)
	if opts.MemoryLimit > 0 {
		so.MemoryLimit = fmt.Sprintf("%dB", opts.MemoryLimit)
	}
	st, err := store.Open(ctx, opts.DB, so)
	if err != nil {
		return nil, err
	}
	d := &Daemon{opts: opts, st: st, intake: make(chan *delivery, opts.Queue), evalq: make(chan evalBatch, 4)}
	d.metrics = newMetrics(d)
	fail := func(err error) (*Daemon, error) {
		d.Close()
		return nil, err
	}
	if d.journal, err = openJournal(ctx, st, journalDir(opts.DB)); err != nil {
		return fail(err)
	}
	d.journal.gap = opts.RecordInterval
	if d.conn, err = st.DB().Conn(ctx); err != nil {
		return fail(err)
	}
	for _, stmt := range query.Prelude() {
		if _, err := d.conn.ExecContext(ctx, stmt); err != nil {
			return fail(fmt.Errorf("prepare queries: %w", err))
		}
	}
	// The store's copy of the audit log is written once per evaluation
	// pass, not once per entry (a transaction each): the file is the
	// record.
	if d.audit, err = audit.Open(audit.DefaultPath(opts.DB), audit.Options{Mirror: st, DeferMirror: true}); err != nil {
		return fail(err)
	}
	if err := d.Reload(ctx); err != nil {
		return fail(err)
	}
	return d, nil
}

// Close closes the audit log and the store. Run must have returned.
func (d *Daemon) Close() error {
	var errs []error
	if d.journal != nil {
		errs = append(errs, d.journal.close())
	}
	if d.audit != nil {
		errs = append(errs, d.audit.Close())
	}
	if d.conn != nil {
		errs = append(errs, d.conn.Close())
	}
	errs = append(errs, d.st.Close())
	return errors.Join(errs...)
}

// Store is the daemon's open store, for the HTTP API.
func (d *Daemon) Store() *store.Store { return d.st }

// Conn is the daemon's query connection (prepared with the query prelude).
func (d *Daemon) Conn() *sql.Conn { return d.conn }

// Audit is the daemon's audit log.
func (d *Daemon) Audit() *audit.Log { return d.audit }

// Runbooks is the runbook set in force.
func (d *Daemon) Runbooks() *runbook.Set { return d.state.Load().set }

// Counters returns what the daemon has done so far.
func (d *Daemon) Counters() Counters {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.counter
}

// Ready reports whether Run has started its pipeline.
func (d *Daemon) Ready() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if !d.ready {
		return errors.New("starting")
	}
	return nil
}

// Reload loads the runbook folder again and swaps it in whole. A folder
// that does not load leaves the set in force as it was; the error says
// why.
func (d *Daemon) Reload(ctx context.Context) error {
	fp := d.fingerprint() // before reading: a change while loading is seen at the next poll
	err := d.reload(ctx)
	d.mu.Lock()
	d.loadedFP = fp
	d.reloadErr = err
	if err == nil {
		d.loadedAt = d.opts.Now().UTC()
	}
	d.mu.Unlock()
	return err
}

func (d *Daemon) reload(ctx context.Context) error {
	db, err := sql.Open("duckdb", "")
	if err != nil {
		return err
	}
	set, err := runbook.LoadDir(ctx, d.opts.RunbookDir, runbook.Options{Conn: db})
	db.Close()
	if err != nil {
		d.metrics.reloads.WithLabelValues("error").Inc()
		return fmt.Errorf("load runbooks: %w", err)
	}
	cache := engine.NewCache(d.opts.CacheTTL, nil)
	eng, err := engine.New(set, engine.Options{Identity: d.opts.Identity, Enforce: d.opts.Enforce, EvidenceRows: d.opts.EvidenceRows, Cache: cache})
	if err != nil {
		d.metrics.reloads.WithLabelValues("error").Inc()
		return err
	}
	execs := d.opts.Executors
	if execs == nil {
		if execs, err = runner.Executors(ctx, set, d.st, runner.ExecutorOptions{Enforce: d.opts.Enforce, Region: d.opts.Region,
			Endpoint: d.opts.Endpoint, Stdout: d.opts.Stdout, Getenv: d.opts.Getenv}); err != nil {
			return err
		}
	}
	run := &runner.Runner{Store: d.st, Ledger: d.journal, Audit: d.audit, Executors: execs, Alerts: d.opts.Alerts || d.opts.Enforce,
		Now: d.opts.Now, Logger: d.opts.Logger, Observe: func(a action.Action, o action.Outcome, took time.Duration) {
			d.metrics.actions.WithLabelValues(a.Kind, o.Status).Inc()
			d.metrics.actionDur.WithLabelValues(a.Kind).Observe(took.Seconds())
		}}
	d.mu.Lock()
	if old := d.state.Swap(&loaded{set: set, eng: eng, cache: cache, runner: run}); old != nil {
		h, m := old.cache.Stats()
		d.oldHits, d.oldMisses = d.oldHits+h, d.oldMisses+m
	}
	d.mu.Unlock()
	d.metrics.reloads.WithLabelValues("ok").Inc()
	d.opts.Logger.Info("runbooks loaded", "dir", d.opts.RunbookDir, "runbooks", len(set.Runbooks), "gates", len(set.Gates))
	return nil
}

// Busy is Push's error when the intake queue stayed full for PushWait:
// the sender is to try again later (HTTP 503 with Retry-After).
type Busy struct{}

func (Busy) Error() string { return "the pipeline is full; try again" }

// Pushed is what Push did with a body: its counts, and the records it
// could not store, each with its index, line and reason (kept in the
// rejects table too).
type Pushed struct {
	Counts  store.Counts
	Rejects []store.Reject
}

// Push stores the CloudTrail records in body, in any shape ingest takes,
// under source (for ingested_files), and returns once they are committed:
// an acknowledged push is stored. When the intake queue stays full for
// PushWait it gives up with Busy, storing nothing (backpressure). The
// same body pushed twice stores nothing twice.
func (d *Daemon) Push(ctx context.Context, source string, body []byte) (Pushed, error) {
	sum := sha256.Sum256(body)
	f, _ := ingest.File(fmt.Sprintf("%s:%x", source, sum[:8]), body, false,
		ingest.Options{Decode: cloudtrail.Options{MaxInflatedBytes: d.opts.MaxPushInflated}})
	f.NoLedger = true
	rejects := f.Rejects
	wait, cancel := context.WithTimeoutCause(ctx, d.opts.PushWait, Busy{})
	defer cancel()
	c, err := d.deliverWithin(ctx, wait, "http", &f)
	return Pushed{Counts: c, Rejects: rejects}, err
}

// deliver hands f to the writer and waits for its commit.
func (d *Daemon) deliver(ctx context.Context, kind string, f *store.File) (store.Counts, error) {
	return d.deliverWithin(ctx, ctx, kind, f)
}

// deliverWithin is deliver waiting for room in the queue only until
// enqueue ends (with its cause).
func (d *Daemon) deliverWithin(ctx, enqueue context.Context, kind string, f *store.File) (store.Counts, error) {
	dl := &delivery{kind: kind, file: f, done: make(chan result, 1), at: time.Now()}
	select {
	case d.intake <- dl:
	case <-enqueue.Done():
		return store.Counts{}, context.Cause(enqueue)
	}
	select {
	case r := <-dl.done:
		return r.counts, r.err
	case <-ctx.Done():
		// It may still be committed; a sender that retries stores
		// nothing twice.
		return store.Counts{}, ctx.Err()
	}
}

// Run runs the pipeline and the sources until ctx ends, then finishes
// what is in flight: deliveries already queued are committed and every
// stored event is evaluated before it returns.
func (d *Daemon) Run(ctx context.Context) error {
	// The writer and evaluator outlive ctx to drain: they stop when
	// intake is closed and the queue is empty.
	var wg sync.WaitGroup
	errc := make(chan error, 2+len(d.opts.Folders)+len(d.opts.Sources))
	// What a run before left queued and not evaluated, read before the
	// writer queues more.
	recovered, err := d.st.PendingThrough(ctx)
	if err != nil {
		return err
	}
	wg.Go(func() { errc <- d.writeLoop() })
	wg.Go(func() { errc <- d.evalLoop(recovered) })
	stopRecord := make(chan struct{})
	recorded := make(chan struct{})
	go func() {
		defer close(recorded)
		d.journal.run(stopRecord, time.Second, func(err error) {
			if err != nil {
				d.opts.Logger.Error("record actions", "err", err)
			}
		})
	}()
	var sources sync.WaitGroup
	if d.opts.ReloadPoll >= 0 {
		poll := cmp.Or(d.opts.ReloadPoll, 2*time.Second)
		sources.Go(func() { d.watchRunbooks(ctx, poll) })
	}
	for _, src := range d.opts.Sources {
		sources.Go(func() {
			deliver := func(ctx context.Context, f *store.File) (store.Counts, error) { return d.deliver(ctx, src.Kind(), f) }
			if err := src.Run(ctx, deliver); err != nil && !errors.Is(err, context.Canceled) {
				errc <- fmt.Errorf("source %s: %w", src.Name(), err)
			}
		})
	}
	for _, f := range d.opts.Folders {
		sources.Go(func() {
			if err := d.watch(ctx, f); err != nil && !errors.Is(err, context.Canceled) {
				errc <- fmt.Errorf("folder %s: %w", f.Name, err)
			}
		})
	}
	d.mu.Lock()
	d.ready = true
	d.mu.Unlock()
	d.opts.Logger.Info("serving", "store", d.opts.DB, "folders", len(d.opts.Folders))

	var firstErr error
	select {
	case <-ctx.Done():
	case firstErr = <-errc:
	}
	d.mu.Lock()
	d.ready = false
	d.mu.Unlock()
	sources.Wait()
	close(d.intake) // Push after this panics: the HTTP server stops first
	wg.Wait()
	close(stopRecord) // what the evaluator did last is recorded
	<-recorded
	close(errc)
	for err := range errc {
		if firstErr == nil && err != nil {
			firstErr = err
		}
	}
	d.opts.Logger.Info("stopped")
	return firstErr
}

// writeLoop commits deliveries in batches until intake is closed.
func (d *Daemon) writeLoop() error {
	ctx := context.Background() // in-flight work finishes after shutdown begins
	// One Writer for the daemon's life: a new one would reload the tag
	// inventory and make its staging table at every commit.
	var w *store.Writer
	defer func() {
		if w != nil {
			w.Close()
		}
		close(d.evalq)
	}()
	for first := range d.intake {
		batch := []*delivery{first}
		events := len(first.file.Events)
		timer := time.NewTimer(d.opts.BatchWait)
	fill:
		for events < d.opts.BatchEvents {
			select {
			case dl, ok := <-d.intake:
				if !ok {
					break fill
				}
				batch = append(batch, dl)
				events += len(dl.file.Events)
			case <-timer.C:
				break fill
			}
		}
		timer.Stop()
		start := time.Now()
		for _, dl := range batch {
			d.metrics.stage.WithLabelValues("queue").Observe(start.Sub(dl.at).Seconds())
		}
		var err error
		if w == nil {
			if w, err = d.st.NewWriter(ctx); err == nil {
				w.QueueEvaluations()
				w.RememberRecent()
			}
		}
		err = d.commit(ctx, w, batch, err)
		d.metrics.commitDur.Observe(time.Since(start).Seconds())
		d.metrics.stage.WithLabelValues("commit").Observe(time.Since(start).Seconds())
		if err != nil {
			d.opts.Logger.Error("commit", "err", err)
			if w != nil {
				w.Close() // a fresh one next time
				w = nil
			}
		}
	}
	return nil
}

// commit stores batch in one transaction with w and tells each sender;
// err, when set, is why there is no w, and every sender is told it.
func (d *Daemon) commit(ctx context.Context, w *store.Writer, batch []*delivery, err error) error {
	if err == nil {
		for _, dl := range batch {
			if err = w.Add(ctx, dl.file); err != nil {
				break
			}
		}
	}
	var total store.Counts
	if err == nil {
		total, err = w.Commit(ctx)
	}
	eb := evalBatch{committed: time.Now()}
	if err == nil {
		q := w.Queued()
		eb.events = make([]cloudtrail.Event, len(q))
		for i, e := range q {
			eb.events[i] = batch[e.File].file.Events[e.Event]
		}
		if len(q) > 0 {
			eb.through = q[len(q)-1].Seq
		}
	}
	now := d.opts.Now()
	for _, dl := range batch {
		c := store.Counts{}
		if err == nil {
			c = fileCounts(dl.file, total, len(batch))
			d.metrics.received.WithLabelValues(dl.kind).Add(float64(len(dl.file.Events)))
			var newest time.Time
			for i := range dl.file.Events {
				if t := dl.file.Events[i].EventTime; t.After(newest) {
					newest = t
				}
			}
			if !newest.IsZero() {
				d.metrics.lag.WithLabelValues(dl.kind).Set(now.Sub(newest).Seconds())
			}
		}
		dl.done <- result{counts: c, err: err}
		dl.file.Events = nil
	}
	if err != nil {
		return err
	}
	d.metrics.stored.Add(float64(total.Stored))
	d.metrics.duplicates.Add(float64(total.Duplicates))
	d.metrics.rejected.Add(float64(total.Rejected))
	d.metrics.skipped.Add(float64(total.Skipped))
	d.mu.Lock()
	d.counter.Deliveries += int64(len(batch))
	d.counter.Events += int64(total.Stored + total.Duplicates)
	d.counter.Stored += int64(total.Stored)
	d.counter.Duplicates += int64(total.Duplicates)
	d.counter.Rejected += int64(total.Rejected)
	d.counter.Skipped += int64(total.Skipped)
	d.mu.Unlock()
	if len(eb.events) > 0 {
		d.evalq <- eb // waits while the evaluator is behind: backpressure
	}
	return nil
}

// fileCounts is what a sender is told of its file: the batch's totals
// when it was alone, else what its own file held (the writer counts
// duplicates per batch).
func fileCounts(f *store.File, total store.Counts, n int) store.Counts {
	if n == 1 {
		return total
	}
	return store.Counts{Files: 1, Records: f.Records, Stored: len(f.Events), Rejected: len(f.Rejects), Skipped: f.Skipped}
}

// evalLoop evaluates what a run before left queued (through recovered),
// then each commit's events as the writer hands them over, until the
// writer stops; deferred evaluations are done as they fall due.
func (d *Daemon) evalLoop(recovered int64) error {
	ctx := context.Background()
	var firstErr error
	note := func(err error) {
		if err != nil {
			d.opts.Logger.Error("evaluate", "err", err)
			if firstErr == nil {
				firstErr = err
			}
		}
	}
	for after := int64(0); after < recovered; {
		pending, err := d.st.PendingEvaluations(ctx, after, recovered, d.opts.BatchEvents)
		if err != nil || len(pending) == 0 {
			note(err)
			break
		}
		var eb evalBatch
		for _, p := range pending {
			if res := cloudtrail.Decode(p.Record, cloudtrail.Options{}); len(res.Events) == 1 {
				eb.events = append(eb.events, res.Events[0])
			}
		}
		eb.through, after = pending[len(pending)-1].Seq, pending[len(pending)-1].Seq
		note(d.evaluateRetrying(ctx, eb))
	}
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case eb, ok := <-d.evalq:
			if !ok {
				note(d.evaluateDeferred(ctx))
				return firstErr
			}
			// What else is waiting, up to a batch, in one pass.
		more:
			for len(eb.events) < d.opts.BatchEvents {
				select {
				case next, ok := <-d.evalq:
					if !ok {
						break more
					}
					eb.events, eb.through = append(eb.events, next.events...), next.through
				default:
					break more
				}
			}
			note(d.evaluateRetrying(ctx, eb))
		case <-tick.C:
			note(d.evaluateScheduled(ctx))
			note(d.evaluateDeferred(ctx))
		}
	}
}

// evaluateRetrying is evaluate, tried again after 1 and 2 seconds when it
// fails (the store busy, a disk full): meanwhile the writer waits, and
// with it the intake. When the third try fails too, the pass's events
// stay queued in the store, and so does every event after them until the
// daemon starts again and evaluates them all once more (their actions
// already carried out are skipped by key).
func (d *Daemon) evaluateRetrying(ctx context.Context, eb evalBatch) error {
	if d.evalStuck {
		eb.through = 0
	}
	var err error
	for try := range 3 {
		if try > 0 {
			wait := time.Duration(try) * time.Second
			d.opts.Logger.Warn("evaluate: trying again", "err", err, "in", wait)
			time.Sleep(wait)
		}
		if err = d.evaluate(ctx, eb); err == nil {
			return nil
		}
	}
	if !d.evalStuck {
		d.evalStuck = true
		d.opts.Logger.Error("evaluate: events are left queued for the next start", "err", err)
	}
	return err
}

// evaluateScheduled evaluates each scheduled runbook whose tick came:
// ticks fall on multiples of its period since the zero time (a 24h
// schedule at midnight UTC, 1h on the hour). A runbook's first tick is the
// one after it was first seen (serve started, or the runbook loaded); a
// tick missed while serve was down is not made up. The actions of one
// tick are claimed under its key, so never carried out twice.
func (d *Daemon) evaluateScheduled(ctx context.Context) error {
	cur := d.state.Load()
	sched := cur.eng.Scheduled()
	if len(sched) == 0 {
		return nil
	}
	if d.ticks == nil {
		d.ticks = map[string]time.Time{}
	}
	now := d.opts.Now().UTC()
	snap := d.snapshot()
	var plans []engine.Plan
	for _, name := range slices.Sorted(maps.Keys(sched)) {
		tick := now.Truncate(sched[name])
		last, seen := d.ticks[name]
		d.ticks[name] = tick
		if !seen || !tick.After(last) {
			continue
		}
		plan, err := cur.eng.EvaluateScheduled(ctx, name, snap, tick)
		if err != nil {
			return err
		}
		for _, r := range plan.Runs {
			d.opts.Logger.Info("scheduled runbook", "runbook", r.Runbook, "tick", tick, "decision", r.Decision, "reason", r.Reason)
		}
		plans = append(plans, plan)
	}
	if len(plans) == 0 {
		return nil
	}
	outs, err := cur.runner.ApplyAll(ctx, plans)
	if err != nil {
		return err
	}
	d.count(plans, outs)
	d.mu.Lock()
	d.counter.Scheduled += int64(len(plans))
	d.mu.Unlock()
	return nil
}

// evaluateDeferred carries out the deferred evaluations now due.
func (d *Daemon) evaluateDeferred(ctx context.Context) (err error) {
	defer d.flushAudit(ctx, 0, &err)
	cur := d.state.Load()
	snap := d.snapshot()
	due, err := d.st.DueDeferred(ctx, d.opts.Now().UTC())
	if err != nil {
		return err
	}
	for _, df := range due {
		if cur.set.Runbook(df.Runbook) == nil {
			if err := d.st.FinishDeferred(ctx, df.Runbook, df.EventKey, df.RecheckAt); err != nil {
				return err
			}
			continue
		}
		res := cloudtrail.Decode(df.Record, cloudtrail.Options{})
		if len(res.Events) == 1 {
			plan, err := cur.eng.EvaluateRunbook(ctx, df.Runbook, &res.Events[0], df.EventKey, snap, df.RecheckAt)
			if err != nil {
				return err
			}
			outs, err := cur.runner.ApplyAll(ctx, []engine.Plan{plan})
			if err != nil {
				return err
			}
			d.count([]engine.Plan{plan}, outs)
		}
		if err := d.st.FinishDeferred(ctx, df.Runbook, df.EventKey, df.RecheckAt); err != nil {
			return err
		}
	}
	return nil
}

// evaluate is one evaluation pass over eb: every event matched, the
// matched ones planned in order and their plans carried out together
// (the claims synced to the journal at once), and eb taken off the
// durable queue when the journal records the pass.
func (d *Daemon) evaluate(ctx context.Context, eb evalBatch) (err error) {
	defer d.flushAudit(ctx, time.Second, &err)
	begun := time.Now()
	if !eb.committed.IsZero() {
		d.metrics.stage.WithLabelValues("handoff").Observe(begun.Sub(eb.committed).Seconds())
	}
	defer func() { d.metrics.stage.WithLabelValues("pass").Observe(time.Since(begun).Seconds()) }()
	cur := d.state.Load()
	now := d.opts.Now().UTC()
	evs := eb.events
	names, err := cur.eng.MatchBatch(evs)
	if err != nil {
		return err
	}
	// A cooldown an earlier plan starts holds for the later ones of the
	// pass, as if it had been recorded already.
	pass := d.snapshot()
	var plans []engine.Plan
	for i := range evs {
		ev := &evs[i]
		if len(names[i]) == 0 {
			continue
		}
		start := time.Now()
		plan, err := cur.eng.EvaluateMatched(ctx, ev, store.EventKey(ev), names[i], pass, now)
		if err != nil {
			return err
		}
		d.metrics.evalDur.Observe(time.Since(start).Seconds())
		for _, r := range plan.Runs {
			if r.Decision == engine.Act && !r.CooldownUntil.IsZero() {
				pass.started[[2]string{r.Runbook, r.Dedup}] = r.CooldownUntil
			}
		}
		for _, n := range names[i] {
			d.metrics.matches.WithLabelValues(n).Inc()
		}
		plans = append(plans, plan)
	}
	outs, err := cur.runner.ApplyPass(ctx, plans, eb.through)
	if err != nil {
		return err
	}
	d.count(plans, outs)
	d.mu.Lock()
	d.counter.Evaluated += int64(len(evs))
	d.counter.Matched += int64(len(plans))
	d.mu.Unlock()
	return nil
}

// count notes plans and their outcomes in the metrics and counters.
func (d *Daemon) count(plans []engine.Plan, outs [][]action.Outcome) {
	n, failed := 0, 0
	for p, plan := range plans {
		for _, r := range plan.Runs {
			d.metrics.evaluations.WithLabelValues(r.Runbook, r.Decision).Inc()
		}
		for _, o := range outs[p] {
			n++
			if o.Status == action.StatusFailed {
				failed++
				d.opts.Logger.Warn("action failed", "key", o.Key, "err", o.Error)
			}
		}
	}
	d.mu.Lock()
	d.counter.Actions += int64(n)
	d.counter.ActionsFailed += int64(failed)
	d.mu.Unlock()
}

// flushAudit brings the audit log's copy in the store up to date unless
// it was less than every ago (the file is the record: serve copies it
// once a second, not after every pass), and sets *err to its failure if
// *err is nil.
func (d *Daemon) flushAudit(ctx context.Context, every time.Duration, err *error) {
	if every > 0 && time.Since(d.flushedAt) < every {
		return
	}
	d.flushedAt = time.Now()
	if ferr := d.audit.Flush(ctx); ferr != nil && *err == nil {
		*err = ferr
	}
}

// snapshot is the store as an evaluation pass of the evaluator sees it.
func (d *Daemon) snapshot() *passSnapshot {
	return &passSnapshot{Snapshot: engine.StoreSnapshot{Conn: d.conn}, started: map[[2]string]time.Time{}, held: d.journal.cooldownUntil}
}

// passSnapshot is the store as one evaluation pass sees it: cooldowns its
// earlier plans started, and those the journal has not recorded yet,
// count before they are written.
type passSnapshot struct {
	engine.Snapshot
	started map[[2]string]time.Time // runbook, dedup -> until
	held    func(runbook, dedup string) time.Time
}

func (p *passSnapshot) CooldownUntil(ctx context.Context, runbook, dedup string) (time.Time, error) {
	until, err := p.Snapshot.CooldownUntil(ctx, runbook, dedup)
	if err != nil {
		return until, err
	}
	if s := p.started[[2]string{runbook, dedup}]; s.After(until) {
		until = s
	}
	if p.held != nil {
		if s := p.held(runbook, dedup); s.After(until) {
			until = s
		}
	}
	return until, nil
}

// jitter spreads pollers started together.
func jitter(name string, d time.Duration) time.Duration {
	h := fnv.New32a()
	h.Write([]byte(name))
	return time.Duration(h.Sum32()) % max(d, time.Millisecond)
}
