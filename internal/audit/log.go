package audit

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/trailbook/trailbook/internal/store"
)

// DefaultPath is the audit log kept beside the database db: db with a
// trailing ".duckdb" replaced by ".audit.jsonl", or ".audit.jsonl" added.
func DefaultPath(db string) string {
	return strings.TrimSuffix(db, ".duckdb") + ".audit.jsonl"
}

// Mirror is where Log copies every entry after writing it to the file: the
// store's audit table, *store.Store. The copy anchors the file's end: Open
// refuses, and Verify reports, a file that ends before its copy does.
type Mirror interface {
	// AppendAudit adds rows that continue what the mirror holds, all or
	// none.
	AppendAudit(ctx context.Context, rows []store.AuditRow) error
	// LastAudit returns the seq and hash of the last row held: 0 and ""
	// when there is none.
	LastAudit(ctx context.Context) (seq int64, hash string, err error)
}

var _ Mirror = (*store.Store)(nil)

// Options tunes Open. The zero value is a log without a mirror, on the
// system clock.
type Options struct {
	// Mirror, when set, receives a copy of every entry appended.
	Mirror Mirror
	// Now is the clock for entries appended without a Time; nil means
	// time.Now.
	Now func() time.Time
	// DeferMirror makes Append write the file alone and leave the copy to
	// the mirror to Flush (or Close): one store transaction for many
	// appends instead of one each, for a writer that appends often (the
	// daemon flushes after each batch). The file stays the record; a
	// crash before a Flush leaves the mirror behind, which Open repairs.
	DeferMirror bool
}

// Log is an open audit log file. Its methods are safe for concurrent use:
// Appends are serialised, each one's entries consecutive in the chain.
// One Log must be the file's only writer; Append refuses to go on when the
// file grew behind its back.
type Log struct {
	path   string
	mirror Mirror
	now    func() time.Time
	defer_ bool // Options.DeferMirror

	mu      sync.Mutex
	f       *os.File // nil once closed
	size    int64    // bytes in the file, as this Log wrote them
	seq     int64    // of the last entry; 0 when empty
	last    string   // hash of the last entry; Genesis when empty
	pending []Entry  // in the file but not yet in the mirror
	recheck bool     // a copy to the mirror failed: ask it where it stands
	broken  error    // the file may hold a partial write: no more appends
}

// Open opens the log at path, creating it (mode 0600) when missing, and
// reads its last entry to continue the chain. It refuses, with an error
// naming the file and line, a log whose last line is cut off or is not an
// intact entry, whose last entry's seq is not its line number, or that
// disagrees with the mirror: one that ends before the mirror's last row, or
// holds a different entry there. It never appends to a broken chain; run
// Verify to see what is wrong.
//
// When the mirror lags the file (a crash between writing the file and
// copying to the store), Open checks the whole file, then copies the
// entries the mirror lacks. Open queries the mirror without a deadline.
func Open(path string, opts Options) (*Log, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	_, statErr := os.Stat(path)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open audit log: %w", err)
	}
	if errors.Is(statErr, os.ErrNotExist) {
		syncDir(filepath.Dir(path))
	}
	l := &Log{path: path, mirror: opts.Mirror, now: opts.Now, defer_: opts.DeferMirror, f: f, last: Genesis}
	ctx := context.Background()
	if err := l.load(ctx); err != nil {
		f.Close()
		return nil, fmt.Errorf("open audit log: %w", err)
	}
	if len(l.pending) > 0 {
		if err := l.copyPending(ctx); err != nil {
			f.Close()
			return nil, fmt.Errorf("open audit log %s: copy the %d entries the store lacks: %w", path, len(l.pending), err)
		}
	}
	return l, nil
}

// syncDir makes a new file's directory entry durable. Not every system can
// sync a directory, and the file's own fsyncs still hold its data, so a
// failure here is not one of Open's.
func syncDir(dir string) {
	d, err := os.Open(dir)
	if err != nil {
		return
	}
	d.Sync()
	d.Close()
}

// load reads the file's last entry and settles with the mirror.
func (l *Log) load(ctx context.Context) error {
	line, lineNo, complete, size, err := lastLine(l.f)
	if err != nil {
		return fmt.Errorf("read %s: %w", l.path, err)
	}
	l.size = size
	if size > 0 {
		if !complete {
			return &Problem{File: l.path, Line: lineNo, Kind: Truncated, Message: "the last line is cut off (it has no newline): " + verifyHint}
		}
		e, canonical, err := decodeLine(line)
		if err != nil {
			return &Problem{File: l.path, Line: lineNo, Kind: Malformed, Message: "not an audit entry: " + err.Error() + ": " + verifyHint}
		}
		if !canonical || hashEntry(&e) != e.Hash {
			return &Problem{File: l.path, Line: lineNo, Seq: e.Seq, Kind: Edited, Message: "the last entry does not match its hash: " + verifyHint}
		}
		if e.Seq != int64(lineNo) {
			kind, what := Deleted, "deleted"
			if e.Seq < int64(lineNo) {
				kind, what = Inserted, "inserted"
			}
			return &Problem{File: l.path, Line: lineNo, Seq: e.Seq, Kind: kind,
				Message: fmt.Sprintf("the last entry has seq %d on line %d: lines were %s: %s", e.Seq, lineNo, what, verifyHint)}
		}
		l.seq, l.last = e.Seq, e.Hash
	}
	if l.mirror == nil {
		return nil
	}
	mseq, mhash, err := l.mirror.LastAudit(ctx)
	if err != nil {
		return err
	}
	switch {
	case mseq == l.seq && (mseq == 0 || mhash == l.last):
		return nil
	case mseq == l.seq:
		return &Problem{File: l.path, Line: lineNo, Seq: l.seq, Kind: StoreEdited,
			Message: fmt.Sprintf("the store copy's last entry has hash %s, the file's %s: %s", mhash, l.last, verifyHint)}
	case mseq > l.seq:
		return &Problem{File: l.path, Line: lineNo + 1, Seq: l.seq + 1, Kind: Truncated,
			Message: fmt.Sprintf("the file ends at seq %d but the store copy holds entries up to seq %d: %s", l.seq, mseq, verifyHint)}
	}
	// The mirror lags: check the whole file, then queue what it lacks.
	rep, items := verify(io.NewSectionReader(l.f, 0, size), l.path, nil)
	if !rep.OK() {
		if rep.Err != nil {
			return rep.Err
		}
		return &rep.Problems[0]
	}
	for _, it := range items {
		switch {
		case it.e.Seq == mseq && it.e.Hash != mhash:
			return &Problem{File: l.path, Line: it.line, Seq: mseq, Kind: StoreEdited,
				Message: fmt.Sprintf("the store copy's last entry has hash %s, the file's %s: %s", mhash, it.e.Hash, verifyHint)}
		case it.e.Seq > mseq:
			l.pending = append(l.pending, it.e)
		}
	}
	return nil
}

const verifyHint = "run `trailbook audit verify`"

// lastLine returns the file's last line without its newline, its 1-based
// number, whether it ends with a newline, and the file's size.
func lastLine(f *os.File) (line []byte, lineNo int, complete bool, size int64, err error) {
	buf := make([]byte, 1<<20)
	var start, prevStart int64 // where the last and the one before begin
	lines := 0
	for {
		n, err := f.ReadAt(buf, size)
		chunk := buf[:n]
		for off := 0; ; {
			i := bytes.IndexByte(chunk[off:], '\n')
			if i < 0 {
				break
			}
			lines++
			prevStart, start = start, size+int64(off+i+1)
			off += i + 1
		}
		size += int64(n)
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, 0, false, 0, err
		}
	}
	if size == 0 {
		return nil, 0, true, 0, nil
	}
	from, to, lineNo, complete := start, size, lines+1, false
	if start == size {
		from, to, lineNo, complete = prevStart, size-1, lines, true
	}
	line = make([]byte, to-from)
	if _, err := f.ReadAt(line, from); err != nil {
		return nil, 0, false, 0, err
	}
	return line, lineNo, complete, size, nil
}

// Append completes entries as the next ones in the chain, writes them to
// the file in one write and syncs it, then copies them to the mirror, and
// returns them completed. It sets Seq, Prev and Hash, whatever the caller
// put there, puts Data in canonical form, and sets a zero Time to now;
// every Time is kept in UTC to the microsecond. Nothing is written when an
// entry is invalid (no Kind, text that is not UTF-8, Data that is not one
// JSON value, a year outside 1-9999) or ctx is done.
//
// When the entries are in the file but copying them to the mirror fails,
// Append returns them with the error, and the next Append copies them
// first. When writing the file fails, the entries are taken back out of it
// if that can be done; if not, the Log refuses every later Append.
func (l *Log) Append(ctx context.Context, entries ...Entry) ([]Entry, error) {
	if len(entries) == 0 {
		return nil, nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	switch {
	case l.f == nil:
		return nil, fmt.Errorf("append to audit log %s: closed", l.path)
	case l.broken != nil:
		return nil, fmt.Errorf("append to audit log %s: an earlier write failed: %w", l.path, l.broken)
	}
	out, buf, err := link(entries, l.seq, l.last, l.now())
	if err != nil {
		return nil, fmt.Errorf("append to audit log %s: %w", l.path, err)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("append to audit log %s: %w", l.path, err)
	}
	if err := l.write(buf); err != nil {
		return nil, fmt.Errorf("append to audit log %s: %w", l.path, err)
	}
	last := &out[len(out)-1]
	l.seq, l.last = last.Seq, last.Hash
	l.pending = append(l.pending, out...)
	if l.defer_ && len(l.pending) < maxDeferred {
		return out, nil
	}
	if err := l.copyPending(ctx); err != nil {
		return out, fmt.Errorf("append to audit log %s: entries %d to %d are in the file, but copying them to the store failed (the next append retries): %w",
			l.path, out[0].Seq, last.Seq, err)
	}
	return out, nil
}

// link completes entries as the ones after seq, whose hash is prev, with
// now for a zero Time, and returns them with their lines.
func link(entries []Entry, seq int64, prev string, now time.Time) ([]Entry, []byte, error) {
	now = now.UTC().Truncate(time.Microsecond)
	out := make([]Entry, len(entries))
	buf := make([]byte, 0, 512*len(entries))
	for i, e := range entries {
		if err := completeEntry(&e, now); err != nil {
			return nil, nil, fmt.Errorf("entry %d: %w", i, err)
		}
		seq++
		e.Seq, e.Prev = seq, prev
		e.Hash = hashEntry(&e)
		prev = e.Hash
		buf = append(appendEntry(buf, &e, true), '\n')
		out[i] = e
	}
	return out, buf, nil
}

// completeEntry checks e and puts its Time and Data in their stored form.
func completeEntry(e *Entry, now time.Time) error {
	if e.Kind == "" {
		return errors.New("no kind")
	}
	for _, f := range []struct{ name, v string }{
		{"kind", e.Kind}, {"runbook", e.Runbook}, {"gate", e.Gate},
		{"event_id", e.EventID}, {"action_key", e.ActionKey}, {"decision", e.Decision},
	} {
		if err := checkText(f.name, f.v); err != nil {
			return err
		}
	}
	if e.Time.IsZero() {
		e.Time = now
	}
	e.Time = e.Time.UTC().Truncate(time.Microsecond)
	if y := e.Time.Year(); y < 1 || y > 9999 {
		return fmt.Errorf("time %s is outside the years 1 to 9999", e.Time)
	}
	data, err := canonicalData(e.Data)
	if err != nil {
		return err
	}
	e.Data = data
	return nil
}

// write appends buf to the file with one write and syncs it.
func (l *Log) write(buf []byte) error {
	st, err := l.f.Stat()
	if err != nil {
		return err
	}
	if st.Size() != l.size {
		l.broken = fmt.Errorf("the file is %d bytes, not the %d this log wrote: another process writes to it", st.Size(), l.size)
		return l.broken
	}
	n, err := l.f.Write(buf)
	if err != nil {
		if terr := l.f.Truncate(l.size); terr != nil {
			l.broken = fmt.Errorf("%w; taking the partial write back out: %w", err, terr)
			return l.broken
		}
		return err
	}
	if err := l.f.Sync(); err != nil {
		// What reached the disk is unknown: stop here.
		l.broken = fmt.Errorf("sync: %w", err)
		return l.broken
	}
	l.size += int64(n)
	return nil
}

// maxDeferred bounds the entries a DeferMirror log keeps for the next
// Flush.
const maxDeferred = 4096

// Flush copies to the mirror the entries appended since the last copy
// (with DeferMirror; otherwise there are none).
func (l *Log) Flush(ctx context.Context) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.pending) == 0 || l.f == nil {
		return nil
	}
	if err := l.copyPending(ctx); err != nil {
		return fmt.Errorf("audit log %s: copy to the store: %w", l.path, err)
	}
	return nil
}

// copyPending copies the entries the mirror lacks to it.
func (l *Log) copyPending(ctx context.Context) error {
	if l.mirror == nil {
		l.pending = nil
		return nil
	}
	if l.recheck {
		// The failed copy may have gone through all the same.
		mseq, _, err := l.mirror.LastAudit(ctx)
		if err != nil {
			return err
		}
		for len(l.pending) > 0 && l.pending[0].Seq <= mseq {
			l.pending = l.pending[1:]
		}
	}
	rows := make([]store.AuditRow, len(l.pending))
	for i := range l.pending {
		rows[i] = rowOf(&l.pending[i])
	}
	if err := l.mirror.AppendAudit(ctx, rows); err != nil {
		l.recheck = true
		return err
	}
	l.pending, l.recheck = nil, false
	return nil
}

// Close closes the file. Entries not yet copied to the mirror stay only in
// the file; the next Open copies them.
func (l *Log) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return nil
	}
	var errs []error
	if len(l.pending) > 0 {
		// What a DeferMirror log holds back; a failure is repaired by the
		// next Open.
		if err := l.copyPending(context.Background()); err != nil {
			errs = append(errs, fmt.Errorf("copy to the store: %w", err))
		}
	}
	err := errors.Join(append(errs, l.f.Close())...)
	l.f = nil
	if err != nil {
		return fmt.Errorf("close audit log %s: %w", l.path, err)
	}
	return nil
}
