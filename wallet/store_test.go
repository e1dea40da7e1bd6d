package wallet_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/civitas-net/civitas/credential/jose"
	"github.com/civitas-net/civitas/did"
	"github.com/civitas-net/civitas/internal/keystore"
	"github.com/civitas-net/civitas/keys"
	"github.com/civitas-net/civitas/wallet"
)

var pass = []byte("correct horse battery staple")

// initWallet makes a wallet with the cheapest accepted Argon2id parameters.
func initWallet(t *testing.T, o wallet.InitOptions) (*wallet.Store, string) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "wallet")
	if o.Params == (keystore.Params{}) {
		o.Params = keystore.MinParams
	}
	s, err := wallet.Init(dir, pass, o)
	if err != nil {
		t.Fatalf("Init: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s, dir
}

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 123456789, time.UTC)

// sample returns a distinct entry; its raw bytes are random, so files cannot be
// recognised by content.
func sample(i int) wallet.Entry {
	raw := make([]byte, 200+i%50)
	_, _ = rand.Read(raw)
	types := []string{"VerifiableCredential", "MembershipCredential"}
	format := wallet.FormatVCJWT
	if i%2 == 1 {
		types = []string{"VerifiableCredential", "ResidencyCredential"}
		format = wallet.FormatLDPVC
	}
	return wallet.Entry{
		ID:         fmt.Sprintf("urn:uuid:secret-credential-%04d", i),
		Format:     format,
		Types:      types,
		Issuer:     "did:web:hub.example",
		IssuedAt:   t0.Add(time.Duration(i) * time.Hour),
		ValidUntil: t0.AddDate(1, 0, 0),
		Raw:        raw,
		AddedAt:    t0.Add(time.Duration(i) * time.Minute),
	}
}

// addSamples adds n sample entries and returns them as stored.
func addSamples(t *testing.T, s *wallet.Store, n int) []wallet.Entry {
	t.Helper()
	var out []wallet.Entry
	for i := range n {
		e, err := s.Add(sample(i))
		if err != nil {
			t.Fatalf("Add %d: %v", i, err)
		}
		out = append(out, e)
	}
	return out
}

// snapshot maps every path under dir to its mode and the SHA-256 of its content.
func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		sum := ""
		if d.Type().IsRegular() {
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			sum = fmt.Sprintf("%x", sha256.Sum256(b))
		}
		out[p] = fmt.Sprintf("%v %s", fi.Mode(), sum)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// walletFiles lists the regular files of a wallet except the lock file.
func walletFiles(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	for p := range snapshot(t, dir) {
		fi, err := os.Lstat(p)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().IsRegular() && filepath.Base(p) != "lock" {
			out = append(out, p)
		}
	}
	slices.Sort(out)
	return out
}

func credFiles(t *testing.T, dir string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, "credentials", "*"))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// stripRaw returns es without their raw bytes, as List returns them.
func stripRaw(es []wallet.Entry) []wallet.Entry {
	out := slices.Clone(es)
	for i := range out {
		out[i].Raw = nil
	}
	return out
}

// checkSigns signs with h and verifies with pub, and checks that h's key ID resolves to
// pub for authentication.
func checkSigns(t *testing.T, h *wallet.Holder, pub crypto.PublicKey) {
	t.Helper()
	msg := []byte("door 7, challenge n-123")
	switch k := pub.(type) {
	case ed25519.PublicKey:
		sig, err := h.Key.Sign(rand.Reader, msg, crypto.Hash(0))
		if err != nil || !ed25519.Verify(k, msg, sig) {
			t.Fatalf("ed25519 signature does not verify: %v", err)
		}
	case *ecdsa.PublicKey:
		d := sha256.Sum256(msg)
		sig, err := h.Key.Sign(rand.Reader, d[:], crypto.SHA256)
		if err != nil || !ecdsa.VerifyASN1(k, d[:], sig) {
			t.Fatalf("p-256 signature does not verify: %v", err)
		}
	default:
		t.Fatalf("unexpected key %T", pub)
	}
	_, got, err := did.NewResolver().ResolveVerificationMethod(context.Background(), h.KeyID, did.Authentication)
	if err != nil || !got.(interface{ Equal(crypto.PublicKey) bool }).Equal(pub) {
		t.Fatalf("key id %s does not resolve to the key: %v", h.KeyID, err)
	}
}

func TestInitOpenRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		opts   wallet.InitOptions
		prefix string
	}{
		{wallet.InitOptions{}, "did:key:z6Mk"},
		{wallet.InitOptions{Method: wallet.MethodKey, Algorithm: keys.P256}, "did:key:zDn"},
		{wallet.InitOptions{Method: wallet.MethodJWK}, "did:jwk:"},
		{wallet.InitOptions{Method: wallet.MethodJWK, Algorithm: keys.P256}, "did:jwk:"},
	} {
		t.Run(tc.prefix+string(tc.opts.Algorithm), func(t *testing.T) {
			s, dir := initWallet(t, tc.opts)
			id := s.DID()
			if !strings.HasPrefix(id, tc.prefix) {
				t.Fatalf("DID %s, want prefix %s", id, tc.prefix)
			}
			h, err := s.Holder()
			if err != nil {
				t.Fatal(err)
			}
			if h.DID != id || !strings.HasPrefix(h.KeyID, id+"#") {
				t.Fatalf("holder %s / %s for %s", h.DID, h.KeyID, id)
			}
			pub := h.Key.Public()
			added := addSamples(t, s, 5)
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}

			s2, err := wallet.Open(dir, pass)
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			defer s2.Close()
			if s2.DID() != id {
				t.Fatalf("reopened DID %s, want %s", s2.DID(), id)
			}
			h2, err := s2.Holder()
			if err != nil {
				t.Fatal(err)
			}
			checkSigns(t, h2, pub)
			// The reopened holder presents, and the presentation names its key.
			vp, err := h2.Present(context.Background(), nil, wallet.Request{Challenge: "n", Audience: "did:web:door.example"})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := jose.Parse(vp, jose.TypPresentation); err != nil {
				t.Fatalf("presentation: %v", err)
			}
			if got := s2.List(); !reflect.DeepEqual(got, stripRaw(added)) {
				t.Fatalf("List after reopen:\n got %+v\nwant %+v", got, stripRaw(added))
			}
			for _, want := range added {
				got, err := s2.Get(want.ID)
				if err != nil || !reflect.DeepEqual(got, want) {
					t.Fatalf("Get %s = %+v, %v; want %+v", want.ID, got, err, want)
				}
			}
			if got := s2.ByType("ResidencyCredential"); len(got) != 2 || got[0].ID != added[1].ID || got[1].ID != added[3].ID {
				t.Fatalf("ByType residency = %+v", got)
			}
			if got := s2.ByType("VerifiableCredential"); len(got) != 5 {
				t.Fatalf("ByType VerifiableCredential: %d entries", len(got))
			}
			if got := s2.ByType("Nothing"); len(got) != 0 {
				t.Fatalf("ByType Nothing: %d entries", len(got))
			}
			if err := s2.Check(); err != nil {
				t.Fatalf("Check: %v", err)
			}
		})
	}
}

func TestInitRefuses(t *testing.T) {
	s, existing := initWallet(t, wallet.InitOptions{})
	addSamples(t, s, 2)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	before := snapshot(t, existing)
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	for name, tc := range map[string]struct {
		dir  string
		pass []byte
		opts wallet.InitOptions
		want error
	}{
		"wallet exists":     {existing, pass, wallet.InitOptions{Params: keystore.MinParams}, wallet.ErrExists},
		"empty passphrase":  {"", nil, wallet.InitOptions{Params: keystore.MinParams}, wallet.ErrPassphrase},
		"unknown method":    {"", pass, wallet.InitOptions{Method: "web", Params: keystore.MinParams}, wallet.ErrInvalidOptions},
		"unknown algorithm": {"", pass, wallet.InitOptions{Algorithm: "RSA", Params: keystore.MinParams}, wallet.ErrInvalidOptions},
		"weak params":       {"", pass, wallet.InitOptions{Params: keystore.Params{Time: 1, MemoryKiB: 1024, Threads: 1}}, wallet.ErrInvalidOptions},
		"huge params":       {"", pass, wallet.InitOptions{Params: keystore.Params{Time: 3, MemoryKiB: 1 << 30, Threads: 1}}, wallet.ErrInvalidOptions},
	} {
		dir := tc.dir
		if dir == "" {
			dir = filepath.Join(t.TempDir(), "w")
		}
		_, err := wallet.Init(dir, tc.pass, tc.opts)
		if !errors.Is(err, tc.want) {
			t.Errorf("%s: Init = %v, want %v", name, err, tc.want)
		}
		if dir != existing {
			if _, err := os.Stat(dir); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("%s: refused Init left %s behind", name, dir)
			}
		}
	}
	if _, err := wallet.Init(file, pass, wallet.InitOptions{Params: keystore.MinParams}); err == nil {
		t.Error("Init over a regular file succeeded")
	}
	// A folder used for something else is refused, and its mode kept.
	other := t.TempDir()
	if err := os.Chmod(other, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(other, "notes.txt"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	otherBefore := snapshot(t, other)
	if _, err := wallet.Init(other, pass, wallet.InitOptions{Params: keystore.MinParams}); err == nil {
		t.Error("Init in a folder with other files succeeded")
	}
	if !reflect.DeepEqual(otherBefore, snapshot(t, other)) {
		t.Error("a refused Init changed a foreign folder")
	}
	// An empty existing folder is fine, and becomes 0700.
	empty := t.TempDir()
	if err := os.Chmod(empty, 0o755); err != nil {
		t.Fatal(err)
	}
	s2, err := wallet.Init(empty, pass, wallet.InitOptions{Params: keystore.MinParams})
	if err != nil {
		t.Fatalf("Init in an empty folder: %v", err)
	}
	_ = s2.Close()
	checkModes(t, empty)
	if after := snapshot(t, existing); !reflect.DeepEqual(before, after) {
		t.Error("a refused Init changed the existing wallet")
	}
}

func TestOpenErrors(t *testing.T) {
	s, dir := initWallet(t, wallet.InitOptions{})
	addSamples(t, s, 3)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	before := snapshot(t, dir)
	for name, tc := range map[string]struct {
		dir  string
		pass []byte
		want error
	}{
		"wrong passphrase":      {dir, []byte("correct horse battery stapler"), wallet.ErrPassphrase},
		"empty passphrase":      {dir, nil, wallet.ErrPassphrase},
		"missing folder":        {filepath.Join(t.TempDir(), "none"), pass, wallet.ErrNotInitialized},
		"folder without wallet": {t.TempDir(), pass, wallet.ErrNotInitialized},
	} {
		s, err := wallet.Open(tc.dir, tc.pass)
		if !errors.Is(err, tc.want) {
			t.Errorf("%s: Open = %v, want %v", name, err, tc.want)
		}
		if s != nil {
			t.Errorf("%s: Open returned a store with an error", name)
		}
	}
	if after := snapshot(t, dir); !reflect.DeepEqual(before, after) {
		t.Fatal("failed Opens changed the wallet's files")
	}
	// The failed Opens released the lock.
	s, err := wallet.Open(dir, pass)
	if err != nil {
		t.Fatal(err)
	}
	_ = s.Close()
}

// corruptions are the ways a file is damaged in TestTamper.
var corruptions = map[string]func([]byte) []byte{
	"first byte": func(b []byte) []byte { b[0] ^= 0x01; return b },
	"middle":     func(b []byte) []byte { b[len(b)/2] ^= 0x80; return b },
	"last byte":  func(b []byte) []byte { b[len(b)-1] ^= 0x01; return b },
	"truncated":  func(b []byte) []byte { return b[:len(b)-1] },
	"extended":   func(b []byte) []byte { return append(b, 0) },
	"empty":      func([]byte) []byte { return nil },
}

func TestTamper(t *testing.T) {
	s, dir := initWallet(t, wallet.InitOptions{})
	added := addSamples(t, s, 3)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	for _, path := range walletFiles(t, dir) {
		rel, _ := filepath.Rel(dir, path)
		orig, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		damage := maps.Clone(corruptions)
		damage["deleted"] = nil
		for how, f := range damage {
			if f == nil {
				if err := os.Remove(path); err != nil {
					t.Fatal(err)
				}
			} else if err := os.WriteFile(path, f(bytes.Clone(orig)), 0o600); err != nil {
				t.Fatal(err)
			}
			checkDamaged(t, dir, rel+" "+how, added)
			if err := os.WriteFile(path, orig, 0o600); err != nil {
				t.Fatal(err)
			}
		}
	}
	// Restored, the wallet is whole again.
	s, err := wallet.Open(dir, pass)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Check(); err != nil {
		t.Fatal(err)
	}
}

// checkDamaged asserts that a damaged wallet is refused by Open (header, identity,
// index) or by Get and Check (a credential file), with the right error.
func checkDamaged(t *testing.T, dir, what string, added []wallet.Entry) {
	t.Helper()
	s, err := wallet.Open(dir, pass)
	base := strings.Fields(what)[0]
	switch {
	case base == "header":
		if !errors.Is(err, wallet.ErrPassphrase) && !errors.Is(err, wallet.ErrCorrupt) && !errors.Is(err, wallet.ErrNotInitialized) {
			t.Errorf("%s: Open = %v, want ErrPassphrase, ErrCorrupt or ErrNotInitialized", what, err)
		}
	case base == "identity" || base == "index":
		if !errors.Is(err, wallet.ErrCorrupt) {
			t.Errorf("%s: Open = %v, want ErrCorrupt", what, err)
		}
	default: // a credential file: Open does not read it, Get and Check do
		if err != nil {
			t.Errorf("%s: Open = %v", what, err)
			return
		}
		defer s.Close()
		bad := 0
		for _, e := range added {
			if _, err := s.Get(e.ID); err != nil {
				if !errors.Is(err, wallet.ErrCorrupt) {
					t.Errorf("%s: Get = %v, want ErrCorrupt", what, err)
				}
				bad++
			}
		}
		if bad != 1 {
			t.Errorf("%s: %d credentials fail to load, want 1", what, bad)
		}
		if err := s.Check(); !errors.Is(err, wallet.ErrCorrupt) {
			t.Errorf("%s: Check = %v, want ErrCorrupt", what, err)
		}
		return
	}
	if s != nil {
		t.Errorf("%s: Open returned a store", what)
		_ = s.Close()
	}
}

func TestSwappedCredentialFiles(t *testing.T) {
	s, dir := initWallet(t, wallet.InitOptions{})
	added := addSamples(t, s, 2)
	files := credFiles(t, dir)
	if len(files) != 2 {
		t.Fatalf("%d credential files, want 2", len(files))
	}
	a, _ := os.ReadFile(files[0])
	b, _ := os.ReadFile(files[1])
	for name, swap := range map[string][2][]byte{"swapped": {b, a}, "copied": {b, b}} {
		if err := os.WriteFile(files[0], swap[0], 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(files[1], swap[1], 0o600); err != nil {
			t.Fatal(err)
		}
		bad := 0
		for _, e := range added {
			if _, err := s.Get(e.ID); errors.Is(err, wallet.ErrCorrupt) {
				bad++
			} else if err != nil {
				t.Errorf("%s: Get = %v", name, err)
			}
		}
		if want := map[string]int{"swapped": 2, "copied": 1}[name]; bad != want {
			t.Errorf("%s: %d credentials detected as damaged, want %d", name, bad, want)
		}
	}
	// The index is sealed for its role: an identity file in its place does not open.
	id, _ := os.ReadFile(filepath.Join(dir, "identity"))
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "index"), id, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := wallet.Open(dir, pass); !errors.Is(err, wallet.ErrCorrupt) {
		t.Fatalf("identity as index: Open = %v, want ErrCorrupt", err)
	}
}

func TestAddRefuses(t *testing.T) {
	s, dir := initWallet(t, wallet.InitOptions{})
	first, err := s.Add(sample(0))
	if err != nil {
		t.Fatal(err)
	}
	mod := func(f func(*wallet.Entry)) wallet.Entry { e := sample(1); f(&e); return e }
	for name, tc := range map[string]struct {
		e    wallet.Entry
		want error
	}{
		"duplicate id":        {mod(func(e *wallet.Entry) { e.ID = first.ID }), wallet.ErrExists},
		"no raw":              {mod(func(e *wallet.Entry) { e.Raw = nil }), wallet.ErrInvalidEntry},
		"raw too large":       {mod(func(e *wallet.Entry) { e.Raw = make([]byte, wallet.MaxRawSize+1) }), wallet.ErrInvalidEntry},
		"unknown format":      {mod(func(e *wallet.Entry) { e.Format = "jwt_vc_json" }), wallet.ErrInvalidEntry},
		"empty format":        {mod(func(e *wallet.Entry) { e.Format = "" }), wallet.ErrInvalidEntry},
		"id too long":         {mod(func(e *wallet.Entry) { e.ID = "urn:" + strings.Repeat("a", 3000) }), wallet.ErrInvalidEntry},
		"id with newline":     {mod(func(e *wallet.Entry) { e.ID = "urn:a\nb" }), wallet.ErrInvalidEntry},
		"id not utf-8":        {mod(func(e *wallet.Entry) { e.ID = "urn:\xff" }), wallet.ErrInvalidEntry},
		"empty type":          {mod(func(e *wallet.Entry) { e.Types = []string{""} }), wallet.ErrInvalidEntry},
		"duplicate type":      {mod(func(e *wallet.Entry) { e.Types = []string{"A", "A"} }), wallet.ErrInvalidEntry},
		"too many types":      {mod(func(e *wallet.Entry) { e.Types = manyTypes(33) }), wallet.ErrInvalidEntry},
		"type with nul":       {mod(func(e *wallet.Entry) { e.Types = []string{"A\x00"} }), wallet.ErrInvalidEntry},
		"issuer with control": {mod(func(e *wallet.Entry) { e.Issuer = "did:web:a\x85" }), wallet.ErrInvalidEntry},
		"year 10000":          {mod(func(e *wallet.Entry) { e.ValidUntil = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC) }), wallet.ErrInvalidEntry},
	} {
		if _, err := s.Add(tc.e); !errors.Is(err, tc.want) {
			t.Errorf("%s: Add = %v, want %v", name, err, tc.want)
		}
	}
	// A batch with one bad entry adds nothing.
	if _, err := s.AddAll([]wallet.Entry{sample(2), sample(3), sample(2)}); !errors.Is(err, wallet.ErrExists) {
		t.Errorf("AddAll with a repeated entry = %v, want ErrExists", err)
	}
	if n := len(s.List()); n != 1 {
		t.Errorf("%d entries after refused adds, want 1", n)
	}
	if n := len(credFiles(t, dir)); n != 1 {
		t.Errorf("%d credential files after refused adds, want 1", n)
	}
}

func manyTypes(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("T%d", i)
	}
	return out
}

func TestDerivedIDAndClock(t *testing.T) {
	s, _ := initWallet(t, wallet.InitOptions{})
	clock := time.Date(2026, 5, 4, 3, 2, 1, 0, time.FixedZone("X", 3600))
	s.SetClock(func() time.Time { return clock })
	e := wallet.Entry{Format: wallet.FormatSDJWTVC, Raw: []byte("eyJhbGciOiJFUzI1NiJ9.e30.sig~")}
	got, err := s.Add(e)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(e.Raw)
	if want := "ni:///sha-256;" + base64.RawURLEncoding.EncodeToString(sum[:]); got.ID != want {
		t.Fatalf("derived ID %s, want %s", got.ID, want)
	}
	if !got.AddedAt.Equal(clock) || got.AddedAt.Location() != time.UTC {
		t.Fatalf("AddedAt %v, want %v in UTC", got.AddedAt, clock)
	}
	if _, err := s.Add(e); !errors.Is(err, wallet.ErrExists) {
		t.Fatalf("same bytes again: Add = %v, want ErrExists", err)
	}
}

func TestDelete(t *testing.T) {
	s, dir := initWallet(t, wallet.InitOptions{})
	added := addSamples(t, s, 4)
	if n := len(credFiles(t, dir)); n != 4 {
		t.Fatalf("%d credential files, want 4", n)
	}
	victim := added[1] // the first of two residency credentials
	if err := s.Delete(victim.ID); err != nil {
		t.Fatal(err)
	}
	if n := len(credFiles(t, dir)); n != 3 {
		t.Fatalf("%d credential files after Delete, want 3", n)
	}
	if _, err := s.Get(victim.ID); !errors.Is(err, wallet.ErrNotFound) {
		t.Fatalf("Get deleted = %v, want ErrNotFound", err)
	}
	if err := s.Delete(victim.ID); !errors.Is(err, wallet.ErrNotFound) {
		t.Fatalf("Delete twice = %v, want ErrNotFound", err)
	}
	want := stripRaw([]wallet.Entry{added[0], added[2], added[3]})
	if got := s.List(); !reflect.DeepEqual(got, want) {
		t.Fatalf("List after Delete = %+v", got)
	}
	if got := s.ByType("ResidencyCredential"); len(got) != 1 || got[0].ID != added[3].ID {
		t.Fatalf("ByType after Delete = %+v", got)
	}
	if err := s.Delete(added[3].ID); err != nil {
		t.Fatal(err)
	}
	if got := s.ByType("ResidencyCredential"); len(got) != 0 {
		t.Fatalf("ByType after deleting all = %+v", got)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s2, err := wallet.Open(dir, pass)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if got := s2.List(); !reflect.DeepEqual(got, want[:2]) {
		t.Fatalf("List after reopen = %+v", got)
	}
	// A deleted credential can be added again.
	if _, err := s2.Add(victim); err != nil {
		t.Fatal(err)
	}
	if got, err := s2.Get(victim.ID); err != nil || !bytes.Equal(got.Raw, victim.Raw) {
		t.Fatalf("Get re-added = %v", err)
	}
}

func TestNothingLeaks(t *testing.T) {
	s, dir := initWallet(t, wallet.InitOptions{})
	added := addSamples(t, s, 3)
	secrets := []string{"secret-credential", "MembershipCredential", "ResidencyCredential", "hub.example", s.DID()[8:20]}
	for _, e := range added {
		secrets = append(secrets, e.ID, string(e.Raw[:16]))
	}
	for _, p := range walletFiles(t, dir) {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		for _, sec := range secrets {
			if strings.Contains(p, sec) || bytes.Contains(b, []byte(sec)) {
				t.Errorf("%s shows %q", p, sec)
			}
		}
	}
}

func TestFileModes(t *testing.T) {
	s, dir := initWallet(t, wallet.InitOptions{})
	addSamples(t, s, 2)
	backup := filepath.Join(t.TempDir(), "backup.civ")
	if err := s.ExportFile(backup, pass); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	restored := filepath.Join(t.TempDir(), "restored")
	s2, err := wallet.Import(backup, restored, pass)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if _, err := s2.Add(sample(9)); err != nil {
		t.Fatal(err)
	}
	checkModes(t, backup)
	checkModes(t, dir)
	checkModes(t, restored)
}

func checkModes(t *testing.T, root string) {
	t.Helper()
	for p := range snapshot(t, root) {
		fi, err := os.Lstat(p)
		if err != nil {
			t.Fatal(err)
		}
		want := fs.FileMode(0o600)
		if fi.IsDir() {
			want = fs.ModeDir | 0o700
		}
		if fi.Mode() != want {
			t.Errorf("%s has mode %v, want %v", p, fi.Mode(), want)
		}
	}
}

func TestExportImport(t *testing.T) {
	for _, o := range []wallet.InitOptions{{}, {Method: wallet.MethodJWK, Algorithm: keys.P256}} {
		t.Run(o.Method+string(o.Algorithm), func(t *testing.T) {
			s, _ := initWallet(t, o)
			added := addSamples(t, s, 4)
			h, err := s.Holder()
			if err != nil {
				t.Fatal(err)
			}
			var buf bytes.Buffer
			if err := s.Export(&buf, []byte("backup passphrase")); err != nil {
				t.Fatal(err)
			}
			backup := filepath.Join(t.TempDir(), "backup")
			if err := os.WriteFile(backup, buf.Bytes(), 0o600); err != nil {
				t.Fatal(err)
			}
			if err := s.ExportFile(backup, pass); !errors.Is(err, wallet.ErrExists) {
				t.Fatalf("ExportFile over a file = %v, want ErrExists", err)
			}
			dir := filepath.Join(t.TempDir(), "a", "restored")
			r, err := wallet.Import(backup, dir, []byte("backup passphrase"))
			if err != nil {
				t.Fatal(err)
			}
			if r.DID() != s.DID() {
				t.Fatalf("restored DID %s, want %s", r.DID(), s.DID())
			}
			rh, err := r.Holder()
			if err != nil {
				t.Fatal(err)
			}
			checkSigns(t, rh, h.Key.Public())
			if got := r.List(); !reflect.DeepEqual(got, stripRaw(added)) {
				t.Fatalf("restored List = %+v", got)
			}
			for _, want := range added {
				if got, err := r.Get(want.ID); err != nil || !reflect.DeepEqual(got, want) {
					t.Fatalf("restored Get %s: %v", want.ID, err)
				}
			}
			if err := r.Close(); err != nil {
				t.Fatal(err)
			}
			// The restored wallet opens with the backup's passphrase.
			r, err = wallet.Open(dir, []byte("backup passphrase"))
			if err != nil {
				t.Fatal(err)
			}
			if len(r.ByType("MembershipCredential")) != 2 {
				t.Fatal("restored wallet lost its type index")
			}
			_ = r.Close()
			// Import never replaces a wallet.
			before := snapshot(t, dir)
			if _, err := wallet.Import(backup, dir, []byte("backup passphrase")); !errors.Is(err, wallet.ErrExists) {
				t.Fatalf("Import over a wallet = %v, want ErrExists", err)
			}
			if !reflect.DeepEqual(before, snapshot(t, dir)) {
				t.Fatal("a refused Import changed the wallet")
			}
		})
	}
}

func TestImportRefuses(t *testing.T) {
	s, _ := initWallet(t, wallet.InitOptions{})
	addSamples(t, s, 2)
	var buf bytes.Buffer
	if err := s.Export(&buf, pass); err != nil {
		t.Fatal(err)
	}
	good := buf.Bytes()
	cases := map[string]struct {
		data []byte
		pass []byte
		want []error
	}{
		"wrong passphrase": {good, []byte("guess"), []error{wallet.ErrPassphrase}},
		"empty passphrase": {good, nil, []error{wallet.ErrPassphrase}},
		"not a backup":     {[]byte("hello, this is not a keystore envelope at all"), pass, []error{wallet.ErrCorrupt}},
		"no file":          {nil, pass, nil},
	}
	for _, pos := range []int{0, 7, 12, 20, keystore.HeaderSize, keystore.HeaderSize + 30, len(good) / 2, len(good) - 1} {
		b := bytes.Clone(good)
		b[pos] ^= 0x04
		cases[fmt.Sprintf("byte %d flipped", pos)] = struct {
			data []byte
			pass []byte
			want []error
		}{b, pass, []error{wallet.ErrPassphrase, wallet.ErrCorrupt}}
	}
	cases["truncated"] = struct {
		data []byte
		pass []byte
		want []error
	}{good[:len(good)-1], pass, []error{wallet.ErrPassphrase, wallet.ErrCorrupt}}
	for name, tc := range cases {
		tmp := t.TempDir()
		backup := filepath.Join(tmp, "backup")
		if tc.data != nil {
			if err := os.WriteFile(backup, tc.data, 0o600); err != nil {
				t.Fatal(err)
			}
		}
		dir := filepath.Join(tmp, "restored")
		_, err := wallet.Import(backup, dir, tc.pass)
		if err == nil {
			t.Errorf("%s: Import succeeded", name)
		} else if len(tc.want) > 0 && !slices.ContainsFunc(tc.want, func(w error) bool { return errors.Is(err, w) }) {
			t.Errorf("%s: Import = %v, want one of %v", name, err, tc.want)
		}
		if _, err := os.Stat(dir); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s: failed Import wrote %s", name, dir)
		}
	}
}

func TestLockInProcess(t *testing.T) {
	s, dir := initWallet(t, wallet.InitOptions{})
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	const n = 4
	var wg sync.WaitGroup
	stores := make([]*wallet.Store, n)
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() { stores[i], errs[i] = wallet.Open(dir, pass) })
	}
	wg.Wait()
	opened := 0
	for i, err := range errs {
		switch {
		case err == nil:
			opened++
			defer stores[i].Close()
		case !errors.Is(err, wallet.ErrLocked):
			t.Errorf("Open %d = %v, want ErrLocked", i, err)
		}
	}
	if opened != 1 {
		t.Fatalf("%d concurrent Opens succeeded, want 1", opened)
	}
	if _, err := wallet.Init(dir, pass, wallet.InitOptions{Params: keystore.MinParams}); !errors.Is(err, wallet.ErrExists) {
		t.Fatalf("Init on an open wallet = %v, want ErrExists", err)
	}
}

func TestLockReleasedByClose(t *testing.T) {
	s, dir := initWallet(t, wallet.InitOptions{})
	if _, err := wallet.Open(dir, pass); !errors.Is(err, wallet.ErrLocked) {
		t.Fatalf("Open while Init's store is open = %v, want ErrLocked", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	for name, call := range map[string]func() error{
		"Add":    func() error { _, err := s.Add(sample(0)); return err },
		"Get":    func() error { _, err := s.Get("x"); return err },
		"Delete": func() error { return s.Delete("x") },
		"Holder": func() error { _, err := s.Holder(); return err },
		"Export": func() error { return s.Export(&bytes.Buffer{}, pass) },
		"Check":  s.Check,
	} {
		if err := call(); !errors.Is(err, wallet.ErrClosed) {
			t.Errorf("%s after Close = %v, want ErrClosed", name, err)
		}
	}
	s2, err := wallet.Open(dir, pass)
	if err != nil {
		t.Fatalf("Open after Close: %v", err)
	}
	_ = s2.Close()
}

const lockHelperEnv = "CIVITAS_WALLET_LOCK_HELPER_DIR"

// TestLockAcrossProcesses opens the wallet here and tries again from a child process
// (this test binary running TestLockHelperProcess).
func TestLockAcrossProcesses(t *testing.T) {
	_, dir := initWallet(t, wallet.InitOptions{}) // held open until cleanup
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "-test.run=^TestLockHelperProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), lockHelperEnv+"="+dir)
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "open: locked") {
		t.Fatalf("child process: %v\n%s", err, out)
	}
}

// TestLockHelperProcess is the child of TestLockAcrossProcesses; alone it does nothing.
func TestLockHelperProcess(t *testing.T) {
	dir := os.Getenv(lockHelperEnv)
	if dir == "" {
		t.Skip("helper process of TestLockAcrossProcesses")
	}
	s, err := wallet.Open(dir, pass)
	switch {
	case errors.Is(err, wallet.ErrLocked):
		fmt.Println("open: locked")
	case err != nil:
		fmt.Println("open:", err)
	default:
		_ = s.Close()
		fmt.Println("open: succeeded")
	}
}

// TestConcurrentUse adds, reads and deletes from several goroutines at once (run with
// -race).
func TestConcurrentUse(t *testing.T) {
	s, dir := initWallet(t, wallet.InitOptions{})
	const workers, each = 4, 5
	var wg sync.WaitGroup
	errs := make(chan error, workers*each*4)
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				e, err := s.Add(sample(w*each + i))
				if err != nil {
					errs <- err
					continue
				}
				if got, err := s.Get(e.ID); err != nil || !bytes.Equal(got.Raw, e.Raw) {
					errs <- fmt.Errorf("Get %s: %v", e.ID, err)
				}
				_ = s.List()
				_ = s.ByType("ResidencyCredential")
				if i%2 == 0 {
					if err := s.Delete(e.ID); err != nil {
						errs <- err
					}
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	want := workers * (each / 2)
	if n := len(s.List()); n != want {
		t.Fatalf("%d entries, want %d", n, want)
	}
	if n := len(credFiles(t, dir)); n != want {
		t.Fatalf("%d credential files, want %d", n, want)
	}
}

// TestReturnedEntriesAreCopies changes what Add, List, ByType and Get return and checks
// that the wallet did not change.
func TestReturnedEntriesAreCopies(t *testing.T) {
	s, _ := initWallet(t, wallet.InitOptions{})
	in := sample(0)
	e, err := s.Add(in)
	if err != nil {
		t.Fatal(err)
	}
	in.Types[1] = "Changed"
	e.Types[1] = "Changed"
	s.List()[0].Types[1] = "Changed"
	s.ByType("MembershipCredential")[0].Types[1] = "Changed"
	got, err := s.Get(e.ID)
	if err != nil {
		t.Fatal(err)
	}
	got.Types[1] = "Changed"
	got.Raw[0] ^= 0xff
	if l := s.ByType("MembershipCredential"); len(l) != 1 || l[0].Types[1] != "MembershipCredential" {
		t.Fatalf("the wallet's entry changed: %+v", l)
	}
	if len(s.ByType("Changed")) != 0 {
		t.Fatal("the type index changed")
	}
	if again, err := s.Get(e.ID); err != nil || again.Raw[0] == got.Raw[0] {
		t.Fatalf("Get returned shared bytes: %v", err)
	}
}
