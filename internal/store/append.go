package store

import (
	"context"

	"github.com/trailbook/trailbook/internal/cloudtrail"
	"github.com/trailbook/trailbook/internal/tags"
)

// File is one decoded input file, appended atomically: its events, its
// rejects and its ledger row land in one transaction or not at all.
type File struct {
	Source  string // path, or "-" for stdin
	Bytes   int64  // size as read (compressed)
	SHA256  [32]byte
	Records int // everything seen in the file: events, rejects and skipped
	Events  []cloudtrail.Event
	Rejects []Reject
	Skipped int // records recognised as not events (digests, notifications, ...)
	// Effects, when set, holds tags.Of of each event, computed by the
	// caller (the ingest workers do it in parallel); when nil, the Writer
	// computes it and sets it.
	Effects []tags.Effect
	// NoLedger leaves the file out of ingested_files: a body pushed to
	// serve, which no source needs to find again (its events are kept
	// once by their keys, like any other), and which at a thousand
	// requests a second would grow the ledger by tens of millions of
	// rows a day.
	NoLedger bool
}

// Reject is a record that could not be stored, kept with its reason.
type Reject struct {
	Index  int    // 0-based index of the record in its file
	Line   int    // 1-based line the record starts on; 0 when unknown
	Offset int64  // byte offset in the decompressed file
	Reason string // what was wrong, e.g. "invalid JSON at line 3 column 7: ..."
	Record []byte // at most the first 4 KiB of the record
}

// Counts summarises an append. Stored+Duplicates is the number of events
// offered; Records counts everything seen, events, rejects and skipped.
type Counts struct {
	Files      int
	Records    int
	Stored     int
	Duplicates int
	Skipped    int
	Rejected   int
}

// Add adds o to c.
func (c *Counts) Add(o Counts) {
	c.Files += o.Files
	c.Records += o.Records
	c.Stored += o.Stored
	c.Duplicates += o.Duplicates
	c.Skipped += o.Skipped
	c.Rejected += o.Rejected
}

// Append stores the events of files, each event at most once across the
// whole store, together with their rejects and a ledger row per file, in a
// single transaction: after a crash either all of files are recorded or none.
// It waits while another Writer is open.
func (s *Store) Append(ctx context.Context, files []File) (Counts, error) {
	w, err := s.NewWriter(ctx)
	if err != nil {
		return Counts{}, err
	}
	defer w.Close()
	for i := range files {
		if err := w.Add(ctx, &files[i]); err != nil {
			return Counts{}, err
		}
	}
	return w.Commit(ctx)
}
