package store

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/hex"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/trailbook/trailbook/internal/cloudtrail"
	"github.com/trailbook/trailbook/internal/tags"
)

// Writer stores files in transactions of many files each. Add takes a
// whole file; every stageEvery events, the added events are staged: their
// duplicates among the stored events are found, and the rest become Arrow
// columns in memory (built on every core), so the caller's decoded events
// are not kept for long. Commit stages what is left and moves everything
// added since the last Commit into the store in one transaction: DuckDB
// reads the columns as they are, a vector at a time, on all its threads.
// A Writer holds the store's single writer slot until Close and is not
// safe for concurrent use.
type Writer struct {
	s            *Store
	conn         *sql.Conn
	arrow        *arrowConn
	schema       *arrow.Schema
	files        []*File  // added since the last Commit; Events dropped once staged
	counts       []Counts // per file; Stored holds the events offered until Commit settles it
	keys         []stagedKey
	pending      int                    // keys[pending:] are not yet staged
	pendingFiles int                    // files[pendingFiles:] still hold their events
	seen         map[[2]uint64]struct{} // keys added since the last Commit
	staged       []stagedBatch          // built from keys[:pending], less the duplicates
	open         *openBatch             // the batch being built, not yet in staged
	mem          memory.Allocator       // for the batches' columns
	inv          *inventory             // loaded at the first Add; nil after a failed Commit
	skipTags     bool
	queue        bool                   // QueueEvaluations
	seq          int64                  // the last seq queued; -1 until read from the store
	queued       []Queued               // what the last Commit queued
	dups         map[[2]uint64]struct{} // keys added since the last Commit that were found stored
	recent       *recentKeys            // RememberRecent; nil when off
	stageAt      int                    // stageEvery, but for tests
	release      func()
}

// stageEvery is how many added events Add lets wait before staging them,
// after which the decoded events need not be kept.
const stageEvery = 16384

// stagedKey is one event to store: its dedupe key, the minute of its
// eventTime, and where it is.
type stagedKey struct {
	hi, lo      uint64
	minute      int64
	file, event int32
}

// stagedBatch is part of what a Commit inserts: the columns of its events
// but resources, and what their resources column is built from.
type stagedBatch struct {
	cols      []arrow.Array
	resources []stagedResources
}

func (b *stagedBatch) release() {
	for _, c := range b.cols {
		if c != nil {
			c.Release()
		}
	}
}

// NewWriter opens a Writer, waiting while another is open.
func (s *Store) NewWriter(ctx context.Context) (*Writer, error) {
	select {
	case s.writer <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	w := &Writer{s: s, schema: eventSchema(), seen: map[[2]uint64]struct{}{}, dups: map[[2]uint64]struct{}{}, seq: -1, stageAt: stageEvery, mem: cAllocator{}, release: func() { <-s.writer }}
	conn, err := s.db.Conn(ctx)
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("open writer: %w", err)
	}
	w.conn = conn
	if w.arrow, err = newArrowConn(ctx, conn); err != nil {
		w.Close()
		return nil, fmt.Errorf("open writer: %w", err)
	}
	return w, nil
}

// SkipTags turns the tag inventory off for this Writer: events are stored
// without their touched resources or resource tags, and tag changes are
// not recorded. It exists to measure what the inventory costs; a store
// written so has an incomplete inventory. Call it before the first Add.
func (w *Writer) SkipTags() { w.skipTags = true }

// QueueEvaluations makes every Commit also queue the events it stores
// (not the duplicates) in pending_evaluations, in the same transaction,
// in the order they were added, numbered on from the last queued: the
// daemon's durable to-do list. Queued says what the last Commit queued;
// PendingEvaluations reads the list back after a restart and
// EndPass takes events off it.
func (w *Writer) QueueEvaluations() { w.queue = true }

// RememberRecent makes the Writer hold the keys of the events stored in
// the last fifteen minutes of event time (at most about a million), read
// from the store at the next Commit and kept up to date by its own
// Commits. A Commit whose events all fall in that span then finds their
// duplicates in memory instead of by a query: the daemon's commits, whose
// events are seconds old and whose query would read the store's whole
// latest row group.
func (w *Writer) RememberRecent() { w.recent = newRecentKeys() }

// Queued is one event a Commit queued for evaluation: its place in the
// queue, and where it was in what was added (the index of its file among
// the Adds since the Commit before, and of the event in the file).
type Queued struct {
	Seq         int64
	File, Event int
}

// Queued returns what the last successful Commit queued, in queue order,
// when QueueEvaluations is on: the events it stored, each once. It is
// valid until the next Add.
func (w *Writer) Queued() []Queued { return w.queued }

// Staged is the number of events added since the last Commit, less those
// repeated within them.
func (w *Writer) Staged() int { return len(w.keys) }

// Add takes f, a whole file, for the next Commit. f must not change until
// the next Add or Commit returns; after that only its Source, Rejects and
// counts are kept. Events whose key was already added since the last
// Commit count as duplicates at once.
func (w *Writer) Add(ctx context.Context, f *File) error {
	if len(w.files) == 0 {
		w.queued = w.queued[:0]
	}
	idx := int32(len(w.files))
	c := Counts{Files: 1, Records: f.Records, Rejected: len(f.Rejects), Skipped: f.Skipped}
	if !w.skipTags && w.inv == nil {
		inv, err := loadInventory(ctx, w.conn)
		if err != nil {
			return err
		}
		w.inv = inv
	}
	if !w.skipTags && f.Effects == nil && len(f.Events) > 0 {
		f.Effects = make([]tags.Effect, len(f.Events))
		for j := range f.Events {
			f.Effects[j] = tags.Of(&f.Events[j])
		}
	}
	for j := range f.Events {
		ev := &f.Events[j]
		hi, lo := eventKey(ev)
		if _, dup := w.seen[[2]uint64{hi, lo}]; dup {
			c.Duplicates++
			continue
		}
		w.seen[[2]uint64{hi, lo}] = struct{}{}
		if !w.skipTags {
			for _, r := range rowsFor(ev, hi, lo, f.Effects[j].Changes) {
				w.inv.add(r)
			}
		}
		w.keys = append(w.keys, stagedKey{hi: hi, lo: lo, minute: minuteOf(ev.EventTime), file: idx, event: int32(j)})
		c.Stored++
	}
	w.files = append(w.files, f)
	w.counts = append(w.counts, c)
	if len(w.keys)-w.pending >= w.stageAt {
		return w.stage(ctx)
	}
	return nil
}

// stage finds which of the added events not yet staged are stored
// already, builds the columns of the rest, and lets go of the files'
// decoded events.
func (w *Writer) stage(ctx context.Context) error {
	keys := w.keys[w.pending:]
	if len(keys) == 0 {
		w.pendingFiles = len(w.files)
		return nil
	}
	w.cluster(keys)
	w.noteStaged(w.pending)
	if err := w.findStored(ctx, keys); err != nil {
		return fmt.Errorf("check duplicates: %w", err)
	}
	w.build(keys)
	// Every file added so far is whole in w.staged now.
	for i := w.pendingFiles; i < len(w.files); i++ {
		f := *w.files[i]
		f.Events, f.Effects = nil, nil
		w.files[i] = &f
	}
	w.pending, w.pendingFiles = len(w.keys), len(w.files)
	return nil
}

// rowGroupRows is DuckDB's row group size. Each batch a Commit inserts
// holds one row group's events (the last fewer), and DuckDB gives each
// batch to one thread: a Commit then ends in one partial row group, as
// when one thread inserts it. Smaller batches, spread over the threads,
// left a partial row group per thread, which the next checkpoint merged
// by rewriting them (3 to 4 s for each 245,000 events).
const rowGroupRows = 122880

// build appends the columns of keys' events, less the duplicates, to the
// open batch, closing it into w.staged whenever it is full. The two
// halves of the columns are built at once.
func (w *Writer) build(keys []stagedKey) {
	keep := make([]stagedKey, 0, len(keys))
	for _, k := range keys {
		if _, dup := w.dups[[2]uint64{k.hi, k.lo}]; !dup {
			keep = append(keep, k)
		}
	}
	for len(keep) > 0 {
		if w.open == nil {
			// Sized for what is here: serve's commits hold tens of events,
			// and columns reserved for a row group cost them 200 ms.
			w.open = &openBatch{rows: newRowsBuilder(w.mem, w.schema, min(len(keep), rowGroupRows))}
		}
		ob := w.open
		first := len(ob.resources) == 0
		part := keep[:min(len(keep), rowGroupRows-len(ob.resources))]
		keep = keep[len(part):]
		size := 0
		for _, k := range part {
			ev := &w.files[k.file].Events[k.event]
			size += len(ev.JSON)
			ob.resources = append(ob.resources, stagedResources{at: ev.EventTime, resources: cloneResources(ev.Resources)})
		}
		ob.rows.reserveJSON(size)
		half := func(h int) {
			for _, k := range part {
				f := w.files[k.file]
				var touched []string
				if w.inv != nil {
					touched = f.Effects[k.event].Touched
				}
				ob.rows.add(h, &f.Events[k.event], k.hi, k.lo, touched)
			}
		}
		if runtime.GOMAXPROCS(0) > 1 && len(part) >= 1024 {
			var wg sync.WaitGroup
			wg.Go(func() { half(1) })
			half(0)
			wg.Wait()
		} else {
			half(0)
			half(1)
		}
		if first && len(part) >= w.stageAt {
			ob.rows.reserveAhead(len(part), rowGroupRows) // an ingest's batch: it will fill
		}
		if len(ob.resources) == rowGroupRows {
			w.closeBatch()
		}
	}
}

// openBatch is the batch being built: its rows so far, and what their
// resources column is built from, one per row.
type openBatch struct {
	rows      *rowsBuilder
	resources []stagedResources
}

// closeBatch moves the open batch, if any, to w.staged.
func (w *Writer) closeBatch() {
	if w.open == nil {
		return
	}
	w.staged = append(w.staged, stagedBatch{cols: w.open.rows.columns(), resources: w.open.resources})
	w.open.rows.release()
	w.open = nil
}

// cloneResources copies rs so that it shares no memory with the file it
// was decoded from.
func cloneResources(rs []cloudtrail.Resource) []cloudtrail.Resource {
	if rs == nil {
		return nil
	}
	out := make([]cloudtrail.Resource, len(rs))
	for i, r := range rs {
		out[i] = cloudtrail.Resource{AccountID: cloneText(r.AccountID), Type: cloneText(r.Type), ARN: cloneText(r.ARN), ARNPrefix: cloneText(r.ARNPrefix)}
	}
	return out
}

func cloneText(t cloudtrail.Text) cloudtrail.Text {
	return cloudtrail.Text{V: strings.Clone(t.V), OK: t.OK}
}

// noteStaged tells the inventory which resources the events from
// w.keys[from:] name, and when: once stored, they are the latest use of
// those resources.
func (w *Writer) noteStaged(from int) {
	if w.inv == nil {
		return
	}
	for i := from; i < len(w.keys); i++ {
		k := w.keys[i]
		ev := &w.files[k.file].Events[k.event]
		if len(ev.Resources) == 0 {
			continue
		}
		arns := make([]string, len(ev.Resources))
		for j := range ev.Resources {
			if r := &ev.Resources[j]; r.ARN.OK {
				arns[j] = strings.Clone(r.ARN.V)
			}
		}
		w.inv.noteStaged(int32(i), ev.EventTime, arns)
	}
}

// Commit stores everything added since the last Commit in one
// transaction: the events whose key is not yet in the store, every reject,
// and a ledger row per file. On error nothing of it is stored.
func (w *Writer) Commit(ctx context.Context) (Counts, error) {
	defer w.reset(ctx)
	if err := w.stage(ctx); err != nil {
		return Counts{}, fmt.Errorf("commit: %w", err)
	}
	w.closeBatch()
	var view *arrowView
	if len(w.staged) > 0 {
		var err error
		if view, err = w.stagedView(ctx); err != nil {
			return Counts{}, fmt.Errorf("commit: insert events: %w", err)
		}
		defer view.Drop() // after the transaction ends: deferred before its Rollback
		w.releaseStaged() // the view's stream holds them now
	}
	tx, err := w.conn.BeginTx(ctx, nil)
	if err != nil {
		return Counts{}, fmt.Errorf("commit: %w", err)
	}
	defer tx.Rollback()
	if view != nil {
		// Every column of the view is read, as it must be.
		_, err := tx.ExecContext(ctx, `INSERT INTO event_store BY NAME SELECT * FROM `+view.Name)
		// The batches are copied into the store's own memory now: free
		// them before the commit writes the last row group.
		view.Free()
		if err != nil {
			return Counts{}, fmt.Errorf("commit: insert events: %w", err)
		}
	}
	if w.queue && len(w.keys) > 0 {
		if err := w.queueEvaluations(ctx, tx); err != nil {
			return Counts{}, fmt.Errorf("commit: queue evaluations: %w", err)
		}
	}
	if w.inv != nil {
		if err := w.inv.write(ctx, tx); err != nil {
			w.inv = nil // reloaded from the store at the next Add
			return Counts{}, fmt.Errorf("commit: tag inventory: %w", err)
		}
	}
	now := time.Now().UTC()
	var total Counts
	ledger := make([]any, 0, 9*len(w.files))
	for i, f := range w.files {
		for _, rj := range f.Rejects {
			if _, err := tx.ExecContext(ctx, `INSERT INTO rejects VALUES (?, ?, ?, ?, ?, ?, ?)`,
				f.Source, rj.Index, nullInt(rj.Line), rj.Offset, rj.Reason, rj.Record, now); err != nil {
				return Counts{}, fmt.Errorf("commit: record reject: %w", err)
			}
		}
		c := w.counts[i]
		if !f.NoLedger {
			ledger = append(ledger, f.Source, f.Bytes, hex.EncodeToString(f.SHA256[:]), c.Records, c.Stored, c.Duplicates, c.Skipped, c.Rejected, now)
		}
		total.Add(c)
	}
	// One statement for the files' ledger rows: a commit of many small
	// files (the daemon's pushes) pays for one, not one each.
	for rows := range slices.Chunk(ledger, 9*500) {
		q := `INSERT INTO ingested_files VALUES ` + strings.Repeat(`(?, ?, ?, ?, ?, ?, ?, ?, ?), `, len(rows)/9-1) + `(?, ?, ?, ?, ?, ?, ?, ?, ?)`
		if _, err := tx.ExecContext(ctx, q, rows...); err != nil {
			return Counts{}, fmt.Errorf("commit: record files: %w", err)
		}
	}
	if _, err := tx.ExecContext(ctx, `UPDATE trailbook_meta SET watermark = watermark + 1`); err != nil {
		return Counts{}, fmt.Errorf("commit: move the watermark: %w", err)
	}
	if err := tx.Commit(); err != nil {
		w.inv = nil
		w.queued = w.queued[:0]
		return Counts{}, fmt.Errorf("commit: %w", err)
	}
	w.remember()
	if n := len(w.queued); n > 0 {
		w.seq = w.queued[n-1].Seq
	}
	if w.inv != nil {
		w.inv.committed()
		if w.inv.retag {
			if err := retagPending(ctx, w.conn); err != nil {
				return total, fmt.Errorf("commit: %w", err)
			}
			w.inv.retag = false
		}
	}
	return total, nil
}

// stagedView makes w.staged the view the Commit inserts from. Each
// event's resources get their tags now, from the inventory with every
// change added since the last Commit in it, so a change added after an
// event was staged still counts.
func (w *Writer) stagedView(ctx context.Context) (*arrowView, error) {
	var tagsAt func(string, time.Time) ([]tags.Tag, bool)
	if w.inv != nil {
		tagsAt = w.inv.tagsAt
	}
	recs := make([]arrow.RecordBatch, 0, len(w.staged))
	defer func() {
		for _, r := range recs {
			r.Release()
		}
	}()
	for i := range w.staged {
		b := &w.staged[i]
		lb := array.NewBuilder(w.mem, w.schema.Field(colResources).Type).(*array.ListBuilder)
		lb.Reserve(len(b.resources))
		for _, r := range b.resources {
			appendResources(lb, r, tagsAt)
		}
		cols := slices.Clone(b.cols)
		cols[colResources] = lb.NewArray()
		lb.Release()
		recs = append(recs, array.NewRecordBatch(w.schema, cols, int64(len(b.resources))))
		cols[colResources].Release()
	}
	return w.arrow.view(ctx, "batch", w.schema, recs)
}

// cluster orders a group of keys by eventSource, eventName and eventTime.
// DuckDB reads a column for a vector of 2,048 rows only when a filter
// keeps some row of it, so storing events of one service together lets a
// query on one service skip the other services' map columns.
func (w *Writer) cluster(keys []stagedKey) {
	ev := func(k stagedKey) *cloudtrail.Event { return &w.files[k.file].Events[k.event] }
	slices.SortStableFunc(keys, func(a, b stagedKey) int {
		ea, eb := ev(a), ev(b)
		if c := strings.Compare(ea.EventSource.V, eb.EventSource.V); c != 0 {
			return c
		}
		if c := strings.Compare(ea.EventName, eb.EventName); c != 0 {
			return c
		}
		return ea.EventTime.Compare(eb.EventTime)
	})
}

// releaseStaged lets go of w.staged.
func (w *Writer) releaseStaged() {
	for i := range w.staged {
		w.staged[i].release()
	}
	clear(w.staged)
	w.staged = w.staged[:0]
}

// reset empties the writer.
func (w *Writer) reset(ctx context.Context) {
	if w.inv != nil && len(w.inv.added) > 0 {
		w.inv = nil // changes added but not committed: reload at the next Add
	}
	if w.open != nil {
		w.open.rows.release()
		w.open = nil
	}
	w.releaseStaged()
	clear(w.files)
	w.files, w.counts, w.keys, w.pending, w.pendingFiles = w.files[:0], w.counts[:0], w.keys[:0], 0, 0
	clear(w.seen)
	clear(w.dups)
}

// findStored marks the events of keys that are stored already as
// duplicates: counted so in their file's counts, and noted in w.dups. Only
// the slice of the store within keys' eventTime range is read (the key
// includes eventTime), or none at all when w.recent holds every stored key
// of that range.
func (w *Writer) findStored(ctx context.Context, keys []stagedKey) error {
	if w.recent != nil && !w.recent.loaded {
		if err := w.recent.load(ctx, w.conn); err != nil {
			return err
		}
	}
	first := slices.MinFunc(keys, func(a, b stagedKey) int { return cmp.Compare(a.minute, b.minute) }).minute
	if w.recent != nil && w.recent.covers(first) {
		for _, k := range keys {
			if w.recent.has([2]uint64{k.hi, k.lo}, k.minute) {
				w.markDuplicate(k)
			}
		}
		return nil
	}
	minT, maxT := w.timeRange(keys)
	his, los := array.NewUint64Builder(memory.DefaultAllocator), array.NewUint64Builder(memory.DefaultAllocator)
	defer his.Release()
	defer los.Release()
	his.Reserve(len(keys))
	los.Reserve(len(keys))
	for _, k := range keys {
		his.Append(k.hi)
		los.Append(k.lo)
	}
	schema := arrow.NewSchema([]arrow.Field{{Name: "key_hi", Type: arrow.PrimitiveTypes.Uint64}, {Name: "key_lo", Type: arrow.PrimitiveTypes.Uint64}}, nil)
	hiCol, loCol := his.NewArray(), los.NewArray()
	defer hiCol.Release()
	defer loCol.Release()
	rec := array.NewRecordBatch(schema, []arrow.Array{hiCol, loCol}, int64(len(keys)))
	defer rec.Release()
	view, err := w.arrow.view(ctx, "keys", schema, []arrow.RecordBatch{rec})
	if err != nil {
		return err
	}
	defer view.Drop()
	rows, err := w.conn.QueryContext(ctx, `SELECT k.key_hi, k.key_lo FROM `+view.Name+` k
		SEMI JOIN (SELECT key_hi, key_lo FROM event_store WHERE eventTime BETWEEN ?::TIMESTAMP AND ?::TIMESTAMP) e USING (key_hi, key_lo)`, minT, maxT)
	if err != nil {
		return err
	}
	defer rows.Close()
	stored := map[[2]uint64]struct{}{}
	for rows.Next() {
		var k [2]uint64
		if err := rows.Scan(&k[0], &k[1]); err != nil {
			return err
		}
		stored[k] = struct{}{}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if len(stored) == 0 {
		return nil
	}
	for _, k := range keys {
		if _, ok := stored[[2]uint64{k.hi, k.lo}]; ok {
			w.markDuplicate(k)
		}
	}
	return nil
}

// timeRange is the earliest and latest eventTime of keys' events.
func (w *Writer) timeRange(keys []stagedKey) (lo, hi time.Time) {
	for i, k := range keys {
		t := w.files[k.file].Events[k.event].EventTime
		if i == 0 || t.Before(lo) {
			lo = t
		}
		if i == 0 || t.After(hi) {
			hi = t
		}
	}
	return lo, hi
}

// markDuplicate counts k, an added event found stored, as a duplicate of
// its file, and notes it in w.dups.
func (w *Writer) markDuplicate(k stagedKey) {
	w.counts[k.file].Stored--
	w.counts[k.file].Duplicates++
	w.dups[[2]uint64{k.hi, k.lo}] = struct{}{}
}

// remember adds what a Commit stored to w.recent.
func (w *Writer) remember() {
	if w.recent == nil || !w.recent.loaded {
		return
	}
	for _, k := range w.keys {
		if _, dup := w.dups[[2]uint64{k.hi, k.lo}]; !dup {
			w.recent.put([2]uint64{k.hi, k.lo}, k.minute)
		}
	}
	w.recent.trim()
}

// queueEvaluations writes the events this Commit stores into
// pending_evaluations in the order they were added, and notes them in
// w.queued.
func (w *Writer) queueEvaluations(ctx context.Context, tx *sql.Tx) error {
	if w.seq < 0 {
		if err := tx.QueryRowContext(ctx, `SELECT coalesce(max(seq), 0) FROM pending_evaluations`).Scan(&w.seq); err != nil {
			return err
		}
	}
	keys := slices.Clone(w.keys)
	slices.SortFunc(keys, func(a, b stagedKey) int {
		return cmp.Or(cmp.Compare(a.file, b.file), cmp.Compare(a.event, b.event))
	})
	w.queued = w.queued[:0]
	var seqs []int64
	var his, los []uint64
	seq := w.seq
	for _, k := range keys {
		if _, dup := w.dups[[2]uint64{k.hi, k.lo}]; dup {
			continue
		}
		seq++
		seqs, his, los = append(seqs, seq), append(his, k.hi), append(los, k.lo)
		w.queued = append(w.queued, Queued{Seq: seq, File: int(k.file), Event: int(k.event)})
	}
	if len(w.queued) == 0 {
		return nil
	}
	// Bound as lists: half the time of a JSON array for serve's commits.
	_, err := tx.ExecContext(ctx, `INSERT INTO pending_evaluations SELECT unnest(?::BIGINT[]), unnest(?::UBIGINT[]), unnest(?::UBIGINT[])`, seqs, his, los)
	return err
}

// Close discards anything added and not committed and frees the writer
// slot.
func (w *Writer) Close() error {
	var err error
	if w.conn != nil {
		err = w.conn.Close()
		w.conn = nil
	}
	w.reset(context.Background())
	if w.release != nil {
		w.release()
		w.release = nil
	}
	return err
}
