package statushttp

import (
	"context"
	"fmt"
	"time"

	"github.com/civitas-net/civitas/statuslist"
	"github.com/civitas-net/civitas/verifier"
)

// listEntry is a verified status list. It is never modified once cached; a
// revalidation stores a changed copy.
type listEntry struct {
	issuer     string
	purposes   []string
	list       *statuslist.List // only read (Get) once cached
	validUntil time.Time        // of the list credential; zero: none
	etag       string
	fetched    time.Time     // last fetched or revalidated
	maxAge     time.Duration // freshness from fetched
}

// valid reports whether the list credential is still within its validity at now.
func (e *listEntry) valid(now time.Time) bool {
	return e.validUntil.IsZero() || !now.After(e.validUntil.Add(verifier.DefaultLeeway))
}

// fresh reports whether the entry may be used without asking the server.
func (e *listEntry) fresh(now time.Time) bool {
	return now.Before(e.fetched.Add(e.maxAge)) && e.valid(now)
}

// usableStale reports whether the entry may stand in for a failed refetch.
func (e *listEntry) usableStale(now time.Time, maxStale time.Duration) bool {
	return maxStale > 0 && !now.After(e.fetched.Add(maxStale)) && e.valid(now)
}

// callKey identifies a fetch: the list is verified for one issuer.
type callKey struct {
	url, issuer string
}

// call is a fetch in flight; entry and err are set before done is closed.
type call struct {
	done  chan struct{}
	entry *listEntry
	err   error
}

// lookup returns the list at listURL, verified for issuer: from the cache while fresh,
// else from one fetch shared by every concurrent lookup, else (when the fetch fails) a
// cached list within the staleness bound.
func (c *Checker) lookup(ctx context.Context, listURL, issuer string) (*listEntry, error) {
	now := c.now()
	c.mu.Lock()
	if e := c.cache[listURL]; e != nil && e.fresh(now) {
		c.mu.Unlock()
		return e, nil
	}
	key := callKey{url: listURL, issuer: issuer}
	cl, inFlight := c.calls[key]
	if !inFlight && ctx.Err() != nil {
		c.mu.Unlock()
		return nil, fmt.Errorf("%w: %s: %w", ErrFetch, listURL, ctx.Err())
	}
	if !inFlight {
		cl = &call{done: make(chan struct{})}
		c.calls[key] = cl
		// The fetch outlives a caller that gives up: others may be waiting for it, and
		// its result is cached. It is bounded by the Checker's timeouts.
		go c.run(context.WithoutCancel(ctx), key, c.cache[listURL], cl)
	}
	joined := c.joined
	c.mu.Unlock()
	if inFlight && joined != nil {
		joined()
	}
	select {
	case <-cl.done:
	case <-ctx.Done():
		return nil, fmt.Errorf("%w: %s: %w", ErrFetch, listURL, ctx.Err())
	}
	if cl.err == nil {
		return cl.entry, nil
	}
	now = c.now()
	c.mu.Lock()
	e := c.cache[listURL]
	c.mu.Unlock()
	if e != nil && e.usableStale(now, c.maxStale) {
		return e, nil
	}
	return nil, cl.err
}

// run performs one shared fetch and publishes its result.
func (c *Checker) run(ctx context.Context, key callKey, prev *listEntry, cl *call) {
	var (
		e   *listEntry
		err error
	)
	defer func() {
		if r := recover(); r != nil {
			e, err = nil, fmt.Errorf("%w: %s: internal error: %v", ErrFetch, key.url, r)
		}
		c.mu.Lock()
		delete(c.calls, key)
		if err == nil {
			c.store(key.url, e)
		}
		c.mu.Unlock()
		cl.entry, cl.err = e, err
		close(cl.done)
	}()
	e, err = c.fetch(ctx, key.url, key.issuer, prev)
}

// store caches e under listURL, dropping the entry fetched longest ago when full. The
// caller holds c.mu.
func (c *Checker) store(listURL string, e *listEntry) {
	if _, ok := c.cache[listURL]; !ok && len(c.cache) >= c.cacheSize {
		var oldest string
		var oldestAt time.Time
		for u, o := range c.cache {
			if oldest == "" || o.fetched.Before(oldestAt) {
				oldest, oldestAt = u, o.fetched
			}
		}
		delete(c.cache, oldest)
	}
	c.cache[listURL] = e
}
