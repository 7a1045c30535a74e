package store

import (
	"context"
	"database/sql"
	"fmt"
	"maps"
	"math"
	"slices"
	"time"
)

// recentKeys is a Writer's exact copy of the keys of the stored events
// from a minute of event time on (floor): a commit whose events are all at
// or after floor is checked for duplicates against it, in memory, instead
// of by a query over the store's latest row group, which on a live feed
// holds every recent event (about 3 ms a commit in serve).
//
// It is exact because a Writer is the store's only writer while it is
// open: it is loaded from the store when first needed and then only the
// Writer's own commits add to it. Keys are kept per minute of eventTime
// (a key includes eventTime, so an event's key is always in the same
// minute), for window minutes behind the newest event and at most max
// keys; floor rises as older minutes are let go. An event stamped more
// than recentFuture past the clock (a skewed or forged eventTime) is
// held but is not the newest: one such event would otherwise move the
// window past every real one, for good, and each commit would query the
// store again.
type recentKeys struct {
	window   int64 // minutes kept behind the newest event
	max      int   // keys kept at most
	loaded   bool
	floor    int64 // every stored key from this minute on is held
	newest   int64 // minute of the newest stored event, within the horizon
	n        int
	byMinute map[int64]map[[2]uint64]struct{}
	now      func() time.Time
}

// Defaults for recentKeys: CloudTrail's EventBridge deliveries arrive
// seconds to minutes after their eventTime, its S3 files 5 to 15
// minutes after. At 1,000 events/s fifteen minutes is 900,000 keys,
// about 40 MB.
const (
	recentWindow  = 15
	recentMaxKeys = 1 << 20
	recentFuture  = time.Hour
)

func newRecentKeys() *recentKeys {
	return &recentKeys{window: recentWindow, max: recentMaxKeys, now: time.Now}
}

// horizon is the latest minute that may be the newest.
func (r *recentKeys) horizon() int64 { return minuteOf(r.now().Add(recentFuture)) }

// minuteOf is t's minute since the epoch, rounded down.
func minuteOf(t time.Time) int64 {
	s := t.Unix()
	if s < 0 && s%60 != 0 {
		return s/60 - 1
	}
	return s / 60
}

// load reads the keys of the last window minutes of stored events.
func (r *recentKeys) load(ctx context.Context, q rowQuerier) error {
	r.byMinute, r.n, r.loaded = map[int64]map[[2]uint64]struct{}{}, 0, false
	var newest sql.NullTime
	if err := q.QueryRowContext(ctx, `SELECT max(eventTime) FROM event_store WHERE eventTime < ?::TIMESTAMP`,
		time.Unix((r.horizon()+1)*60, 0).UTC()).Scan(&newest); err != nil {
		return fmt.Errorf("load recent keys: %w", err)
	}
	// With no event before the horizon, every key is held: those past it,
	// if any.
	r.floor, r.newest = math.MinInt64, math.MinInt64
	from := time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC)
	if newest.Valid {
		r.newest = minuteOf(newest.Time)
		r.floor = r.newest - r.window
		from = time.Unix(r.floor*60, 0).UTC()
	}
	rows, err := q.QueryContext(ctx, `SELECT key_hi, key_lo, eventTime FROM event_store WHERE eventTime >= ?::TIMESTAMP`, from)
	if err != nil {
		return fmt.Errorf("load recent keys: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var k [2]uint64
		var t time.Time
		if err := rows.Scan(&k[0], &k[1], &t); err != nil {
			return fmt.Errorf("load recent keys: %w", err)
		}
		r.put(k, minuteOf(t))
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("load recent keys: %w", err)
	}
	r.trim()
	r.loaded = true
	return nil
}

// rowQuerier is the part of *sql.Tx that load needs.
type rowQuerier interface {
	querier
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// covers reports whether every stored key of minute m or later is held.
func (r *recentKeys) covers(m int64) bool { return r.loaded && m >= r.floor }

// has reports whether k, of minute m (covered), is stored.
func (r *recentKeys) has(k [2]uint64, m int64) bool {
	_, ok := r.byMinute[m][k]
	return ok
}

// put notes k, of minute m, as stored; below floor it is not kept.
func (r *recentKeys) put(k [2]uint64, m int64) {
	if m < r.floor {
		return
	}
	b := r.byMinute[m]
	if b == nil {
		b = map[[2]uint64]struct{}{}
		r.byMinute[m] = b
	}
	if _, ok := b[k]; !ok {
		b[k] = struct{}{}
		r.n++
	}
	if m <= r.horizon() {
		r.newest = max(r.newest, m)
	}
}

// trim raises floor to window minutes behind the newest event, and
// further while more than max keys are held, letting go of the minutes
// below it.
func (r *recentKeys) trim() {
	if r.newest == math.MinInt64 {
		return
	}
	floor := max(r.floor, r.newest-r.window)
	for _, m := range slices.Sorted(maps.Keys(r.byMinute)) {
		if m >= floor && (r.n <= r.max || m == r.newest) {
			break
		}
		r.n -= len(r.byMinute[m])
		delete(r.byMinute, m)
		floor = max(floor, m+1)
	}
	r.floor = floor
}
