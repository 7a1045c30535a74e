package store

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/duckdb/duckdb-go/v2"

	"github.com/trailbook/trailbook/internal/cloudtrail"
	"github.com/trailbook/trailbook/internal/tags"
)

// Writer stores files in transactions of many files each. Add takes a
// whole file; every stageEvery events, the added events are copied into
// a staging table in the store (through a table function, the cheapest
// way in), so the caller's decoded events are not kept for long. Commit
// moves everything added since the last Commit into the store in one
// transaction, on all of DuckDB's threads; a Commit of fewer events than
// that (serve's) inserts them straight from the decoded files instead. A
// Writer holds the store's single writer slot until Close and is not safe
// for concurrent use.
type Writer struct {
	s            *Store
	conn         *sql.Conn
	files        []*File  // added since the last Commit; Events dropped once staged
	counts       []Counts // per file; Stored holds the events offered until Commit settles it
	keys         []stagedKey
	pending      int                    // keys[pending:] are not yet in the staging table
	pendingFiles int                    // files[pendingFiles:] still hold their events
	seen         map[[2]uint64]struct{} // keys added since the last Commit
	minT         time.Time
	maxT         time.Time
	inv          *inventory // loaded at the first Add; nil after a failed Commit
	skipTags     bool
	queue        bool                   // QueueEvaluations
	seq          int64                  // the last seq queued; -1 until read from the store
	queued       []Queued               // what the last Commit queued
	dups         map[[2]uint64]struct{} // keys the last Commit found stored (staged: only with queue)
	recent       *recentKeys            // RememberRecent; nil when off
	stageAt      int                    // stageEvery, but for tests
	release      func()
}

// stageEvery is how many added events Add lets wait before copying them
// into the staging table, after which the decoded events need not be kept.
const stageEvery = 16384

// stagedKey is one event to store: its dedupe key and where it is.
type stagedKey struct {
	hi, lo      uint64
	file, event int32
}

// NewWriter opens a Writer, waiting while another is open.
func (s *Store) NewWriter(ctx context.Context) (*Writer, error) {
	select {
	case s.writer <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	w := &Writer{s: s, seen: map[[2]uint64]struct{}{}, dups: map[[2]uint64]struct{}{}, seq: -1, stageAt: stageEvery, release: func() { <-s.writer }}
	conn, err := s.db.Conn(ctx)
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("open writer: %w", err)
	}
	w.conn = conn
	if _, err := conn.ExecContext(ctx, `CREATE OR REPLACE TEMP TABLE staging (
		doc VARCHAR, eventJson VARCHAR, key_hi UBIGINT, key_lo UBIGINT, file_index INTEGER, retags VARCHAR)`); err != nil {
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
		if len(w.keys) == 0 || ev.EventTime.Before(w.minT) {
			w.minT = ev.EventTime
		}
		if len(w.keys) == 0 || ev.EventTime.After(w.maxT) {
			w.maxT = ev.EventTime
		}
		w.keys = append(w.keys, stagedKey{hi: hi, lo: lo, file: idx, event: int32(j)})
		c.Stored++
	}
	w.files = append(w.files, f)
	w.counts = append(w.counts, c)
	if len(w.keys)-w.pending >= w.stageAt {
		return w.stage(ctx)
	}
	return nil
}

// stage copies the added events not yet staged into the staging table and
// lets go of them.
func (w *Writer) stage(ctx context.Context) error {
	if w.pending == len(w.keys) {
		w.pendingFiles = len(w.files)
		return nil
	}
	w.cluster(w.keys[w.pending:])
	w.noteStaged(w.pending)
	src := &eventSource{w: w, keys: w.keys[w.pending:]}
	w.s.setSource(src)
	_, err := w.conn.ExecContext(ctx, `INSERT INTO temp.staging BY NAME SELECT * FROM `+sourceFunction+`()`)
	w.s.setSource(nil)
	if err == nil {
		err = src.err()
	}
	if err != nil {
		return fmt.Errorf("stage events: %w", err)
	}
	// Every file added so far is whole in the staging table now.
	for i := w.pendingFiles; i < len(w.files); i++ {
		f := *w.files[i]
		f.Events, f.Effects = nil, nil
		w.files[i] = &f
	}
	w.pending, w.pendingFiles = len(w.keys), len(w.files)
	return nil
}

// noteStaged tells the inventory which resources the events from
// w.keys[from:] name, and when: a change added later may make their tags
// stale before they are stored, and once stored they are the latest use of
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
	// Events that were never staged (fewer than stageAt since the last
	// Commit: serve's commits) go straight from the decoded files into
	// the store, checked against it in the same statement; three
	// statements fewer than staging them first.
	direct := w.pending == 0 && len(w.keys) > 0
	if direct {
		w.cluster(w.keys)
		w.noteStaged(0)
	} else if err := w.stage(ctx); err != nil {
		return Counts{}, fmt.Errorf("commit: %w", err)
	}
	tx, err := w.conn.BeginTx(ctx, nil)
	if err != nil {
		return Counts{}, fmt.Errorf("commit: %w", err)
	}
	defer tx.Rollback()
	if direct {
		if err := w.insertDirect(ctx, tx); err != nil {
			return Counts{}, fmt.Errorf("commit: insert events: %w", err)
		}
	} else if len(w.keys) > 0 {
		if err := w.dropStored(ctx, tx); err != nil {
			return Counts{}, fmt.Errorf("commit: check duplicates: %w", err)
		}
		if w.inv != nil {
			if b := w.inv.restagedJSON(w.keys); b != nil {
				if _, err := tx.ExecContext(ctx, `UPDATE temp.staging SET retags = o.tags
					FROM (SELECT unnest(r) FROM (SELECT unnest(json_transform(?::JSON, '[{"key_hi":"UBIGINT","key_lo":"UBIGINT","tags":"JSON"}]')) AS r)) o
					WHERE staging.key_hi = o.key_hi AND staging.key_lo = o.key_lo`, string(b)); err != nil {
					return Counts{}, fmt.Errorf("commit: restage tags: %w", err)
				}
			}
		}
		if _, err := tx.ExecContext(ctx, insertSQL()); err != nil {
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
	w.remember(direct)
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

// reset empties the writer and its staging table.
func (w *Writer) reset(ctx context.Context) {
	if w.inv != nil && len(w.inv.added) > 0 {
		w.inv = nil // changes added but not committed: reload at the next Add
	}
	if w.conn != nil && w.pending > 0 { // something was staged
		w.conn.ExecContext(ctx, `DELETE FROM temp.staging`)
	}
	clear(w.files)
	w.files, w.counts, w.keys, w.pending, w.pendingFiles = w.files[:0], w.counts[:0], w.keys[:0], 0, 0
	clear(w.seen)
	clear(w.dups)
}

// insertDirect stores the added events that are not stored yet straight
// from the decoded files, in one statement that also reads back which
// were stored; the rest count as duplicates (and are noted in w.dups).
// The documents are built now, after every Add, so each event's
// resources get their tags as the inventory has them with every change
// of this Commit in it: nothing needs restaging.
func (w *Writer) insertDirect(ctx context.Context, tx *sql.Tx) error {
	if w.recent != nil && !w.recent.loaded {
		if err := w.recent.load(ctx, tx); err != nil {
			return err
		}
	}
	if w.recent != nil && w.recent.covers(minuteOf(w.minT)) {
		return w.insertNew(ctx, tx)
	}
	src := &eventSource{w: w, keys: w.keys}
	w.s.setSource(src)
	defer w.s.setSource(nil)
	rows, err := tx.QueryContext(ctx, insertFromSourceSQL()+` s ANTI JOIN (SELECT key_hi, key_lo FROM event_store WHERE eventTime BETWEEN ?::TIMESTAMP AND ?::TIMESTAMP) e USING (key_hi, key_lo)
RETURNING key_hi, key_lo`, w.minT, w.maxT)
	if err != nil {
		return err
	}
	defer rows.Close()
	stored := make(map[[2]uint64]struct{}, len(w.keys))
	for rows.Next() {
		var k [2]uint64
		if err := rows.Scan(&k[0], &k[1]); err != nil {
			return err
		}
		stored[k] = struct{}{}
	}
	if err := errors.Join(rows.Err(), src.err()); err != nil {
		return err
	}
	if len(stored) == len(w.keys) {
		return nil
	}
	for _, k := range w.keys {
		if _, ok := stored[[2]uint64{k.hi, k.lo}]; !ok {
			w.markDuplicate(k)
		}
	}
	return nil
}

// markDuplicate counts k, an added event found stored, as a duplicate of
// its file, and notes it in w.dups.
func (w *Writer) markDuplicate(k stagedKey) {
	w.counts[k.file].Stored--
	w.counts[k.file].Duplicates++
	w.dups[[2]uint64{k.hi, k.lo}] = struct{}{}
}

// insertNew is insertDirect when w.recent holds every stored key the
// added events could repeat: the duplicates are found in it and the rest
// inserted, with no query of the store.
func (w *Writer) insertNew(ctx context.Context, tx *sql.Tx) error {
	keys := make([]stagedKey, 0, len(w.keys))
	for _, k := range w.keys {
		if w.recent.has([2]uint64{k.hi, k.lo}, minuteOf(w.files[k.file].Events[k.event].EventTime)) {
			w.markDuplicate(k)
			continue
		}
		keys = append(keys, k)
	}
	if len(keys) == 0 {
		return nil
	}
	src := &eventSource{w: w, keys: keys}
	w.s.setSource(src)
	defer w.s.setSource(nil)
	_, err := tx.ExecContext(ctx, insertFromSourceSQL())
	return errors.Join(err, src.err())
}

// remember adds what a Commit stored to w.recent. A Commit that staged
// its events has let go of their times: the keys are read again from the
// store at the next Commit.
func (w *Writer) remember(direct bool) {
	if w.recent == nil || !w.recent.loaded {
		return
	}
	if !direct {
		w.recent.loaded = false
		return
	}
	for _, k := range w.keys {
		if _, dup := w.dups[[2]uint64{k.hi, k.lo}]; !dup {
			w.recent.put([2]uint64{k.hi, k.lo}, minuteOf(w.files[k.file].Events[k.event].EventTime))
		}
	}
	w.recent.trim()
}

// dropStored removes from the staging table the events whose key is
// already stored, moving them from Stored to Duplicates; with
// QueueEvaluations it notes their keys in w.dups. Only the slice of the
// store within the added eventTime range is read: the key includes
// eventTime.
func (w *Writer) dropStored(ctx context.Context, tx *sql.Tx) error {
	const stored = `SEMI JOIN (SELECT key_hi, key_lo FROM event_store WHERE eventTime BETWEEN ?::TIMESTAMP AND ?::TIMESTAMP) e USING (key_hi, key_lo)`
	q := `SELECT s.file_index, count(*), NULL, NULL FROM temp.staging s ` + stored + ` GROUP BY s.file_index`
	if w.queue {
		q = `SELECT s.file_index, 1, s.key_hi, s.key_lo FROM temp.staging s ` + stored
	}
	rows, err := tx.QueryContext(ctx, q, w.minT, w.maxT)
	if err != nil {
		return err
	}
	defer rows.Close()
	dups := 0
	for rows.Next() {
		var idx, n int
		var hi, lo sql.Null[uint64]
		if err := rows.Scan(&idx, &n, &hi, &lo); err != nil {
			return err
		}
		w.counts[idx].Stored -= n
		w.counts[idx].Duplicates += n
		dups += n
		if hi.Valid {
			w.dups[[2]uint64{hi.V, lo.V}] = struct{}{}
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if dups > 0 {
		_, err = tx.ExecContext(ctx, `DELETE FROM temp.staging WHERE rowid IN (SELECT s.rowid FROM temp.staging s `+stored+`)`, w.minT, w.maxT)
	}
	return err
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

// insertSQL stores the staged events: DuckDB turns each Lake-shaped
// document into the table's structs, maps and lists in one vectorised
// pass, on all its threads.
//
// A staged event whose resources' tags a later change in the same
// transaction altered has them, in order, in retags, which replace those
// in its document.
func insertSQL() string {
	return `INSERT INTO event_store BY NAME
SELECT * EXCLUDE (retags) REPLACE (CASE WHEN retags IS NULL THEN resources ELSE
	list_transform(resources, (r, i) -> {'accountId': r.accountId, 'type': r."type", 'arn': r.arn, 'arnPrefix': r.arnPrefix, 'tags': retags[i]}) END AS resources)
FROM (SELECT unnest(json_transform(doc, ` + docType() + `)),
	json_transform(retags, '["MAP(VARCHAR, VARCHAR)"]') AS retags, eventJson, key_hi, key_lo
FROM temp.staging)`
}

// insertFromSourceSQL stores the rows of the table function, as
// insertSQL does the staged ones (without their retags: the direct paths
// build each document after every Add).
func insertFromSourceSQL() string {
	return `INSERT INTO event_store BY NAME
SELECT unnest(json_transform(doc, ` + docType() + `)), eventJson, key_hi, key_lo
FROM ` + sourceFunction + `()`
}

// docType is the json_transform type of a staged document, as SQL.
func docType() string {
	return quoteString(strconv.Quote("STRUCT(" + decodedColumnsDDL + ", touchedArns VARCHAR[])"))
}

// Close discards anything added and not committed and frees the writer
// slot.
func (w *Writer) Close() error {
	var err error
	if w.conn != nil {
		w.conn.ExecContext(context.Background(), `DROP TABLE IF EXISTS temp.staging`)
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

// sourceFunction is the table function, registered once per store, that
// serves a Writer's added events to the INSERT that stages them.
const sourceFunction = "trailbook_pending_events"

// eventSource serves events as rows of (doc, eventJson, key_hi, key_lo,
// file_index). It runs on one DuckDB thread: called from several, the
// callbacks into Go cost more than they save.
type eventSource struct {
	w       *Writer
	keys    []stagedKey
	next    atomic.Int64
	mu      sync.Mutex
	fillErr error
}

func (e *eventSource) err() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.fillErr
}

// registerSource registers the store's table function. Its rows come from
// the source set by setSource for the duration of one INSERT; with none set
// it returns no rows.
func (s *Store) registerSource(ctx context.Context) error {
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	varchar, err := duckdb.NewTypeInfo(duckdb.TYPE_VARCHAR)
	if err != nil {
		return err
	}
	ubigint, err := duckdb.NewTypeInfo(duckdb.TYPE_UBIGINT)
	if err != nil {
		return err
	}
	integer, err := duckdb.NewTypeInfo(duckdb.TYPE_INTEGER)
	if err != nil {
		return err
	}
	cols := []duckdb.ColumnInfo{{Name: "doc", T: varchar}, {Name: "eventJson", T: varchar},
		{Name: "key_hi", T: ubigint}, {Name: "key_lo", T: ubigint}, {Name: "file_index", T: integer}}
	return duckdb.RegisterTableUDF(conn, sourceFunction, duckdb.ParallelChunkTableFunction{
		BindArguments: func(map[string]any, ...any) (duckdb.ParallelChunkTableSource, error) {
			return &sourceBinding{src: s.currentSource(), cols: cols}, nil
		},
	})
}

func (s *Store) setSource(e *eventSource) {
	s.sourceMu.Lock()
	s.source = e
	s.sourceMu.Unlock()
}

func (s *Store) currentSource() *eventSource {
	s.sourceMu.Lock()
	defer s.sourceMu.Unlock()
	return s.source
}

// sourceBinding is one use of the table function in a query.
type sourceBinding struct {
	src  *eventSource
	cols []duckdb.ColumnInfo
}

func (b *sourceBinding) ColumnInfos() []duckdb.ColumnInfo { return b.cols }

func (b *sourceBinding) Cardinality() *duckdb.CardinalityInfo {
	if b.src == nil {
		return &duckdb.CardinalityInfo{Cardinality: 0, Exact: true}
	}
	return &duckdb.CardinalityInfo{Cardinality: uint(len(b.src.keys)), Exact: true}
}

func (b *sourceBinding) Init() duckdb.ParallelTableSourceInfo {
	return duckdb.ParallelTableSourceInfo{MaxThreads: 1}
}

// fillState is one thread's scratch space.
type fillState struct{ doc []byte }

func (b *sourceBinding) NewLocalState() any { return &fillState{} }

// fillRun is how many events one FillChunk call claims: a whole vector.
const fillRun = 2048

func (b *sourceBinding) FillChunk(local any, chunk duckdb.DataChunk) error {
	if b.src == nil {
		return chunk.SetSize(0)
	}
	st := local.(*fillState)
	w, keys := b.src.w, b.src.keys
	start := int(b.src.next.Add(fillRun)) - fillRun
	if start >= len(keys) {
		return chunk.SetSize(0)
	}
	end := min(start+fillRun, len(keys))
	for row, k := range keys[start:end] {
		f := w.files[k.file]
		ev := &f.Events[k.event]
		var x docExtra
		if w.inv != nil {
			x = docExtra{touched: f.Effects[k.event].Touched, tagsAt: w.inv.tagsAt}
		}
		st.doc = appendDoc(st.doc[:0], ev, x)
		err := errors.Join(
			duckdb.SetChunkValue(chunk, 0, row, st.doc),
			duckdb.SetChunkValue(chunk, 1, row, ev.JSON),
			duckdb.SetChunkValue(chunk, 2, row, k.hi),
			duckdb.SetChunkValue(chunk, 3, row, k.lo),
			duckdb.SetChunkValue(chunk, 4, row, k.file))
		if err != nil {
			b.src.mu.Lock()
			if b.src.fillErr == nil {
				b.src.fillErr = fmt.Errorf("%s: record %d: %w", w.files[k.file].Source, k.event, err)
			}
			b.src.mu.Unlock()
			return err
		}
	}
	return chunk.SetSize(end - start)
}
