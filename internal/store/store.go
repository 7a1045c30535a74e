// Package store is Trailbook's embedded event store: a DuckDB database file
// holding every ingested CloudTrail event once, the records that were
// rejected, and the files that were ingested.
package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/duckdb/duckdb-go/v2"
)

// DefaultPath is the database file used when neither --db nor TRAILBOOK_DB
// names one.
const DefaultPath = "trailbook.duckdb"

// EnvPath is the environment variable that names the database file.
const EnvPath = "TRAILBOOK_DB"

// ResolvePath returns flagValue when set, else $TRAILBOOK_DB, else DefaultPath.
func ResolvePath(flagValue string, getenv func(string) string) string {
	if flagValue != "" {
		return flagValue
	}
	if v := getenv(EnvPath); v != "" {
		return v
	}
	return DefaultPath
}

// Options tunes how the database is opened. The zero value is the default
// for ingest: read-write, two threads, a 1 GiB memory limit.
type Options struct {
	// MemoryLimit is DuckDB's memory_limit, e.g. "1GB". Empty means 1GB.
	MemoryLimit string
	// Threads is DuckDB's thread count. Zero means 2.
	Threads int
	// WaitLock is how long Open waits for another process that has the
	// file open to close it (DuckDB allows one writing process); zero
	// means it fails at once.
	WaitLock time.Duration
	// CheckpointWAL is the size in bytes the write-ahead log reaches
	// before a commit also checkpoints it into the file; zero means
	// DuckDB's default, 16 MiB. A checkpoint rewrites the tables' last,
	// growing row groups, hundreds of milliseconds at a time however
	// little was added, so a store taking many small commits (serve)
	// wants a larger log; a larger log is longer to replay after a crash.
	CheckpointWAL int64
}

// Store is an open read-write event store. Its methods are safe for
// concurrent use, but Append calls are serialised: DuckDB allows one writer.
type Store struct {
	db     *sql.DB
	writer chan struct{} // one-slot semaphore: one Writer at a time
}

// Open opens or creates the database at path and brings its schema up to
// date. External file access is disabled on this instance: the store only
// ever reads and writes its own database file.
func Open(ctx context.Context, path string, opts Options) (*Store, error) {
	if opts.MemoryLimit == "" {
		opts.MemoryLimit = "1GB"
	}
	if opts.Threads == 0 {
		opts.Threads = 2
	}
	q := url.Values{}
	q.Set("memory_limit", opts.MemoryLimit)
	q.Set("threads", fmt.Sprint(opts.Threads))
	q.Set("enable_external_access", "false")
	// Rows need not be stored in the order they are inserted, which lets
	// DuckDB insert on all its threads; queries order what they need.
	q.Set("preserve_insertion_order", "false")
	// New files use DuckDB's current storage format: older ones lack the
	// zstd codec for strings, and DuckDB would store eventJson raw.
	q.Set("storage_compatibility_version", "latest")
	if opts.CheckpointWAL > 0 {
		q.Set("checkpoint_threshold", fmt.Sprintf("%dB", opts.CheckpointWAL))
	}
	db, err := openDB(path + "?" + q.Encode())
	for wait := 5 * time.Millisecond; err != nil && isLocked(err) && opts.WaitLock > 0; wait = min(2*wait, 200*time.Millisecond) {
		if opts.WaitLock -= wait; opts.WaitLock < 0 {
			break
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("open store %s: %w", path, ctx.Err())
		case <-time.After(wait):
		}
		db, err = openDB(path + "?" + q.Encode())
	}
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	s := &Store{db: db, writer: make(chan struct{}, 1)}
	if err := migrate(ctx, db); err != nil {
		db.Close()
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	return s, nil
}

// isLocked reports whether err is DuckDB refusing a file another process
// holds open.
func isLocked(err error) bool {
	return strings.Contains(err.Error(), "Could not set lock on file")
}

func openDB(dsn string) (*sql.DB, error) {
	connector, err := duckdb.NewConnector(dsn, nil)
	if err != nil {
		return nil, err
	}
	return sql.OpenDB(connector), nil
}

// Close closes the database. Pending appends must have returned first.
func (s *Store) Close() error { return s.db.Close() }

// DB is the underlying read-write database, for packages that maintain
// their own tables in the store (tags, audit). Callers must not write to
// the event tables directly.
func (s *Store) DB() *sql.DB { return s.db }

// errNoStore reports that the database file does not exist, with what to do.
var errNoStore = errors.New("no store here yet: run `trailbook ingest` or `trailbook demo` first")

// Reader is a read-only, locked-down view of a store for running user SQL:
// it cannot read or write files, attach databases, load extensions or change
// settings. Safe for concurrent use.
type Reader struct {
	db *sql.DB
}

// ReaderOptions tunes OpenReader. The zero value is the default.
type ReaderOptions struct {
	// WritablePath is the one file the reader may write (for COPY ... TO
	// a Parquet file the caller names); empty allows none.
	WritablePath string
	// Prelude is run once on every connection before it is locked, e.g. the
	// query translator's macros.
	Prelude []string
	// Threads is DuckDB's thread count. Zero means 2.
	Threads int
	// WaitLock is how long Open waits for another process that has the
	// file open to close it (DuckDB allows one writing process); zero
	// means it fails at once.
	WaitLock time.Duration
}

// OpenReader opens the database at path read-only and locks it down. The
// file must exist.
func OpenReader(ctx context.Context, path string, opts ReaderOptions) (*Reader, error) {
	if _, err := os.Stat(path); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("open store %s: %w", path, errNoStore)
		}
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	if opts.Threads == 0 {
		opts.Threads = 2
	}
	q := url.Values{}
	q.Set("access_mode", "READ_ONLY")
	q.Set("threads", fmt.Sprint(opts.Threads))
	q.Set("memory_limit", "2GB")
	init := func(execer driver.ExecerContext) error {
		stmts := append([]string(nil), opts.Prelude...)
		if opts.WritablePath != "" {
			stmts = append(stmts, "SET allowed_paths = ["+quoteString(opts.WritablePath)+"]")
		}
		stmts = append(stmts, "SET enable_external_access = false", "SET lock_configuration = true")
		for _, st := range stmts {
			if _, err := execer.ExecContext(ctx, st, nil); err != nil {
				return fmt.Errorf("prepare query connection: %q: %w", st, err)
			}
		}
		return nil
	}
	connector, err := duckdb.NewConnector(path+"?"+q.Encode(), init)
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	db := sql.OpenDB(connector)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	return &Reader{db: db}, nil
}

// Close closes the reader.
func (r *Reader) Close() error { return r.db.Close() }

// QueryContext runs one already-validated DuckDB SELECT.
func (r *Reader) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return r.db.QueryContext(ctx, query, args...)
}

// QueryRowContext runs a query expected to return at most one row; the
// query translator uses it to call DuckDB's parser.
func (r *Reader) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	return r.db.QueryRowContext(ctx, query, args...)
}

// ExecContext runs a statement on the locked connection (COPY to the one
// writable path is the only write that can succeed).
func (r *Reader) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return r.db.ExecContext(ctx, query, args...)
}

func quoteString(s string) string {
	out := []byte{'\''}
	for i := 0; i < len(s); i++ {
		if s[i] == '\'' {
			out = append(out, '\'')
		}
		out = append(out, s[i])
	}
	return string(append(out, '\''))
}

// Watermark is a number every Commit of a Writer increases. A result
// computed from the store stays valid while the watermark it was computed
// at is the current one.
func Watermark(ctx context.Context, q interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}) (int64, error) {
	var w int64
	if err := q.QueryRowContext(ctx, `SELECT watermark FROM trailbook_meta`).Scan(&w); err != nil {
		return 0, fmt.Errorf("read watermark: %w", err)
	}
	return w, nil
}
