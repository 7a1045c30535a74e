package store

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/trailbook/trailbook/internal/cloudtrail"
	"github.com/trailbook/trailbook/internal/tags"
)

// EventKey is the store's identity of ev as 32 hex digits: the key it is
// stored once under. Two deliveries of one event have the same key.
func EventKey(ev *cloudtrail.Event) string {
	hi, lo := eventKey(ev)
	return fmt.Sprintf("%016x%016x", hi, lo)
}

// TagsBefore returns the tags arn had just before the changes ev made to
// it, replaying the stored changes that come before ev's first one in the
// inventory's order; known is false when no stored change precedes it
// (the tags then are not known). ev's changes are found by its store key,
// not its eventID alone: two events may share an eventID. When ev made no
// stored change to arn, the changes before ev's eventTime count. It reads
// tag_changes through q, which may be a Reader.
func TagsBefore(ctx context.Context, q querier, arn string, ev *cloudtrail.Event) (before map[string]string, known bool, err error) {
	fail := func(err error) (map[string]string, bool, error) {
		return nil, false, fmt.Errorf("tags of %s before event %s at %s: %w", arn, ev.EventID.V, ev.EventTime.Format(time.RFC3339), err)
	}
	rows, err := q.QueryContext(ctx, `SELECT `+tagRowColumns+` FROM tag_changes WHERE arn = ?`, arn)
	if err != nil {
		return fail(err)
	}
	defer rows.Close()
	var es []tagRow
	for rows.Next() {
		r, err := scanTagRow(rows)
		if err != nil {
			return fail(err)
		}
		es = append(es, r)
	}
	if err := rows.Err(); err != nil {
		return fail(err)
	}
	slices.SortFunc(es, func(a, b tagRow) int { return tags.Less(&a.Entry, &b.Entry) })
	hi, lo := eventKey(ev)
	i := slices.IndexFunc(es, func(r tagRow) bool { return r.hi == hi && r.lo == lo })
	if i < 0 {
		// Where ev's changes would stand: after those of earlier times,
		// and of its own time with a lower seq (seq is eventID/index).
		at, seq := ev.EventTime.UTC(), ev.EventID.V+"/"
		i = slices.IndexFunc(es, func(r tagRow) bool { return r.At.After(at) || r.At.Equal(at) && r.Seq >= seq })
		if i < 0 {
			i = len(es)
		}
	}
	if i == 0 {
		return nil, false, nil
	}
	entries := make([]tags.Entry, i)
	for j := range entries {
		entries[j] = es[j].Entry
	}
	_, vs := tags.Replay(entries)
	if len(vs) == 0 {
		return nil, false, nil
	}
	last := vs[len(vs)-1]
	if !last.To.IsZero() {
		return nil, false, nil // deleted before the event
	}
	before = map[string]string{}
	for _, t := range last.Tags {
		before[t.Key] = t.Value
	}
	return before, true, nil
}
