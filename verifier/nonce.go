package verifier

import (
	"context"
	"errors"
	"sync"
	"time"
)

// NonceStore remembers which presentation nonces have been accepted, so that each is
// accepted once. Implementations shared by several verifier processes (a database, a
// cache server) make replay protection hold across them.
type NonceStore interface {
	// Use records that nonce has been accepted and must be refused until expires. It
	// returns false, and records nothing, when the nonce was already recorded.
	Use(ctx context.Context, nonce string, expires time.Time) (fresh bool, err error)
}

// ErrNonceStoreFull is returned by MemoryNonceStore.Use when it holds its maximum of
// unexpired nonces. The verifier then refuses the presentation rather than forget a nonce.
var ErrNonceStoreFull = errors.New("nonce store is full")

// MemoryNonceStore is an in-process NonceStore with a bounded number of entries.
type MemoryNonceStore struct {
	mu   sync.Mutex
	max  int
	now  func() time.Time
	used map[string]time.Time
}

// NewMemoryNonceStore returns a store holding at most max unexpired nonces (100,000 when
// max is not positive). now is the clock used to forget expired nonces; nil means
// time.Now.
func NewMemoryNonceStore(max int, now func() time.Time) *MemoryNonceStore {
	if max <= 0 {
		max = 100_000
	}
	if now == nil {
		now = time.Now
	}
	return &MemoryNonceStore{max: max, now: now, used: make(map[string]time.Time)}
}

// Use implements NonceStore.
func (s *MemoryNonceStore) Use(_ context.Context, nonce string, expires time.Time) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	if exp, ok := s.used[nonce]; ok && now.Before(exp) {
		return false, nil
	}
	if len(s.used) >= s.max {
		for n, exp := range s.used {
			if !now.Before(exp) {
				delete(s.used, n)
			}
		}
		if len(s.used) >= s.max {
			return false, ErrNonceStoreFull
		}
	}
	s.used[nonce] = expires
	return true, nil
}
