// Package ingest reads CloudTrail files from paths and stdin, decodes them
// in parallel and appends them to the store in input order, a whole number
// of files per transaction.
package ingest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"time"

	"github.com/trailbook/trailbook/internal/cloudtrail"
	"github.com/trailbook/trailbook/internal/store"
	"github.com/trailbook/trailbook/internal/tags"
)

// Stdin is the path that names standard input.
const Stdin = "-"

// Batcher is where decoded files go: it takes whole files and commits
// what it holds in one transaction. *store.Writer is one.
type Batcher interface {
	Add(ctx context.Context, f *store.File) error
	Staged() int
	Commit(ctx context.Context) (store.Counts, error)
}

// Options tunes Run. The zero value is the default.
type Options struct {
	// BatchEvents is the most events a transaction gathers: it holds
	// whole files, so it is committed before the file that would take it
	// past BatchEvents (a larger file has one to itself). Zero means
	// 245,760, two of DuckDB's row groups: a transaction of a row group or
	// more is written straight to the database file instead of through the
	// write-ahead log, and two let DuckDB insert on two threads. Staying
	// under the multiple matters as much: a transaction just over it ends
	// in a row group of a few hundred rows, and DuckDB's checkpoint merges
	// such runs of row groups by rewriting them, 3 to 6 s for each
	// transaction of the benchmark's ingest.
	BatchEvents int
	// Workers decode files in parallel. Zero means GOMAXPROCS.
	Workers int
	// MaxFileBytes refuses larger inputs. Zero means 1 GiB.
	MaxFileBytes int64
	// Decode is passed to the decoder.
	Decode cloudtrail.Options
	// NoTags skips working out each event's tag effect (tags.Of) in the
	// decoding workers; the Batcher then does it, or, for a Writer with
	// its inventory off, nothing.
	NoTags bool
	// Progress, when set, is called after every transaction and once at
	// the end, with the totals so far.
	Progress func(p Progress)
}

// Progress is a running total, for progress display.
type Progress struct {
	FilesDone, FilesTotal int
	BytesDone, BytesTotal int64
	Counts                store.Counts
	Elapsed               time.Duration
	Done                  bool
}

// Reject is a rejected record as reported to the user.
type Reject struct {
	Source string
	store.Reject
}

// Summary is the outcome of Run.
type Summary struct {
	store.Counts
	Elapsed time.Duration
	// Rejects lists every rejected record (also kept in the store's
	// rejects table), in input order.
	Rejects []Reject
	// SkippedKinds counts the skipped records by kind.
	SkippedKinds map[string]int
}

// input is one file to ingest.
type input struct {
	path string
	size int64
	// walked is true for a file found by walking a directory: one whose
	// content is plainly not JSON or gzip is skipped rather than rejected,
	// since log trees hold other files (READMEs, licences, manifests).
	walked bool
}

// Run ingests paths (files, directories walked recursively in lexical
// order, or Stdin) into b. Files that cannot be read are reported as
// rejects and the rest still ingested. It returns an error only when the
// store fails or ctx ends; what was committed before stays committed.
func Run(ctx context.Context, b Batcher, paths []string, stdin io.Reader, opts Options) (Summary, error) {
	start := time.Now()
	if opts.BatchEvents == 0 {
		opts.BatchEvents = 2 * 122880
	}
	if opts.Workers == 0 {
		opts.Workers = runtime.GOMAXPROCS(0)
	}
	if opts.MaxFileBytes == 0 {
		opts.MaxFileBytes = 1 << 30
	}
	sum := Summary{SkippedKinds: map[string]int{}}
	inputs, walkRejects := expand(paths)
	var total int64
	for _, in := range inputs {
		total += in.size
	}
	prog := Progress{FilesTotal: len(inputs) + len(walkRejects), BytesTotal: total}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// Decode in parallel; results are taken in input order through a
	// channel per input, bounded to keep memory flat.
	slots := make(chan chan decoded, opts.Workers*2)
	go func() {
		defer close(slots)
		sem := make(chan struct{}, opts.Workers)
		for _, in := range inputs {
			out := make(chan decoded, 1)
			select {
			case slots <- out:
			case <-ctx.Done():
				return
			}
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				return
			}
			go func(in input) {
				defer func() { <-sem }()
				out <- decodeInput(in, stdin, opts)
			}(in)
		}
	}()

	// Decoded files are handed to b in input order; what b holds is
	// committed before it would pass BatchEvents events. Decoders keep
	// working meanwhile.
	var filesStaged int
	var bytesStaged int64
	commit := func() error {
		c, err := b.Commit(ctx)
		if err != nil {
			return err
		}
		sum.Counts.Add(c)
		prog.Counts = sum.Counts
		prog.FilesDone += filesStaged
		prog.BytesDone += bytesStaged
		prog.Elapsed = time.Since(start)
		filesStaged, bytesStaged = 0, 0
		if opts.Progress != nil {
			opts.Progress(prog)
		}
		return nil
	}
	add := func(f *store.File, skipped map[string]int) error {
		for _, r := range f.Rejects {
			sum.Rejects = append(sum.Rejects, Reject{Source: f.Source, Reject: r})
		}
		for k, n := range skipped {
			sum.SkippedKinds[k] += n
		}
		if n := b.Staged(); n > 0 && n+len(f.Events) > opts.BatchEvents {
			if err := commit(); err != nil {
				return err
			}
		}
		if err := b.Add(ctx, f); err != nil {
			return err
		}
		filesStaged++
		bytesStaged += f.Bytes
		return nil
	}
	for i := range walkRejects {
		if err := add(&walkRejects[i], nil); err != nil {
			return sum, err
		}
	}
	for out := range slots {
		var d decoded
		select {
		case d = <-out:
		case <-ctx.Done():
			return sum, ctx.Err()
		}
		if err := add(&d.file, d.skipped); err != nil {
			return sum, err
		}
	}
	if err := ctx.Err(); err != nil {
		return sum, err
	}
	if err := commit(); err != nil {
		return sum, err
	}
	sum.Elapsed = time.Since(start)
	prog.Done, prog.Elapsed = true, sum.Elapsed
	if opts.Progress != nil {
		opts.Progress(prog)
	}
	return sum, nil
}

type decoded struct {
	file    store.File
	skipped map[string]int
}

// decodeInput reads and decodes one input. A read failure becomes a
// reject of the whole input, so it is counted and kept like any other.
func decodeInput(in input, stdin io.Reader, opts Options) decoded {
	var (
		data []byte
		err  error
	)
	if in.path == Stdin {
		data, err = io.ReadAll(io.LimitReader(stdin, opts.MaxFileBytes+1))
	} else {
		data, err = os.ReadFile(in.path)
	}
	if err == nil && int64(len(data)) > opts.MaxFileBytes {
		err = fmt.Errorf("input is over the %d-byte limit", opts.MaxFileBytes)
	}
	if err != nil {
		return decoded{file: unreadable(in.path, err)}
	}
	f, skipped := File(in.path, data, in.walked, opts)
	return decoded{file: f, skipped: skipped}
}

// File decodes data, the content of the input named source, into what the
// store takes, with what was skipped by kind. walked says the input was
// found by walking a folder: content that is not JSON at all is then one
// skipped record, not a reject (folders hold other files).
func File(source string, data []byte, walked bool, opts Options) (store.File, map[string]int) {
	if walked && !looksLikeData(data) {
		return store.File{Source: source, Bytes: int64(len(data)), SHA256: sha256.Sum256(data), Records: 1, Skipped: 1},
			map[string]int{"file that is not JSON": 1}
	}
	res := cloudtrail.Decode(data, opts.Decode)
	f := store.File{
		Source:  source,
		Bytes:   int64(len(data)),
		SHA256:  sha256.Sum256(data),
		Records: res.Records,
		Events:  res.Events,
	}
	if !opts.NoTags && len(res.Events) > 0 {
		f.Effects = make([]tags.Effect, len(res.Events))
		for i := range res.Events {
			f.Effects[i] = tags.Of(&res.Events[i])
		}
	}
	for _, r := range res.Rejects {
		f.Rejects = append(f.Rejects, store.Reject{Index: r.Index, Line: r.Line, Offset: r.Offset, Reason: r.Reason, Record: r.Record})
	}
	for _, n := range res.Skipped {
		f.Skipped += n
	}
	return f, res.Skipped
}

func unreadable(path string, err error) store.File {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	return store.File{Source: path, Records: 1, Rejects: []store.Reject{{Reason: "cannot read: " + err.Error()}}}
}

// expand turns paths into the files to read: directories are walked
// recursively and their files taken in lexical order; Stdin stays as is.
// Paths that cannot be read become rejects.
func expand(paths []string) ([]input, []store.File) {
	var (
		out     []input
		rejects []store.File
	)
	for _, p := range paths {
		if p == Stdin {
			out = append(out, input{path: Stdin})
			continue
		}
		info, err := os.Stat(p)
		if err != nil {
			rejects = append(rejects, unreadable(p, err))
			continue
		}
		if !info.IsDir() {
			out = append(out, input{path: p, size: info.Size()})
			continue
		}
		var files []input
		err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				rejects = append(rejects, unreadable(path, err))
				if d != nil && d.IsDir() {
					return fs.SkipDir
				}
				return nil
			}
			if !d.Type().IsRegular() {
				return nil
			}
			fi, err := d.Info()
			if err != nil {
				rejects = append(rejects, unreadable(path, err))
				return nil
			}
			files = append(files, input{path: path, size: fi.Size(), walked: true})
			return nil
		})
		if err != nil {
			rejects = append(rejects, unreadable(p, err))
		}
		sort.Slice(files, func(i, j int) bool { return files[i].path < files[j].path })
		out = append(out, files...)
	}
	return out, rejects
}

// looksLikeData reports whether data is gzip, or text whose first
// non-space character (after a UTF-8 byte order mark) opens a JSON object
// or array.
func looksLikeData(data []byte) bool {
	if len(data) >= 2 && data[0] == 0x1f && data[1] == 0x8b {
		return true
	}
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	data = bytes.TrimLeft(data, " \t\r\n")
	return len(data) > 0 && (data[0] == '{' || data[0] == '[')
}
