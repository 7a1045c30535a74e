package gen

import (
	"math"
	"sort"
)

// clock maps a fraction of a stream's events to a moment in the span, with
// more traffic in local business hours and less at night and at weekends,
// as real accounts show. The mapping is the inverse of a piecewise-linear
// cumulative rate, so it is strictly increasing: events placed at
// increasing fractions get non-decreasing times.
type clock struct {
	start  float64   // unix seconds
	bucket float64   // seconds per bucket
	cum    []float64 // cum[i] is the weight before bucket i; len = buckets+1
}

const maxClockBuckets = 20000

// newClock builds the clock for a span of the given seconds starting at
// start (unix seconds), for a region whose local time is utcOffset hours
// from UTC.
func newClock(start, span int64, utcOffset int) clock {
	n := int(span / 3600)
	n = max(1, min(n, maxClockBuckets))
	c := clock{start: float64(start), bucket: float64(span) / float64(n), cum: make([]float64, n+1)}
	for i := 0; i < n; i++ {
		mid := c.start + float64((float64(i)+0.5)*c.bucket) + float64(utcOffset*3600)
		c.cum[i+1] = c.cum[i] + rate(int64(math.Floor(mid)))
	}
	return c
}

// rate is the relative event rate at a local unix time: a floor of
// automated traffic plus a human day.
func rate(local int64) float64 {
	days := local / 86400
	hour := local % 86400 / 3600
	if local < 0 {
		days--
		hour = (local%86400 + 86400) % 86400 / 3600
	}
	weekday := (days + 4) % 7 // 1970-01-01 was a Thursday; 0 = Sunday
	if weekday < 0 {
		weekday += 7
	}
	human := 0.0
	switch {
	case hour >= 9 && hour < 18:
		human = 2.6
	case hour >= 7 && hour < 9, hour >= 18 && hour < 21:
		human = 1.0
	}
	if weekday == 0 || weekday == 6 {
		human *= 0.15
	}
	return 1 + human
}

// at returns the unix second for fraction x in [0,1). Products are
// rounded explicitly (float64 conversions) so no platform fuses them
// into multiply-adds: the result is the same on every architecture.
func (c *clock) at(x float64) int64 {
	n := len(c.cum) - 1
	target := float64(x * c.cum[n])
	k := sort.SearchFloat64s(c.cum, target)
	// SearchFloat64s gives the first cum >= target; we want the bucket
	// whose range [cum[k], cum[k+1]) holds target.
	if k > n || (k < len(c.cum) && c.cum[k] > target) {
		k--
	}
	k = max(0, min(k, n-1))
	w := c.cum[k+1] - c.cum[k]
	frac := 0.0
	if w > 0 {
		frac = (target - c.cum[k]) / w
	}
	frac = max(0, min(frac, 1))
	return int64(math.Floor(c.start + float64((float64(k)+frac)*c.bucket)))
}
