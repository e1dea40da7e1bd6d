package keystore

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/civitas-net/civitas/internal/atomicfile"
)

// minSecretFile is the shortest secret SecretFile accepts from an existing file.
const minSecretFile = 16

// SecretFile returns the secret kept in the file at path, creating the file (mode 0600,
// 32 random bytes, base64url) when it does not exist. It is what a data folder uses to
// seal its keys when no passphrase is given. A file readable by group or others, or
// holding fewer than 16 characters, is refused; the secret never appears in an error.
func SecretFile(path string) ([]byte, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		var b [32]byte
		rand.Read(b[:])
		fresh := []byte(base64.RawURLEncoding.EncodeToString(b[:]))
		if err := atomicfile.Create(path, fresh, 0o600); err != nil && !errors.Is(err, os.ErrExist) {
			return nil, fmt.Errorf("create secret file: %w", err)
		}
		data, err = os.ReadFile(path)
	}
	if err != nil {
		return nil, fmt.Errorf("read secret file: %w", err)
	}
	if info, err := os.Stat(path); err == nil && info.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("%s is readable by others (mode %v); chmod 600 it", path, info.Mode().Perm())
	}
	secret := []byte(strings.TrimSpace(string(data)))
	if len(secret) < minSecretFile {
		return nil, fmt.Errorf("%s is too short to be a secret", path)
	}
	return secret, nil
}
