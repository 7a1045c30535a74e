package server

import (
	"math"
	"sync"
	"time"
)

// limiter is a token's rate limit, a token bucket: burst requests at
// once, refilled at rate a second. Safe for concurrent use.
type limiter struct {
	rate, burst float64

	mu     sync.Mutex
	tokens float64
	last   time.Time
}

// newLimiter is a full bucket for rate requests a second and burst at
// once; burst 0 means the rate rounded up, at least 1. Nil when rate is
// 0: no limit.
func newLimiter(rate float64, burst int) *limiter {
	if rate <= 0 {
		return nil
	}
	b := float64(burst)
	if burst <= 0 {
		b = max(1, math.Ceil(rate))
	}
	return &limiter{rate: rate, burst: b, tokens: b}
}

// take spends one request at now, or, when the bucket is empty, spends
// nothing and returns how long until a request is allowed.
func (l *limiter) take(now time.Time) (ok bool, wait time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.last.IsZero() && now.After(l.last) {
		l.tokens = min(l.burst, l.tokens+now.Sub(l.last).Seconds()*l.rate)
	}
	if now.After(l.last) {
		l.last = now
	}
	if l.tokens >= 1 {
		l.tokens--
		return true, 0
	}
	return false, time.Duration((1 - l.tokens) / l.rate * float64(time.Second))
}
