package engine

import (
	"fmt"
	"sync"
	"time"
)

// Cache keeps query results while they cannot have changed: an entry is
// keyed by the translated query, its arguments and the store's watermark
// when it ran, so any Commit makes it unreachable, and it expires after
// TTL in any case. It is safe for concurrent use.
type Cache struct {
	ttl     time.Duration
	now     func() time.Time
	mu      sync.Mutex
	entries map[string]cacheEntry
	hits    int64
	misses  int64
}

type cacheEntry struct {
	rows []map[string]any
	at   time.Time
}

// NewCache is a Cache whose entries live at most ttl, timed by now (nil
// means time.Now).
func NewCache(ttl time.Duration, now func() time.Time) *Cache {
	if now == nil {
		now = time.Now
	}
	return &Cache{ttl: ttl, now: now, entries: map[string]cacheEntry{}}
}

// Stats returns the hits and misses so far.
func (c *Cache) Stats() (hits, misses int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.hits, c.misses
}

func cacheKey(sql string, args []any, watermark int64) string {
	return fmt.Sprintf("%d\x00%s\x00%q", watermark, sql, args)
}

func (c *Cache) get(sql string, args []any, watermark int64) ([]map[string]any, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[cacheKey(sql, args, watermark)]
	if !ok || c.now().Sub(e.at) > c.ttl {
		c.misses++
		return nil, false
	}
	c.hits++
	return e.rows, true
}

func (c *Cache) put(sql string, args []any, watermark int64, rows []map[string]any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	for k, e := range c.entries { // drop what expired, so the map stays small
		if now.Sub(e.at) > c.ttl {
			delete(c.entries, k)
		}
	}
	c.entries[cacheKey(sql, args, watermark)] = cacheEntry{rows: rows, at: now}
}
