package gen

import (
	"testing"
	"time"
)

func TestClockMonotonicWithinSpan(t *testing.T) {
	start := time.Date(2024, 4, 15, 0, 0, 0, 0, time.UTC).Unix()
	span := int64(30 * 86400)
	c := newClock(start, span, -4)
	prev := int64(0)
	const n = 200000
	byHour := [24]int{}
	for i := 0; i < n; i++ {
		at := c.at((float64(i) + 0.5) / n)
		if at < prev || at < start || at >= start+span {
			t.Fatalf("event %d at %d (previous %d)", i, at, prev)
		}
		prev = at
		byHour[((at-4*3600)%86400+86400)%86400/3600]++
	}
	if byHour[14] < 2*byHour[3] {
		t.Errorf("2pm has %d events, 3am %d: want a business day", byHour[14], byHour[3])
	}
}

func TestClockShortSpan(t *testing.T) {
	c := newClock(1000, 1, 0)
	for _, x := range []float64{0, 0.5, 0.999999} {
		if at := c.at(x); at != 1000 {
			t.Errorf("at(%v) = %d", x, at)
		}
	}
}
