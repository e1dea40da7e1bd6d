package keys

import (
	"crypto"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"

	"github.com/civitas-net/civitas/internal/atomicfile"
)

// maxKeyFileSize bounds a private JWK file; real ones are a few hundred bytes.
const maxKeyFileSize = 16 << 10

// WritePrivateJWK writes key as a private JWK to path with mode 0600. The write is atomic
// (see package internal/atomicfile): a temporary file in the same folder is created with
// mode 0600, written, synced and then linked into place, and the folder is synced. An
// existing file at path (or a symbolic link, even a dangling one) is never replaced: the
// result is then ErrExists.
func WritePrivateJWK(path string, key crypto.Signer) error {
	data, err := MarshalPrivateJWK(key)
	if err != nil {
		return err
	}
	data = append(data, '\n')
	defer clear(data)
	if err := atomicfile.Create(path, data, 0o600); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("%w: %s", ErrExists, path)
		}
		return fmt.Errorf("write key file: %w", err)
	}
	return nil
}

// LoadPrivateJWK reads a private JWK file written by WritePrivateJWK (or any strict
// RFC 7517 JWK of a supported type). The file must be a regular file of at most 16 KiB.
// Errors name the file but never contain key material.
func LoadPrivateJWK(path string) (crypto.Signer, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("load key file: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("load key file: %w", err)
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%w: %s is not a regular file", ErrInvalidKey, path)
	}
	if st.Size() > maxKeyFileSize {
		return nil, fmt.Errorf("%w: %s is larger than %d bytes", ErrInvalidKey, path, maxKeyFileSize)
	}
	data, err := io.ReadAll(io.LimitReader(f, maxKeyFileSize+1))
	defer clear(data)
	if err != nil {
		return nil, fmt.Errorf("load key file: %w", err)
	}
	if len(data) > maxKeyFileSize {
		return nil, fmt.Errorf("%w: %s is larger than %d bytes", ErrInvalidKey, path, maxKeyFileSize)
	}
	key, err := ParsePrivateJWK(data)
	if err != nil {
		return nil, fmt.Errorf("load key file %s: %w", path, err)
	}
	return key, nil
}
