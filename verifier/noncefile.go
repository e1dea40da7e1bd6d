package verifier

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/civitas-net/civitas/internal/atomicfile"
	"github.com/civitas-net/civitas/internal/filelock"
)

// FileNonceStore is a NonceStore kept in a file, for verifiers that run as separate
// processes one after another (the CLI, a kiosk restarted at night): a nonce accepted by
// one run is refused by the next. It holds SHA-256 hashes of nonces, never the nonces,
// and forgets them when they expire. Writes are atomic and serialized with a lock file.
type FileNonceStore struct {
	path string
	max  int
	now  func() time.Time
}

// NewFileNonceStore returns a store in the file at path (its folder is created, mode
// 0700, at the first use), holding at most max unexpired nonces (100,000 when max is
// not positive).
func NewFileNonceStore(path string, max int, now func() time.Time) (*FileNonceStore, error) {
	if path == "" {
		return nil, errors.New("nonce store: a file path is required")
	}
	if max <= 0 {
		max = 100_000
	}
	if now == nil {
		now = time.Now
	}
	return &FileNonceStore{path: path, max: max, now: now}, nil
}

// Use implements NonceStore.
func (s *FileNonceStore) Use(_ context.Context, nonce string, expires time.Time) (bool, error) {
	if err := os.MkdirAll(filepath.Dir(s.path), 0o700); err != nil {
		return false, fmt.Errorf("nonce store: %w", err)
	}
	lock, err := filelock.Lock(s.path+".lock", true)
	if err != nil {
		return false, fmt.Errorf("nonce store: %w", err)
	}
	defer lock.Close()
	used := map[string]int64{}
	data, err := os.ReadFile(s.path)
	switch {
	case errors.Is(err, os.ErrNotExist):
	case err != nil:
		return false, fmt.Errorf("nonce store: %w", err)
	default:
		if err := json.Unmarshal(data, &used); err != nil {
			return false, fmt.Errorf("nonce store %s is damaged: %w", s.path, err)
		}
	}
	now := s.now().Unix()
	for k, exp := range used {
		if exp <= now {
			delete(used, k)
		}
	}
	h := sha256.Sum256([]byte(nonce))
	key := hex.EncodeToString(h[:])
	if _, ok := used[key]; ok {
		return false, nil
	}
	if len(used) >= s.max {
		return false, ErrNonceStoreFull
	}
	used[key] = expires.Unix()
	out, err := json.Marshal(used)
	if err != nil {
		return false, err
	}
	if err := atomicfile.Write(s.path, out, 0o600); err != nil {
		return false, fmt.Errorf("nonce store: %w", err)
	}
	return true, nil
}
