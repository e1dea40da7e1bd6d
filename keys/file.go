package keys

import (
	"crypto"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// maxKeyFileSize bounds a private JWK file; real ones are a few hundred bytes.
const maxKeyFileSize = 16 << 10

// WritePrivateJWK writes key as a private JWK to path with mode 0600. The write is atomic:
// a temporary file in the same folder is created with mode 0600, written, synced and then
// linked into place (falling back to a rename where hard links are not available), and the
// folder is synced. An existing file at path is never replaced: the result is then
// ErrExists.
func WritePrivateJWK(path string, key crypto.Signer) error {
	data, err := MarshalPrivateJWK(key)
	if err != nil {
		return err
	}
	data = append(data, '\n')
	defer func() { clear(data) }()
	if _, err := os.Lstat(path); err == nil {
		return fmt.Errorf("%w: %s", ErrExists, path)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("write key file: %w", err)
	}
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, ".tmp-jwk-*")
	if err != nil {
		return fmt.Errorf("write key file: %w", err)
	}
	tmpName := tmp.Name()
	defer func() {
		if tmp != nil {
			_ = tmp.Close()
		}
		_ = os.Remove(tmpName)
	}()
	if err := tmp.Chmod(0o600); err != nil {
		return fmt.Errorf("write key file: %w", err)
	}
	if _, err := tmp.Write(data); err != nil {
		return fmt.Errorf("write key file: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("write key file: %w", err)
	}
	if err := tmp.Close(); err != nil {
		tmp = nil
		return fmt.Errorf("write key file: %w", err)
	}
	tmp = nil
	if err := placeNoReplace(tmpName, path); err != nil {
		return err
	}
	return syncDir(dir)
}

// placeNoReplace moves the finished temporary file to path unless path exists. A hard
// link fails atomically when the target exists; where links are unsupported, a rename
// after a final existence check is the best available.
func placeNoReplace(tmpName, path string) error {
	err := os.Link(tmpName, path)
	if err == nil {
		return nil
	}
	if errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("%w: %s", ErrExists, path)
	}
	if _, statErr := os.Lstat(path); statErr == nil {
		return fmt.Errorf("%w: %s", ErrExists, path)
	}
	if err := os.Rename(tmpName, path); err != nil {
		return fmt.Errorf("write key file: %w", err)
	}
	return nil
}

// syncDir flushes a folder entry so that a rename or link survives a crash.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("sync key folder: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, os.ErrInvalid) {
		return fmt.Errorf("sync key folder: %w", err)
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
