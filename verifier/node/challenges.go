package node

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/civitas-net/civitas/internal/atomicfile"
)

// maxChallenges bounds the challenges a door has open at once.
const maxChallenges = 10_000

// ErrTooManyChallenges reports a door asked for more open challenges than it keeps.
var ErrTooManyChallenges = errors.New("too many open challenges; wait for some to expire")

// challengeHash is how a challenge is kept on disk and in the ledger: its SHA-256, so
// that neither file holds a challenge that is still open.
func challengeHash(nonce string) string {
	h := sha256.Sum256([]byte(nonce))
	return hex.EncodeToString(h[:])
}

// Outcomes of consuming a challenge.
const (
	challengeFresh = iota
	challengeUnknown
	challengeUsed
)

// challengeSet holds the challenges a door handed out (by hash, with their expiry) and
// which of them have been answered. Each challenge answers one presentation.
//
// Open challenges are kept in a file (written atomically when a challenge is made),
// so that a challenge shown by "civitas node challenge" is known to the next
// "civitas node checkin". Which challenges were answered is not written here: each
// ledger entry carries the hash of the challenge it consumed, and Open marks the
// recent ones used, so a check-in is made durable by its ledger append alone.
type challengeSet struct {
	path string
	mu   sync.Mutex
	open map[string]int64 // hash → expiry, Unix seconds
	used map[string]bool  // hashes answered
}

// loadChallenges reads the open challenges in path.
func loadChallenges(path string) (*challengeSet, error) {
	s := &challengeSet{path: path, open: map[string]int64{}, used: map[string]bool{}}
	data, err := os.ReadFile(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return s, nil
	case err != nil:
		return nil, err
	}
	if err := json.Unmarshal(data, &s.open); err != nil {
		return nil, fmt.Errorf("%s is damaged (delete it to forget the open challenges): %w", path, err)
	}
	return s, nil
}

// add opens a challenge until expires and writes the open set.
func (s *challengeSet) add(nonce string, expires, now time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.prune(now)
	if len(s.open) >= maxChallenges {
		return ErrTooManyChallenges
	}
	h := challengeHash(nonce)
	s.open[h] = expires.Unix()
	raw, err := json.Marshal(s.open)
	if err == nil {
		err = atomicfile.Write(s.path, raw, 0o600)
	}
	if err != nil {
		delete(s.open, h)
		return err
	}
	return nil
}

// consume answers a challenge: challengeFresh the first time (it is then used),
// challengeUsed after that, challengeUnknown when it was never handed out or has
// expired.
func (s *challengeSet) consume(nonce string, now time.Time) int {
	h := challengeHash(nonce)
	s.mu.Lock()
	defer s.mu.Unlock()
	exp, ok := s.open[h]
	switch {
	case !ok || now.Unix() >= exp:
		return challengeUnknown
	case s.used[h]:
		return challengeUsed
	}
	s.used[h] = true
	return challengeFresh
}

// markUsed records hashes of challenges answered (from the ledger, at Open).
func (s *challengeSet) markUsed(hashes ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, h := range hashes {
		if _, ok := s.open[h]; ok {
			s.used[h] = true
		}
	}
}

// prune forgets expired challenges (in memory; the file follows at the next add).
func (s *challengeSet) prune(now time.Time) {
	for h, exp := range s.open {
		if exp <= now.Unix() {
			delete(s.open, h)
			delete(s.used, h)
		}
	}
}
