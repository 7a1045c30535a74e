package store

import (
	"context"
	"fmt"
	"slices"

	"github.com/trailbook/trailbook/internal/cloudtrail"
	"github.com/trailbook/trailbook/internal/tags"
)

// EventKey is the store's identity of ev as 32 hex digits: the key it is
// stored once under. Two deliveries of one event have the same key.
func EventKey(ev *cloudtrail.Event) string {
	hi, lo := eventKey(ev)
	return fmt.Sprintf("%016x%016x", hi, lo)
}

// TagsBefore returns the tags arn had just before the changes the event
// eventID made to it, replaying the stored changes that come before the
// event's first one in the inventory's order; known is false when no
// stored change precedes it (the tags then are not known). It reads
// tag_changes through q, which may be a Reader.
func TagsBefore(ctx context.Context, q querier, arn, eventID string) (before map[string]string, known bool, err error) {
	rows, err := q.QueryContext(ctx, `SELECT changed_at, seq, kind, CAST(to_json(set_tags) AS VARCHAR), CAST(to_json(removed) AS VARCHAR),
		origin, coalesce(event_id, ''), coalesce(event_name, ''), coalesce(event_source, ''), coalesce(actor, '')
		FROM tag_changes WHERE arn = ?`, arn)
	if err != nil {
		return nil, false, fmt.Errorf("tags of %s before %s: %w", arn, eventID, err)
	}
	defer rows.Close()
	var es []tags.Entry
	for rows.Next() {
		e := tags.Entry{Change: tags.Change{ARN: arn}}
		var kind, set, removed string
		if err := rows.Scan(&e.At, &e.Seq, &kind, &set, &removed, &e.By.Origin, &e.By.EventID, &e.By.EventName, &e.By.EventSource, &e.By.Actor); err != nil {
			return nil, false, fmt.Errorf("tags of %s before %s: %w", arn, eventID, err)
		}
		e.At = e.At.UTC()
		e.Kind, _ = tags.ParseKind(kind)
		if err := decodeTagLists(set, removed, &e); err != nil {
			return nil, false, fmt.Errorf("tags of %s before %s: %w", arn, eventID, err)
		}
		es = append(es, e)
	}
	if err := rows.Err(); err != nil {
		return nil, false, err
	}
	slices.SortFunc(es, func(a, b tags.Entry) int { return tags.Less(&a, &b) })
	i := slices.IndexFunc(es, func(e tags.Entry) bool { return e.By.EventID == eventID })
	if i < 0 {
		i = len(es)
	}
	if i == 0 {
		return nil, false, nil
	}
	_, vs := tags.Replay(es[:i])
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
