package keys

import (
	"bytes"
	"crypto"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/civitas-net/civitas/internal/jsonstrict"
)

func TestWriteLoadPrivateJWK(t *testing.T) {
	for _, alg := range []Algorithm{Ed25519, P256} {
		t.Run(string(alg), func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "issuer.jwk")
			key, err := Generate(alg)
			if err != nil {
				t.Fatal(err)
			}
			if err := WritePrivateJWK(path, key); err != nil {
				t.Fatal(err)
			}
			st, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			if mode := st.Mode().Perm(); mode != 0o600 {
				t.Fatalf("key file mode %o, want 600", mode)
			}
			loaded, err := LoadPrivateJWK(path)
			if err != nil {
				t.Fatal(err)
			}
			type privEqual interface{ Equal(crypto.PrivateKey) bool }
			if !loaded.(privEqual).Equal(key) {
				t.Fatal("loaded key differs from the written key")
			}
			entries, err := os.ReadDir(dir)
			if err != nil {
				t.Fatal(err)
			}
			if len(entries) != 1 {
				t.Fatalf("folder holds %d entries after the write, want only the key file", len(entries))
			}
		})
	}
}

func TestWritePrivateJWKRefusesOverwrite(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "k.jwk")
	first, err := Generate(Ed25519)
	if err != nil {
		t.Fatal(err)
	}
	if err := WritePrivateJWK(path, first); err != nil {
		t.Fatal(err)
	}
	before, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	second, err := Generate(Ed25519)
	if err != nil {
		t.Fatal(err)
	}
	if err := WritePrivateJWK(path, second); !errors.Is(err, ErrExists) {
		t.Fatalf("second write error = %v, want ErrExists", err)
	}
	after, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(before, after) {
		t.Fatal("existing key file was changed")
	}
	// A dangling symlink counts as existing too: nothing is written through it.
	link := filepath.Join(dir, "link.jwk")
	if err := os.Symlink(filepath.Join(dir, "elsewhere.jwk"), link); err != nil {
		t.Fatal(err)
	}
	if err := WritePrivateJWK(link, second); !errors.Is(err, ErrExists) {
		t.Fatalf("write over symlink error = %v, want ErrExists", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "elsewhere.jwk")); !errors.Is(err, fs.ErrNotExist) {
		t.Fatal("write followed the symlink")
	}
	// (The fallback for filesystems without hard links is tested in internal/atomicfile.)
}

func TestWritePrivateJWKErrors(t *testing.T) {
	key, err := Generate(P256)
	if err != nil {
		t.Fatal(err)
	}
	if err := WritePrivateJWK(filepath.Join(t.TempDir(), "missing", "k.jwk"), key); err == nil {
		t.Error("write into a missing folder succeeded")
	}
	if err := WritePrivateJWK(filepath.Join(t.TempDir(), "k.jwk"), nil); !errors.Is(err, ErrInvalidKey) {
		t.Errorf("nil key: error = %v, want ErrInvalidKey", err)
	}
}

func TestLoadPrivateJWKRejectsTampered(t *testing.T) {
	key, err := Generate(P256)
	if err != nil {
		t.Fatal(err)
	}
	good, err := MarshalPrivateJWK(key)
	if err != nil {
		t.Fatal(err)
	}
	other, err := Generate(P256)
	if err != nil {
		t.Fatal(err)
	}
	otherJWK, err := MarshalPrivateJWK(other)
	if err != nil {
		t.Fatal(err)
	}
	var gm, om map[string]string
	if err := json.Unmarshal(good, &gm); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(otherJWK, &om); err != nil {
		t.Fatal(err)
	}
	swap := func(old, new string) []byte { return []byte(strings.Replace(string(good), old, new, 1)) }

	tests := []struct {
		name    string
		data    []byte
		wantErr error
	}{
		{"wrong crv", swap(`"P-256"`, `"P-384"`), ErrUnsupportedKey},
		{"short x", swap(gm["x"], gm["x"][:40]), ErrInvalidKey},
		{"mismatched d", swap(gm["d"], om["d"]), ErrInvalidKey},
		{"duplicate keys", swap(`"d":`, `"d":"`+om["d"]+`","d":`), jsonstrict.ErrDuplicateKey},
		{"huge file", append(bytes.Repeat([]byte(" "), maxKeyFileSize), good...), ErrInvalidKey},
		{"empty file", nil, ErrInvalidKey},
		{"truncated", good[:len(good)/2], ErrInvalidKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "k.jwk")
			if err := os.WriteFile(path, tt.data, 0o600); err != nil {
				t.Fatal(err)
			}
			got, err := LoadPrivateJWK(path)
			if !errors.Is(err, tt.wantErr) || got != nil {
				t.Fatalf("LoadPrivateJWK = %v, %v; want error %v", got != nil, err, tt.wantErr)
			}
			for _, secret := range []string{gm["d"], om["d"]} {
				if strings.Contains(err.Error(), secret) {
					t.Fatalf("error contains private key material: %v", err)
				}
			}
		})
	}
	// The untampered bytes load, so each failure above comes from its tampering.
	path := filepath.Join(t.TempDir(), "k.jwk")
	if err := os.WriteFile(path, good, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadPrivateJWK(path); err != nil {
		t.Fatalf("untampered file rejected: %v", err)
	}
	if _, err := LoadPrivateJWK(t.TempDir()); !errors.Is(err, ErrInvalidKey) {
		t.Errorf("folder: error = %v, want ErrInvalidKey", err)
	}
	if _, err := LoadPrivateJWK(filepath.Join(t.TempDir(), "none")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: error = %v, want fs.ErrNotExist", err)
	}
}
