package daemon

import (
	"context"
	"fmt"
	"hash/fnv"
	"io/fs"
	"path/filepath"
	"time"
)

// watchRunbooks reloads the runbook folder whenever what is in it changes
// (any file under it: runbooks, gates, schemas, test events), polling
// every poll. A folder that does not load keeps the set in force; the
// error is logged and kept for ReloadStatus.
func (d *Daemon) watchRunbooks(ctx context.Context, poll time.Duration) {
	t := time.NewTicker(poll)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		d.mu.Lock()
		last := d.loadedFP
		d.mu.Unlock()
		if d.fingerprint() == last {
			continue
		}
		if err := d.Reload(ctx); err != nil {
			d.opts.Logger.Error("runbooks changed but do not load; keeping the set in force", "err", err)
		}
	}
}

// fingerprint sums the names, sizes and modification times of the files
// under the runbook folder.
func (d *Daemon) fingerprint() uint64 {
	h := fnv.New64a()
	filepath.WalkDir(d.opts.RunbookDir, func(path string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return nil
		}
		if info, err := e.Info(); err == nil {
			fmt.Fprintf(h, "%s\x00%d\x00%d\x00", path, info.Size(), info.ModTime().UnixNano())
		}
		return nil
	})
	return h.Sum64()
}

// ReloadStatus is when the runbooks were last loaded, and why the last
// attempt since failed (nil when it did not).
func (d *Daemon) ReloadStatus() (loaded time.Time, err error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.loadedAt, d.reloadErr
}
