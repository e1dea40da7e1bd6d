package statushttp

// SetJoinHook makes c call f whenever a lookup joins a fetch already in flight, so the
// singleflight test can wait until every caller has joined.
func SetJoinHook(c *Checker, f func()) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.joined = f
}

// CacheLen returns the number of cached lists.
func CacheLen(c *Checker) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.cache)
}
