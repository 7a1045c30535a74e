package engine

import (
	"context"
	"time"

	"github.com/trailbook/trailbook/internal/cloudtrail"
)

// TimedSnapshot is a Snapshot that adds up the time spent in its calls,
// to tell the engine's own cost from the store's. It is not safe for
// concurrent use.
type TimedSnapshot struct {
	Snapshot
	Spent time.Duration
}

func (t *TimedSnapshot) Query(ctx context.Context, q string, args []any) ([]map[string]any, error) {
	defer t.since(time.Now())
	return t.Snapshot.Query(ctx, q, args)
}

func (t *TimedSnapshot) Watermark(ctx context.Context) (int64, error) {
	defer t.since(time.Now())
	return t.Snapshot.Watermark(ctx)
}

func (t *TimedSnapshot) TagsBefore(ctx context.Context, arn string, ev *cloudtrail.Event) (map[string]string, bool, error) {
	defer t.since(time.Now())
	return t.Snapshot.TagsBefore(ctx, arn, ev)
}

func (t *TimedSnapshot) CooldownUntil(ctx context.Context, rb, dedup string) (time.Time, error) {
	defer t.since(time.Now())
	return t.Snapshot.CooldownUntil(ctx, rb, dedup)
}

func (t *TimedSnapshot) since(start time.Time) { t.Spent += time.Since(start) }
