package engine

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/trailbook/trailbook/internal/cloudtrail"
	"github.com/trailbook/trailbook/internal/runbook"
	"github.com/trailbook/trailbook/internal/tags"
	"github.com/trailbook/trailbook/internal/tags/schema"
)

// tagSetAtSQL is a resource's tags at a time, from the inventory; no row
// when they were not known then (or it did not exist).
const tagSetAtSQL = `SELECT tags FROM tag_sets WHERE arn = ? AND valid_from <= CAST(? AS TIMESTAMP)
	AND (valid_to IS NULL OR CAST(? AS TIMESTAMP) < valid_to)`

// violations checks the resources ev touched against rb's schema, with
// their tags just after ev. A resource ev created is judged instead when
// the longest grace among the rules it fails ends: until now reaches that
// time, due is that time and the violations are not known yet (nil).
func violations(ctx context.Context, rb *runbook.Runbook, ev *cloudtrail.Event, effect *tags.Effect, snap Snapshot, now time.Time) (out []any, due time.Time, err error) {
	at := ev.EventTime.UTC()
	created := map[string]bool{}
	gone := map[string]bool{}
	whole := map[string]bool{}              // the event set the whole tag set
	changed := map[string]map[string]bool{} // arn -> lowercased keys it set or removed
	for _, c := range effect.Changes {
		switch c.Kind {
		case tags.Create:
			created[c.ARN], whole[c.ARN] = true, true
		case tags.Delete:
			gone[c.ARN] = true
		case tags.Replace:
			whole[c.ARN] = true
		}
		if changed[c.ARN] == nil {
			changed[c.ARN] = map[string]bool{}
		}
		for _, t := range c.Set {
			changed[c.ARN][strings.ToLower(t.Key)] = true
		}
		for _, r := range c.Remove {
			changed[c.ARN][strings.ToLower(r.Key)] = true
		}
	}
	arns := effect.Touched // sorted, each once
	check := func(arn string, t time.Time) ([]schema.Violation, error) {
		rows, err := snap.Query(ctx, tagSetAtSQL, []any{arn, t.Format(time.RFC3339Nano), t.Format(time.RFC3339Nano)})
		if err != nil {
			return nil, fmt.Errorf("tags of %s: %w", arn, err)
		}
		if len(rows) == 0 {
			return nil, nil // not known then: nothing to judge
		}
		m, _ := rows[0]["tags"].(map[string]any)
		ts := make([]tags.Tag, 0, len(m))
		for k, v := range m {
			ts = append(ts, tags.Tag{Key: k, Value: fmt.Sprint(v)})
		}
		slices.SortFunc(ts, func(a, b tags.Tag) int { return strings.Compare(a.Key, b.Key) })
		res := schema.Resource{ARN: arn, Tags: ts}
		if a, ok := tags.ParseARN(arn); ok && a.Account == "" {
			res.Account = ev.RecipientAccountID.V // S3 buckets: the account that owns the call
		}
		return rb.Schema.Check(res), nil
	}
	// The grace of the resources the event created; their violations
	// then, kept for when there is no grace to wait for.
	var grace time.Duration
	atEvent := map[string][]schema.Violation{}
	for _, arn := range arns {
		if !created[arn] || gone[arn] {
			continue
		}
		vs, err := check(arn, at)
		if err != nil {
			return nil, time.Time{}, err
		}
		atEvent[arn] = vs
		for _, v := range vs {
			grace = max(grace, v.Grace)
		}
	}
	if grace > 0 && now.Before(at.Add(grace)) {
		return nil, at.Add(grace), nil
	}
	out = []any{}
	for _, arn := range arns {
		if gone[arn] {
			continue
		}
		vs, seen := atEvent[arn]
		if !seen || grace > 0 {
			t := at
			if created[arn] {
				t = at.Add(grace)
			}
			var err error
			if vs, err = check(arn, t); err != nil {
				return nil, time.Time{}, err
			}
		}
		for _, v := range vs {
			// by_event: the event made this so, by setting or removing the
			// key, or by setting the whole tag set.
			byEvent := whole[arn] || changed[arn][strings.ToLower(v.Key)] ||
				(v.Code == schema.Untagged && len(changed[arn]) > 0)
			out = append(out, map[string]any{
				"arn": v.ARN, "code": v.Code, "key": v.Key, "value": v.Value, "rule": v.Rule,
				"message": v.Message, "enforced": v.Enforced, "grace": v.Grace.String(), "by_event": byEvent,
			})
		}
	}
	return out, time.Time{}, nil
}
