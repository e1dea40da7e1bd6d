package wallet

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/civitas-net/civitas/internal/keystore"
)

var testPass = []byte("internal test passphrase")

func newTestStore(t testing.TB) (*Store, string) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "wallet")
	s, err := Init(dir, testPass, InitOptions{Params: keystore.MinParams})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s, dir
}

func testEntry(i int) Entry {
	raw := make([]byte, 100)
	_, _ = rand.Read(raw)
	return Entry{
		ID:       fmt.Sprintf("urn:uuid:%d", i),
		Format:   FormatVCJWT,
		Types:    []string{"VerifiableCredential", fmt.Sprintf("T%d", i%3)},
		Issuer:   "did:web:issuer.example",
		IssuedAt: time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC),
		Raw:      raw,
		AddedAt:  time.Date(2026, 2, 2, 3, 4, 5, 6, time.UTC),
	}
}

// TestSealFormatIsKeystores checks that the store's sealed blobs are keystore.Key.Seal
// blobs: each side opens what the other sealed, given the same key bytes (DeriveKey is
// Argon2id, so argon2.IDKey yields a keystore.Key's bytes).
func TestSealFormatIsKeystores(t *testing.T) {
	ks, err := keystore.NewKey(bytes.Repeat([]byte{7}, keystore.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	kr := &keyring{seal: ks}
	msg := []byte("a credential")
	got, err := ks.Open(kr.sealData(msg, adIndex), []byte(adIndex))
	if err != nil || !bytes.Equal(got, msg) {
		t.Fatalf("keystore cannot open the store's blob: %v", err)
	}
	got, err = kr.open(ks.Seal(msg, []byte(adIndex)), adIndex)
	if err != nil || !bytes.Equal(got, msg) {
		t.Fatalf("the store cannot open keystore's blob: %v", err)
	}
	if len(kr.sealData(msg, "")) != len(msg)+keystore.Overhead {
		t.Fatal("a sealed blob is not keystore.Overhead longer than its plaintext")
	}
	if _, err := kr.open(ks.Seal(msg, []byte(adIdentity)), adIndex); !errors.Is(err, errOpen) {
		t.Fatalf("a blob opened with the wrong additional data: %v", err)
	}
}

// TestCrashBetweenWrites replays the states a crash can leave and checks that the wallet
// opens in each.
func TestCrashBetweenWrites(t *testing.T) {
	t.Run("add: credential file written, index not", func(t *testing.T) {
		s, dir := newTestStore(t)
		if _, err := s.Add(testEntry(0)); err != nil {
			t.Fatal(err)
		}
		oldIndex, _ := os.ReadFile(filepath.Join(dir, indexFile))
		e := testEntry(1)
		if _, err := s.Add(e); err != nil {
			t.Fatal(err)
		}
		_ = s.Close()
		if err := os.WriteFile(filepath.Join(dir, indexFile), oldIndex, 0o600); err != nil {
			t.Fatal(err)
		}
		s, err := Open(dir, testPass)
		if err != nil {
			t.Fatalf("Open after the crash: %v", err)
		}
		defer s.Close()
		if n := len(s.List()); n != 1 {
			t.Fatalf("%d entries, want 1", n)
		}
		// The orphan is replaced when the credential is added again.
		e.Raw = []byte("different bytes")
		if _, err := s.Add(e); err != nil {
			t.Fatal(err)
		}
		if got, err := s.Get(e.ID); err != nil || !bytes.Equal(got.Raw, e.Raw) {
			t.Fatalf("Get after re-adding: %v", err)
		}
	})
	t.Run("delete: index written, credential file not removed", func(t *testing.T) {
		s, dir := newTestStore(t)
		e := testEntry(0)
		if _, err := s.Add(e); err != nil {
			t.Fatal(err)
		}
		path := s.credPath(e.ID)
		blob, _ := os.ReadFile(path)
		if err := s.Delete(e.ID); err != nil {
			t.Fatal(err)
		}
		_ = s.Close()
		if err := os.WriteFile(path, blob, 0o600); err != nil {
			t.Fatal(err)
		}
		s, err := Open(dir, testPass)
		if err != nil {
			t.Fatalf("Open after the crash: %v", err)
		}
		defer s.Close()
		if _, err := s.Get(e.ID); !errors.Is(err, ErrNotFound) {
			t.Fatalf("Get = %v, want ErrNotFound", err)
		}
	})
	t.Run("init: everything but the header", func(t *testing.T) {
		s, dir := newTestStore(t)
		_ = s.Close()
		if err := os.Remove(filepath.Join(dir, headerFile)); err != nil {
			t.Fatal(err)
		}
		if _, err := Open(dir, testPass); !errors.Is(err, ErrNotInitialized) {
			t.Fatalf("Open = %v, want ErrNotInitialized", err)
		}
		s, err := Init(dir, testPass, InitOptions{Params: keystore.MinParams})
		if err != nil {
			t.Fatalf("Init over the remains: %v", err)
		}
		_ = s.Close()
		if s, err = Open(dir, testPass); err != nil {
			t.Fatal(err)
		}
		_ = s.Close()
	})
}

// TestFailedIndexWrite makes the index write fail (a non-empty folder at its name) and
// checks that Add and Delete change nothing that shows, in memory or after reopening (a
// failed Add may leave an unlisted credential file).
func TestFailedIndexWrite(t *testing.T) {
	s, dir := newTestStore(t)
	kept := testEntry(0)
	if _, err := s.Add(kept); err != nil {
		t.Fatal(err)
	}
	index := filepath.Join(dir, indexFile)
	if err := os.Rename(index, index+".saved"); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(index, "x"), 0o700); err != nil {
		t.Fatal(err)
	}
	e := testEntry(1)
	if _, err := s.Add(e); err == nil {
		t.Fatal("Add succeeded without an index")
	}
	if err := s.Delete(kept.ID); err == nil {
		t.Fatal("Delete succeeded without an index")
	}
	if got := s.List(); len(got) != 1 || got[0].ID != kept.ID {
		t.Fatalf("List after failed writes = %+v", got)
	}
	if _, err := s.Get(kept.ID); err != nil {
		t.Fatalf("Get after a failed Delete: %v", err)
	}
	if err := os.RemoveAll(index); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(index+".saved", index); err != nil {
		t.Fatal(err)
	}
	// With the index back, writing works and the state is the one before.
	if _, err := s.Add(e); err != nil {
		t.Fatal(err)
	}
	_ = s.Close()
	s, err := Open(dir, testPass)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if n := len(s.List()); n != 2 {
		t.Fatalf("%d entries, want 2", n)
	}
}

func TestIndexCodec(t *testing.T) {
	s, _ := newTestStore(t)
	for i := range 5 {
		e := testEntry(i)
		if i == 3 {
			e.IssuedAt, e.AddedAt, e.ValidUntil = time.Time{}, time.Unix(minUnix, 1).UTC(), time.Unix(maxUnix, 999999999).UTC()
			e.Types = nil
		}
		if _, err := s.Add(e); err != nil {
			t.Fatal(err)
		}
	}
	plain := encodeIndex(s.list, nil, 0)
	recs, err := decodeIndex(plain)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(recs, s.list) {
		t.Fatal("index does not round-trip")
	}
	// Every truncation and every extension is refused.
	for n := range len(plain) {
		if _, err := decodeIndex(plain[:n]); err == nil {
			t.Fatalf("index truncated to %d bytes decoded", n)
		}
	}
	if _, err := decodeIndex(append(bytes.Clone(plain), 0)); err == nil {
		t.Fatal("index with a trailing byte decoded")
	}
	// A count larger than the bytes can hold is refused before allocating.
	if _, err := decodeIndex([]byte{codecVersion, 0xff, 0xff, 0xff, 0xff, 0x0f}); err == nil {
		t.Fatal("huge count decoded")
	}
}

// TestIndexDuplicateID opens a wallet whose (authentic) index lists one ID twice.
func TestIndexDuplicateID(t *testing.T) {
	s, dir := newTestStore(t)
	if _, err := s.Add(testEntry(0)); err != nil {
		t.Fatal(err)
	}
	twice := encodeIndex([]*entryRecord{s.list[0], s.list[0]}, nil, 0)
	if err := os.WriteFile(filepath.Join(dir, indexFile), s.keys.sealData(twice, adIndex), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := loadWallet(dir, s.keys, s.params, s.lock); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("loadWallet = %v, want ErrCorrupt", err)
	}
}

// indexSeeds are index plaintexts for the fuzzer to start from.
func indexSeeds(t testing.TB, s *Store) [][]byte {
	t.Helper()
	for i := range 3 {
		if _, err := s.Add(testEntry(i)); err != nil {
			t.Fatal(err)
		}
	}
	full := encodeIndex(s.list, nil, 0)
	return [][]byte{
		full,
		encodeIndex(nil, nil, 0),
		full[:len(full)/2],
		{codecVersion, 1},
		{2, 0},
		{},
	}
}

// FuzzIndex opens a wallet whose index file holds fuzzed bytes sealed with the wallet's
// key, so the input reaches the index parser. Open must fail with ErrCorrupt or load an
// index that encodes back to the same bytes.
func FuzzIndex(f *testing.F) {
	s, dir := newTestStore(f)
	for _, seed := range indexSeeds(f, s) {
		f.Add(seed)
	}
	kr := s.keys
	params := s.params
	lock := s.lock
	index := filepath.Join(dir, indexFile)
	f.Fuzz(func(t *testing.T, data []byte) {
		if err := os.WriteFile(index, kr.sealData(data, adIndex), 0o600); err != nil {
			t.Fatal(err)
		}
		got, err := loadWallet(dir, kr, params, lock)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("loadWallet = %v, want ErrCorrupt", err)
			}
			return
		}
		if again := encodeIndex(got.list, nil, 0); !bytes.Equal(again, data) {
			t.Fatalf("index %x re-encodes as %x", data, again)
		}
		for _, r := range got.list {
			if got.byID[r.ID] != r {
				t.Fatal("byID does not match the list")
			}
		}
	})
}

// FuzzBackupPayload feeds decodeBackup (what Import parses after the envelope opens).
func FuzzBackupPayload(f *testing.F) {
	s, _ := newTestStore(f)
	indexSeeds(f, s)
	var e binEncoder
	encodeBackupHead(&e, MethodKey, []byte(`{"kty":"OKP"}`), len(s.list))
	for _, r := range s.list {
		raw, err := s.load(r)
		if err != nil {
			f.Fatal(err)
		}
		e.record(r)
		e.bytes(raw)
	}
	f.Add(e.b)
	f.Add(e.b[:len(e.b)-1])
	f.Add([]byte{codecVersion, 3, 'j', 'w', 'k', 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		b, err := decodeBackup(data)
		if err != nil {
			return
		}
		var e binEncoder
		encodeBackupHead(&e, b.method, b.jwk, len(b.recs))
		for i, r := range b.recs {
			e.record(r)
			e.bytes(b.raws[i])
		}
		if !bytes.Equal(e.b, data) {
			t.Fatalf("backup %x re-encodes as %x", data, e.b)
		}
	})
}
