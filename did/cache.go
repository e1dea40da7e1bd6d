package did

import (
	"sync"
	"time"
)

// boundedCache is a map with a size bound and optional expiry. When full, expired entries
// are dropped first, then arbitrary ones. It is safe for concurrent use.
type boundedCache[V any] struct {
	mu  sync.Mutex
	max int
	m   map[string]cacheEntry[V]
}

type cacheEntry[V any] struct {
	v       V
	expires time.Time // zero: never
}

func newBoundedCache[V any](max int) *boundedCache[V] {
	return &boundedCache[V]{max: max, m: make(map[string]cacheEntry[V])}
}

// get returns the live entry for key at time now.
func (c *boundedCache[V]) get(key string, now time.Time) (V, bool) {
	var zero V
	if c == nil || c.max <= 0 {
		return zero, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[key]
	if !ok {
		return zero, false
	}
	if !e.expires.IsZero() && !now.Before(e.expires) {
		delete(c.m, key)
		return zero, false
	}
	return e.v, true
}

// put stores v under key until expires (zero: no expiry).
func (c *boundedCache[V]) put(key string, v V, expires time.Time, now time.Time) {
	if c == nil || c.max <= 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.m[key]; !ok && len(c.m) >= c.max {
		for k, e := range c.m {
			if !e.expires.IsZero() && !now.Before(e.expires) {
				delete(c.m, k)
			}
		}
		for k := range c.m {
			if len(c.m) < c.max {
				break
			}
			delete(c.m, k)
		}
	}
	c.m[key] = cacheEntry[V]{v: v, expires: expires}
}

// len returns the number of stored entries, live or not.
func (c *boundedCache[V]) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.m)
}
