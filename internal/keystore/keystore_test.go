package keystore

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"golang.org/x/crypto/argon2"
)

// Tests derive with MinParams: the cheapest accepted, so they stay fast, and the real
// validation and derivation code runs.
var (
	testSecret = []byte("correct horse battery staple")
	testSalt   = bytes.Repeat([]byte{0x5a}, SaltSize)
)

// derivedKeys caches keys by secret so the many table cases do not re-derive.
var derivedKeys sync.Map

func testKey(t testing.TB, secret string) *Key {
	t.Helper()
	if k, ok := derivedKeys.Load(secret); ok {
		return k.(*Key)
	}
	k, err := DeriveKey([]byte(secret), testSalt, MinParams)
	if err != nil {
		t.Fatal(err)
	}
	derivedKeys.Store(secret, k)
	return k
}

func TestDeriveKeyIsArgon2id(t *testing.T) {
	k, err := DeriveKey(testSecret, testSalt, MinParams)
	if err != nil {
		t.Fatal(err)
	}
	want := argon2.IDKey(testSecret, testSalt, MinParams.Time, MinParams.MemoryKiB, MinParams.Threads, KeySize)
	if !bytes.Equal(k.k[:], want) {
		t.Fatal("DeriveKey differs from argon2.IDKey with the same parameters")
	}
	// Every input changes the key.
	for name, other := range map[string]func() (*Key, error){
		"secret":  func() (*Key, error) { return DeriveKey([]byte("correct horse battery stapler"), testSalt, MinParams) },
		"salt":    func() (*Key, error) { return DeriveKey(testSecret, bytes.Repeat([]byte{0x5b}, SaltSize), MinParams) },
		"time":    func() (*Key, error) { p := MinParams; p.Time++; return DeriveKey(testSecret, testSalt, p) },
		"memory":  func() (*Key, error) { p := MinParams; p.MemoryKiB += 1024; return DeriveKey(testSecret, testSalt, p) },
		"threads": func() (*Key, error) { p := MinParams; p.Threads++; return DeriveKey(testSecret, testSalt, p) },
	} {
		o, err := other()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if bytes.Equal(o.k[:], k.k[:]) {
			t.Errorf("changing the %s does not change the key", name)
		}
	}
}

func TestDeriveKeyRejects(t *testing.T) {
	with := func(f func(*Params)) Params { p := DefaultParams; f(&p); return p }
	tests := []struct {
		name   string
		secret []byte
		salt   []byte
		p      Params
		want   error
	}{
		{"empty secret", nil, testSalt, MinParams, ErrEmptySecret},
		{"nil salt", testSecret, nil, MinParams, ErrParams},
		{"short salt", testSecret, testSalt[:SaltSize-1], MinParams, ErrParams},
		{"zero params", testSecret, testSalt, Params{}, ErrParams},
		{"time below", testSecret, testSalt, with(func(p *Params) { p.Time = MinParams.Time - 1 }), ErrParams},
		{"memory below", testSecret, testSalt, with(func(p *Params) { p.MemoryKiB = MinParams.MemoryKiB - 1 }), ErrParams},
		{"no threads", testSecret, testSalt, with(func(p *Params) { p.Threads = 0 }), ErrParams},
		{"time above", testSecret, testSalt, with(func(p *Params) { p.Time = MaxParams.Time + 1 }), ErrParams},
		{"memory above", testSecret, testSalt, with(func(p *Params) { p.MemoryKiB = MaxParams.MemoryKiB + 1 }), ErrParams},
		{"memory 4 GiB", testSecret, testSalt, with(func(p *Params) { p.MemoryKiB = 1<<32 - 1 }), ErrParams},
		{"threads above", testSecret, testSalt, with(func(p *Params) { p.Threads = MaxParams.Threads + 1 }), ErrParams},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			k, err := DeriveKey(tc.secret, tc.salt, tc.p)
			if !errors.Is(err, tc.want) || k != nil {
				t.Fatalf("DeriveKey = %v, %v; want %v", k, err, tc.want)
			}
		})
	}
	for _, p := range []Params{MinParams, DefaultParams, MaxParams} {
		if err := p.Validate(); err != nil {
			t.Errorf("%v: %v", p, err)
		}
	}
}

func TestNewSalt(t *testing.T) {
	a, b := NewSalt(), NewSalt()
	if len(a) != SaltSize || bytes.Equal(a, b) {
		t.Fatalf("salts %x and %x", a, b)
	}
}

func TestSealOpenRoundTrip(t *testing.T) {
	k := testKey(t, "round trip")
	for _, size := range []int{0, 1, 32, 4096} {
		for _, ad := range [][]byte{nil, []byte("did:web:issuer.example#key-1")} {
			t.Run(fmt.Sprintf("%d/%q", size, ad), func(t *testing.T) {
				pt := bytes.Repeat([]byte{0xa7}, size)
				sealed := k.Seal(pt, ad)
				if len(sealed) != size+Overhead || sealed[0] != sealVersion {
					t.Fatalf("sealed length %d, version %d", len(sealed), sealed[0])
				}
				// (Short plaintexts may occur in random bytes by chance; 32 bytes may not.)
				if size >= 32 && bytes.Contains(sealed, pt) {
					t.Fatal("plaintext visible in the sealed blob")
				}
				got, err := k.Open(sealed, ad)
				if err != nil || !bytes.Equal(got, pt) {
					t.Fatalf("Open = %x, %v", got, err)
				}
				if again := k.Seal(pt, ad); bytes.Equal(again, sealed) {
					t.Fatal("two seals of the same plaintext are equal: the nonce is not random")
				}
			})
		}
	}
	// A key derived again from the same inputs opens what the first sealed.
	again, err := DeriveKey([]byte("round trip"), testSalt, MinParams)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := again.Open(k.Seal([]byte("x"), nil), nil); err != nil || string(got) != "x" {
		t.Fatalf("re-derived key: %q, %v", got, err)
	}
}

func TestOpenRejects(t *testing.T) {
	k := testKey(t, "rejects")
	ad := []byte("key-7")
	pt := []byte("the issuer's private key, say")
	sealed := k.Seal(pt, ad)
	tests := []struct {
		name   string
		key    *Key
		sealed []byte
		ad     []byte
	}{
		{"wrong key", testKey(t, "another secret"), sealed, ad},
		{"other ad", k, sealed, []byte("key-8")},
		{"ad missing", k, sealed, nil},
		{"ad extended", k, sealed, []byte("key-77")},
		{"ad prefix", k, sealed, []byte("key-")},
		{"trailing byte", k, append(bytes.Clone(sealed), 0), ad},
		{"empty", k, nil, ad},
		{"version 0", k, append([]byte{0}, sealed[1:]...), ad},
		{"version 2", k, append([]byte{2}, sealed[1:]...), ad},
		{"nil key", nil, sealed, ad},
		{"zero key", &Key{}, sealed, ad},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.key.Open(tc.sealed, tc.ad)
			if err != ErrDecrypt || got != nil {
				t.Fatalf("Open = %q, %v; want exactly ErrDecrypt", got, err)
			}
		})
	}
	// Every truncation.
	for n := range len(sealed) {
		if got, err := k.Open(sealed[:n], ad); err != ErrDecrypt || got != nil {
			t.Fatalf("truncated to %d: %q, %v", n, got, err)
		}
	}
	// The untouched blob opens, so each failure above comes from its change.
	if got, err := k.Open(sealed, ad); err != nil || !bytes.Equal(got, pt) {
		t.Fatalf("untouched blob: %q, %v", got, err)
	}
}

// TestOpenEveryByteFlipped flips each byte of a sealed blob, with several masks.
func TestOpenEveryByteFlipped(t *testing.T) {
	k := testKey(t, "flips")
	ad := []byte("record-42")
	sealed := k.Seal([]byte("sealed signing key"), ad)
	for i := range sealed {
		for _, mask := range []byte{0x01, 0x80, 0xff} {
			mutated := bytes.Clone(sealed)
			mutated[i] ^= mask
			if got, err := k.Open(mutated, ad); err != ErrDecrypt || got != nil {
				t.Fatalf("byte %d ^ %#x: Open = %q, %v; want ErrDecrypt", i, mask, got, err)
			}
		}
	}
}

func TestKeyIsRedacted(t *testing.T) {
	k := testKey(t, "redaction")
	raw := k.k[:]
	type exported struct{ K Key }
	type unexported struct{ k Key }
	type pointer struct{ K *Key }
	values := map[string]any{
		"*Key":          k,
		"Key":           *k,
		"exported":      exported{K: *k},
		"unexported":    unexported{k: *k},
		"pointer field": pointer{K: k},
		"slice":         []*Key{k},
		"map":           map[string]Key{"k": *k},
	}
	forms := []string{
		hex.EncodeToString(raw), strings.ToUpper(hex.EncodeToString(raw)),
		base64.StdEncoding.EncodeToString(raw), base64.RawURLEncoding.EncodeToString(raw),
		string(raw), fmt.Sprint(raw[:8]), fmt.Sprintf("%d", raw[0:4]),
	}
	for name, v := range values {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%T %v"} {
			out := fmt.Sprintf(verb, v)
			for _, f := range forms {
				if strings.Contains(out, f) {
					t.Fatalf("%s printed with %s shows the key: %s", name, verb, out)
				}
			}
		}
	}
	if got := k.String(); got != redacted {
		t.Fatalf("String = %q", got)
	}
	if got := fmt.Sprintf("%#v", k); got != redacted {
		t.Fatalf("%%#v = %q", got)
	}
	var nilKey *Key
	if got := fmt.Sprint(nilKey); got != "<nil>" {
		t.Fatalf("nil key prints %q", got)
	}
}

func TestEnvelopeRoundTrip(t *testing.T) {
	ad := []byte("wallet-backup")
	pt := []byte("wallet contents")
	for _, p := range []Params{MinParams, DefaultParams} {
		t.Run(p.String(), func(t *testing.T) {
			env, err := SealWithPassphrase(testSecret, pt, ad, p)
			if err != nil {
				t.Fatal(err)
			}
			if len(env) != HeaderSize+Overhead+len(pt) || string(env[:len(Magic)]) != Magic || env[len(Magic)] != envelopeVersion {
				t.Fatalf("envelope header %x", env[:HeaderSize])
			}
			h := env[len(Magic)+1:]
			if got := (Params{binary.BigEndian.Uint32(h[0:4]), binary.BigEndian.Uint32(h[4:8]), h[8]}); got != p {
				t.Fatalf("header params %v, want %v", got, p)
			}
			got, err := OpenWithPassphrase(testSecret, env, ad)
			if err != nil || !bytes.Equal(got, pt) {
				t.Fatalf("OpenWithPassphrase = %q, %v", got, err)
			}
			other, err := SealWithPassphrase(testSecret, pt, ad, p)
			if err != nil {
				t.Fatal(err)
			}
			if bytes.Equal(other[len(Magic)+10:HeaderSize], env[len(Magic)+10:HeaderSize]) {
				t.Fatal("two envelopes share a salt")
			}
		})
	}
}

// TestGoldenEnvelope opens an envelope written by an earlier build: the format is stable.
func TestGoldenEnvelope(t *testing.T) {
	env := golden(t)
	got, err := OpenWithPassphrase(testSecret, env, goldenAD)
	if err != nil || string(got) != goldenPlaintext {
		t.Fatalf("golden envelope: %q, %v", got, err)
	}
}

const goldenPlaintext = "a golden secret, sealed once"

var goldenAD = []byte("civitas/keystore/golden")

func golden(t testing.TB) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "envelope-v1.bin"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestEnvelopeRejects(t *testing.T) {
	env := golden(t)
	setParams := func(p Params) []byte {
		b := bytes.Clone(env)
		h := b[len(Magic)+1:]
		binary.BigEndian.PutUint32(h[0:4], p.Time)
		binary.BigEndian.PutUint32(h[4:8], p.MemoryKiB)
		h[8] = p.Threads
		return b
	}
	weaker := func(f func(*Params)) []byte { p := MinParams; f(&p); return setParams(p) }
	tests := []struct {
		name       string
		passphrase []byte
		env        []byte
		ad         []byte
		want       error
	}{
		{"wrong passphrase", []byte("Correct horse battery staple"), env, goldenAD, ErrDecrypt},
		{"empty passphrase", nil, env, goldenAD, ErrEmptySecret},
		{"other ad", testSecret, env, []byte("civitas/keystore/other"), ErrDecrypt},
		{"no ad", testSecret, env, nil, ErrDecrypt},
		{"empty input", testSecret, nil, goldenAD, ErrFormat},
		{"magic only", testSecret, []byte(Magic), goldenAD, ErrFormat},
		{"header only", testSecret, env[:HeaderSize], goldenAD, ErrDecrypt},
		{"payload truncated", testSecret, env[:len(env)-1], goldenAD, ErrDecrypt},
		{"payload too short for a tag", testSecret, env[:HeaderSize+Overhead-1], goldenAD, ErrDecrypt},
		{"trailing byte", testSecret, append(bytes.Clone(env), 0), goldenAD, ErrDecrypt},
		{"trailing envelope", testSecret, append(bytes.Clone(env), env...), goldenAD, ErrDecrypt},
		{"wrong magic", testSecret, append([]byte("CIVKS2"), env[len(Magic):]...), goldenAD, ErrFormat},
		{"version 0", testSecret, func() []byte { b := bytes.Clone(env); b[len(Magic)] = 0; return b }(), goldenAD, ErrFormat},
		{"version 2", testSecret, func() []byte { b := bytes.Clone(env); b[len(Magic)] = 2; return b }(), goldenAD, ErrFormat},
		{"time 1", testSecret, weaker(func(p *Params) { p.Time = 1 }), goldenAD, ErrParams},
		{"time 0", testSecret, weaker(func(p *Params) { p.Time = 0 }), goldenAD, ErrParams},
		{"memory 8 KiB", testSecret, weaker(func(p *Params) { p.MemoryKiB = 8 }), goldenAD, ErrParams},
		{"threads 0", testSecret, weaker(func(p *Params) { p.Threads = 0 }), goldenAD, ErrParams},
		{"memory 4 GiB", testSecret, weaker(func(p *Params) { p.MemoryKiB = 1<<32 - 1 }), goldenAD, ErrParams},
		{"time 2^32-1", testSecret, weaker(func(p *Params) { p.Time = 1<<32 - 1 }), goldenAD, ErrParams},
		{"threads 255", testSecret, weaker(func(p *Params) { p.Threads = 255 }), goldenAD, ErrParams},
		// Stronger but valid parameters: derivation runs, the key differs, the tag fails.
		{"time raised", testSecret, weaker(func(p *Params) { p.Time++ }), goldenAD, ErrDecrypt},
		{"salt changed", testSecret, func() []byte { b := bytes.Clone(env); b[HeaderSize-1] ^= 1; return b }(), goldenAD, ErrDecrypt},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := OpenWithPassphrase(tc.passphrase, tc.env, tc.ad)
			if !errors.Is(err, tc.want) || got != nil {
				t.Fatalf("OpenWithPassphrase = %q, %v; want %v", got, err, tc.want)
			}
			if strings.Contains(err.Error(), string(testSecret)) || strings.Contains(err.Error(), goldenPlaintext) {
				t.Fatalf("error leaks a secret: %v", err)
			}
		})
	}
	for name, p := range map[string]Params{"weak": {Time: 1, MemoryKiB: 1024, Threads: 1}, "huge": {Time: 3, MemoryKiB: 1 << 30, Threads: 4}} {
		if _, err := SealWithPassphrase(testSecret, []byte("x"), nil, p); !errors.Is(err, ErrParams) {
			t.Errorf("SealWithPassphrase with %s params: %v, want ErrParams", name, err)
		}
	}
}

// TestWeakEnvelopeRefusedEvenIfAuthentic builds a correctly sealed envelope with
// parameters below MinParams (as an attacker who knows the passphrase, or an old tool,
// might) and checks that it is refused on its parameters, before any derivation.
func TestWeakEnvelopeRefusedEvenIfAuthentic(t *testing.T) {
	weak := Params{Time: 1, MemoryKiB: 64, Threads: 1}
	salt := NewSalt()
	k := &Key{k: new([KeySize]byte)}
	copy(k.k[:], argon2.IDKey(testSecret, salt, weak.Time, weak.MemoryKiB, weak.Threads, KeySize))
	header := []byte(Magic)
	header = append(header, envelopeVersion)
	header = binary.BigEndian.AppendUint32(header, weak.Time)
	header = binary.BigEndian.AppendUint32(header, weak.MemoryKiB)
	header = append(header, weak.Threads)
	header = append(header, salt...)
	env := k.seal(bytes.Clone(header), []byte("secret"), envelopeAD(header, nil))
	// It is authentic: the payload opens under the weak key.
	if got, err := k.Open(env[HeaderSize:], envelopeAD(header, nil)); err != nil || string(got) != "secret" {
		t.Fatalf("hand-built envelope does not open under its own key: %v", err)
	}
	if got, err := OpenWithPassphrase(testSecret, env, nil); !errors.Is(err, ErrParams) || got != nil {
		t.Fatalf("weak authentic envelope: %q, %v; want ErrParams", got, err)
	}
}

// TestEnvelopeEveryByteFlipped flips every byte of an envelope: nothing opens, and the
// error is the one the flipped part calls for.
func TestEnvelopeEveryByteFlipped(t *testing.T) {
	env := golden(t)
	for i := range env {
		mutated := bytes.Clone(env)
		mutated[i] ^= 0x01
		got, err := OpenWithPassphrase(testSecret, mutated, goldenAD)
		if got != nil || err == nil {
			t.Fatalf("byte %d flipped: opened", i)
		}
		var want []error
		switch {
		case i <= len(Magic): // magic and version
			want = []error{ErrFormat}
		case i < len(Magic)+10: // parameters: out of range, or in range with another key
			want = []error{ErrParams, ErrDecrypt}
		default: // salt and payload
			want = []error{ErrDecrypt}
		}
		ok := false
		for _, w := range want {
			ok = ok || errors.Is(err, w)
		}
		if !ok {
			t.Fatalf("byte %d flipped: %v, want one of %v", i, err, want)
		}
	}
}

// FuzzOpenWithPassphrase feeds arbitrary bytes: no panic, errors are the package's, and
// nothing but the untouched golden envelope opens.
func FuzzOpenWithPassphrase(f *testing.F) {
	env := golden(f)
	f.Add(env)
	f.Add(env[:HeaderSize])
	f.Add(env[:HeaderSize+Overhead])
	f.Add([]byte(Magic))
	f.Add([]byte{})
	f.Add(append(bytes.Clone(env), 0))
	weak := bytes.Clone(env)
	weak[len(Magic)+4] = 1 // time 1
	f.Add(weak)
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := OpenWithPassphrase(testSecret, data, goldenAD)
		if err == nil {
			if !bytes.Equal(data, env) {
				t.Fatalf("mutated envelope opened: %x", data)
			}
			if string(got) != goldenPlaintext {
				t.Fatalf("golden envelope opened to %q", got)
			}
			return
		}
		if got != nil {
			t.Fatal("plaintext returned with an error")
		}
		if !errors.Is(err, ErrDecrypt) && !errors.Is(err, ErrFormat) && !errors.Is(err, ErrParams) {
			t.Fatalf("unexpected error %v", err)
		}
	})
}

func BenchmarkDeriveKey(b *testing.B) {
	salt := NewSalt()
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		if _, err := DeriveKey(testSecret, salt, DefaultParams); err != nil {
			b.Fatal(err)
		}
		n++
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(n), "ms/derive")
}

func BenchmarkSeal1KiB(b *testing.B) {
	k := testKey(b, "bench")
	pt := make([]byte, 1024)
	ad := []byte("key-1")
	b.ReportAllocs()
	b.SetBytes(int64(len(pt)))
	for b.Loop() {
		k.Seal(pt, ad)
	}
}

func BenchmarkOpen1KiB(b *testing.B) {
	k := testKey(b, "bench")
	ad := []byte("key-1")
	sealed := k.Seal(make([]byte, 1024), ad)
	b.ReportAllocs()
	b.SetBytes(1024)
	for b.Loop() {
		if _, err := k.Open(sealed, ad); err != nil {
			b.Fatal(err)
		}
	}
}

func TestEnvelopeParams(t *testing.T) {
	p := Params{Time: 2, MemoryKiB: MinParams.MemoryKiB, Threads: 1}
	sealed, err := SealWithPassphrase([]byte("a passphrase"), []byte("x"), nil, p)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := EnvelopeParams(sealed); err != nil || got != p {
		t.Fatalf("EnvelopeParams = %+v %v, want %+v", got, err, p)
	}
	for name, bad := range map[string][]byte{
		"short":       sealed[:HeaderSize-1],
		"wrong magic": append([]byte("X"), sealed[1:]...),
	} {
		if _, err := EnvelopeParams(bad); !errors.Is(err, ErrFormat) {
			t.Errorf("%s: %v, want ErrFormat", name, err)
		}
	}
}
