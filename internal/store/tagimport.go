package store

import (
	"context"
	"fmt"
	"time"

	"github.com/trailbook/trailbook/internal/tags"
)

// ImportTags records a snapshot of resources' tags, as known true at at,
// under name (the file it came from): each change replaces the resource's
// whole tag set from at on. Importing the same name at the same time again
// adds nothing. It returns how many resources were new in the inventory's
// change log.
func (s *Store) ImportTags(ctx context.Context, name string, at time.Time, changes []tags.Change) (int, error) {
	w, err := s.NewWriter(ctx)
	if err != nil {
		return 0, err
	}
	defer w.Close()
	inv, err := loadInventory(ctx, w.conn)
	if err != nil {
		return 0, err
	}
	w.inv = inv
	hi, lo := importKey(name, at)
	added := 0
	for _, c := range changes {
		r := tagRow{hi: hi, lo: lo, Entry: tags.Entry{
			Change: c, At: at.UTC(), Seq: "~import",
			By: tags.Provenance{Origin: "import", EventID: name, EventName: "GetResources", EventSource: "tagging.amazonaws.com"},
		}}
		if inv.add(r) {
			added++
		}
	}
	if _, err := w.Commit(ctx); err != nil {
		return 0, fmt.Errorf("import tags: %w", err)
	}
	return added, nil
}
