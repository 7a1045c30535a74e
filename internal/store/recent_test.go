package store

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/trailbook/trailbook/internal/cloudtrail"
)

// TestRecentKeys walks a Writer that remembers recent keys through the
// cases its in-memory duplicate check must get right: keys stored before
// it opened (read at its first Commit), keys it stored itself, events
// older than its window (checked by query), minutes it let go of to stay
// under its key limit, and a staged Commit, after which it reads the
// store again. Each step says whether the Commit's events were within
// the window, so the test fails if the memory path is never taken.
func TestRecentKeys(t *testing.T) {
	ctx := context.Background()
	s := openTemp(t)
	t0 := time.Date(2024, 5, 2, 10, 0, 0, 0, time.UTC)
	at := func(min int) time.Time { return t0.Add(time.Duration(min) * time.Minute) }
	ev := func(id string, min int) cloudtrail.Event { return sampleEvent(id, at(min)) }
	// Before the Writer: an old event, and one a minute before the newest.
	if _, err := s.Append(ctx, []File{{Source: "before", Records: 2, Events: []cloudtrail.Event{ev("old", 0), ev("b", 59)}}}); err != nil {
		t.Fatal(err)
	}

	w := newWriter(t, s)
	w.RememberRecent()
	w.recent.window, w.recent.max = 5, 4
	steps := []struct {
		name    string
		events  []cloudtrail.Event
		stageAt int
		covered bool // the events are within the window when committed
		stored  int
		dups    int
	}{
		{"loaded from the store", []cloudtrail.Event{ev("b", 59), ev("c", 60)}, stageEvery, true, 1, 1},
		{"stored by the writer", []cloudtrail.Event{ev("c", 60), ev("d", 61), ev("d", 61)}, stageEvery, true, 1, 2},
		{"older than the window", []cloudtrail.Event{ev("old", 0), ev("e", 61)}, stageEvery, false, 1, 1},
		// b, c, d, e and f are five keys over minutes 59 to 62: the
		// limit of four lets minute 59 go, and b with it.
		{"over the key limit", []cloudtrail.Event{ev("f", 62)}, stageEvery, true, 1, 0},
		{"a minute let go", []cloudtrail.Event{ev("b", 59), ev("g", 62)}, stageEvery, false, 1, 1},
		{"staged", []cloudtrail.Event{ev("h", 62), ev("f", 62)}, 1, true, 1, 1},
		{"after a staged commit", []cloudtrail.Event{ev("h", 62), ev("i", 63)}, stageEvery, true, 1, 1},
	}
	for _, st := range steps {
		w.stageAt = st.stageAt
		for i := range st.events {
			if err := w.Add(ctx, &File{Source: fmt.Sprint(st.name, i), Records: 1, Events: st.events[i : i+1]}); err != nil {
				t.Fatal(err)
			}
		}
		minT := st.events[0].EventTime
		for _, e := range st.events {
			if e.EventTime.Before(minT) {
				minT = e.EventTime
			}
		}
		// Before the first Commit the window is loaded by the Commit.
		if w.recent.loaded {
			if got := w.recent.covers(minuteOf(minT)); got != st.covered {
				t.Errorf("%s: covered %v, want %v (floor %d, minute %d)", st.name, got, st.covered, w.recent.floor, minuteOf(minT))
			}
		}
		c, err := w.Commit(ctx)
		if err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		if c.Stored != st.stored || c.Duplicates != st.dups {
			t.Errorf("%s: stored %d, duplicates %d; want %d, %d", st.name, c.Stored, c.Duplicates, st.stored, st.dups)
		}
	}
	if n := queryString(t, s.DB(), `SELECT count(*) FROM events`); n != "9" {
		t.Errorf("%s events stored, want 9 (old, b to i)", n)
	}
	if w.recent.n > w.recent.max {
		t.Errorf("%d keys held, over the limit of %d", w.recent.n, w.recent.max)
	}
}

func TestMinuteOf(t *testing.T) {
	for _, c := range []struct {
		t    time.Time
		want int64
	}{
		{time.Unix(0, 0), 0},
		{time.Unix(59, 999), 0},
		{time.Unix(60, 0), 1},
		{time.Unix(-1, 0), -1},
		{time.Unix(-60, 0), -1},
		{time.Unix(-61, 0), -2},
	} {
		if got := minuteOf(c.t); got != c.want {
			t.Errorf("minuteOf(%v) = %d, want %d", c.t.Unix(), got, c.want)
		}
	}
}

// TestRecentKeysIgnoreFutureTimes: an event stamped far past the clock is
// held, but does not move the window past the current events, neither as a
// Writer stores it nor when a new Writer loads the window from the store.
func TestRecentKeysIgnoreFutureTimes(t *testing.T) {
	ctx := context.Background()
	s := openTemp(t)
	now := time.Date(2024, 5, 2, 11, 0, 0, 0, time.UTC)
	future := sampleEvent("from-2099", time.Date(2099, 1, 1, 0, 0, 0, 0, time.UTC))
	current := []cloudtrail.Event{sampleEvent("a", now.Add(-2*time.Minute)), sampleEvent("b", now.Add(-time.Minute))}
	for round := range 2 { // the first Writer stores them, the second loads them
		w := newWriter(t, s)
		w.RememberRecent()
		w.recent.now = func() time.Time { return now }
		events := append(slices.Clone(current), future)
		if err := w.Add(ctx, &File{Source: fmt.Sprint("round", round), Records: len(events), Events: events}); err != nil {
			t.Fatal(err)
		}
		c, err := w.Commit(ctx)
		if err != nil {
			t.Fatal(err)
		}
		want := [2]int{3, 0} // stored, duplicates
		if round == 1 {
			want = [2]int{0, 3}
		}
		if got := [2]int{c.Stored, c.Duplicates}; got != want {
			t.Errorf("round %d: stored and duplicates %v, want %v", round, got, want)
		}
		if !w.recent.covers(minuteOf(current[0].EventTime)) {
			t.Errorf("round %d: the window (floor %d) does not cover the current events (minute %d)", round, w.recent.floor, minuteOf(current[0].EventTime))
		}
		if hi, lo := eventKey(&future); !w.recent.has([2]uint64{hi, lo}, minuteOf(future.EventTime)) {
			t.Errorf("round %d: the future event's key is not held", round)
		}
		w.Close()
	}
}
