package daemon

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/trailbook/trailbook/internal/ingest"
	"github.com/trailbook/trailbook/internal/store"
)

// maxFolderFile bounds a file the folder source reads; larger ones are
// stored as one reject, as ingest does.
const maxFolderFile = 1 << 30

// watch polls f until ctx ends: each file found under f.Path whose size
// held still since the previous poll (not still being written) and that
// the store has not taken yet (its path in ingested_files, committed with
// its events: the checkpoint) is delivered, in lexical order, which in an
// AWSLogs tree is delivery order.
func (d *Daemon) watch(ctx context.Context, f Folder) error {
	done := map[string]bool{}
	for s, err := range d.Taken(ctx, f.Path) {
		if err != nil {
			return err
		}
		done[s] = true
	}
	sizes := map[string]int64{} // size at the previous poll, of files not yet taken
	timer := time.NewTimer(jitter(f.Name, f.Poll/4))
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-timer.C:
		}
		err := filepath.WalkDir(f.Path, func(path string, e fs.DirEntry, err error) error {
			if err != nil {
				if errors.Is(err, fs.ErrNotExist) && path == f.Path {
					return filepath.SkipDir // not made yet
				}
				return err
			}
			if e.IsDir() || done[path] {
				return nil
			}
			info, err := e.Info()
			if err != nil {
				return nil // gone since listed
			}
			prev, seen := sizes[path]
			sizes[path] = info.Size()
			if !seen || prev != info.Size() {
				return nil // new or growing: next poll
			}
			if err := ctx.Err(); err != nil {
				return err
			}
			file := d.readFile(path, info.Size())
			if _, err := d.deliver(ctx, "folder", &file); err != nil {
				return err
			}
			done[path] = true
			delete(sizes, path)
			return nil
		})
		if err != nil && !errors.Is(err, context.Canceled) {
			d.opts.Logger.Warn("folder", "name", f.Name, "err", err)
		}
		timer.Reset(f.Poll)
	}
}

// readFile reads and decodes one file of a folder; a file that cannot be
// read is one reject, kept like any other.
func (d *Daemon) readFile(path string, size int64) (f store.File) {
	if size > maxFolderFile {
		f, _ = ingest.File(path, nil, false, ingest.Options{})
		f.Rejects = append(f.Rejects, store.Reject{Reason: "the file is over the 1 GiB limit"})
		f.Records = 1
		return f
	}
	data, err := os.ReadFile(path)
	if err != nil {
		f, _ = ingest.File(path, nil, false, ingest.Options{})
		f.Rejects = append(f.Rejects, store.Reject{Reason: "cannot read: " + err.Error()})
		f.Records = 1
		return f
	}
	f, _ = ingest.File(path, data, true, ingest.Options{})
	return f
}
