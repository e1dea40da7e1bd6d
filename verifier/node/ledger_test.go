package node

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/big"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/civitas-net/civitas/internal/filelock"
	"github.com/civitas-net/civitas/keys"
)

// ledgerT0 is the tests' clock: entries carry explicit times from it.
var ledgerT0 = time.Date(2025, 3, 1, 9, 30, 0, 123456000, time.UTC)

func ledgerKey(t testing.TB, alg keys.Algorithm) crypto.Signer {
	t.Helper()
	k, err := keys.Generate(alg)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func openLedgerT(t testing.TB, path string, key crypto.Signer) *Ledger {
	t.Helper()
	l, err := OpenLedger(path, key)
	if err != nil {
		t.Fatalf("OpenLedger: %v", err)
	}
	t.Cleanup(func() { _ = l.Close() })
	return l
}

// ledgerSample is the i-th test entry as a caller hands it to Append.
func ledgerSample(i int) LedgerEntry {
	decisions := []string{Admitted, Refused, AdmittedFlagged}
	e := LedgerEntry{
		At:         ledgerT0.Add(time.Duration(i) * time.Minute),
		Type:       "MembershipCredential",
		SubjectRef: fmt.Sprintf("ref-%03d", i),
		Decision:   decisions[i%3],
	}
	if e.Decision != Admitted {
		e.Codes = []string{"expired", CodeNotResidentHere}
	}
	if i%2 == 0 {
		e.Challenge = fmt.Sprintf("nonce-%03d", i)
	}
	if i%4 == 3 {
		e.Type, e.SubjectRef = "", "" // both optional
	}
	return e
}

func appendN(t testing.TB, l *Ledger, from, n int) []LedgerEntry {
	t.Helper()
	var out []LedgerEntry
	for i := from; i < from+n; i++ {
		e, err := l.Append(ledgerSample(i))
		if err != nil {
			t.Fatalf("Append %d: %v", i, err)
		}
		out = append(out, e)
	}
	return out
}

func fileSum(t testing.TB, path string) [32]byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return sha256.Sum256(b)
}

// ledgerLines returns the file's lines without their newlines (the file must end in one).
func ledgerLines(t testing.TB, path string) [][]byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) == 0 {
		return nil
	}
	if b[len(b)-1] != '\n' {
		t.Fatalf("ledger file does not end in a newline")
	}
	return bytes.Split(b[:len(b)-1], []byte("\n"))
}

func writeLines(t testing.TB, path string, lines [][]byte) {
	t.Helper()
	var buf bytes.Buffer
	for _, l := range lines {
		buf.Write(l)
		buf.WriteByte('\n')
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
}

// resign gives e a fresh hash and key's signature over it, as a node key holder could.
func resign(t testing.TB, key crypto.Signer, e LedgerEntry) LedgerEntry {
	t.Helper()
	e.Hash = e.ComputeHash()
	sum, err := hex.DecodeString(e.Hash)
	if err != nil {
		t.Fatalf("hash %q: %v", e.Hash, err)
	}
	sig, err := ledgerSign(key, ledgerSignedMessage(sum))
	if err != nil {
		t.Fatal(err)
	}
	e.Signature = base64.RawURLEncoding.EncodeToString(sig)
	return e
}

func mustJSON(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestLedgerRoundTrip(t *testing.T) {
	for _, alg := range []keys.Algorithm{keys.Ed25519, keys.P256} {
		t.Run(string(alg), func(t *testing.T) {
			key := ledgerKey(t, alg)
			path := filepath.Join(t.TempDir(), "ledger.jsonl")
			l, err := OpenLedger(path, key)
			if err != nil {
				t.Fatal(err)
			}
			if seq, hash := l.Head(); seq != 0 || hash != "" {
				t.Fatalf("empty ledger Head = %d, %q", seq, hash)
			}
			fi, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			if fi.Mode().Perm() != 0o600 {
				t.Errorf("ledger file mode %v, want 0600", fi.Mode().Perm())
			}
			written := appendN(t, l, 0, 6)
			for i, e := range written {
				if e.Seq != int64(i+1) {
					t.Errorf("entry %d has seq %d", i, e.Seq)
				}
				if err := VerifyEntry(e, key.Public()); err != nil {
					t.Errorf("VerifyEntry(entry %d): %v", i, err)
				}
			}
			if err := l.Close(); err != nil {
				t.Fatal(err)
			}

			if got := len(ledgerLines(t, path)); got != 6 {
				t.Fatalf("file has %d lines, want 6", got)
			}
			l2 := openLedgerT(t, path, key)
			if l2.Recovered() != 0 {
				t.Errorf("Recovered = %d on a clean file", l2.Recovered())
			}
			got := l2.After(0)
			if !reflect.DeepEqual(got, written) {
				t.Fatalf("after reopen:\n got %+v\nwant %+v", got, written)
			}
			if seq, hash := l2.Head(); seq != 6 || hash != written[5].Hash {
				t.Errorf("Head = %d, %q; want 6, %q", seq, hash, written[5].Hash)
			}
			if err := VerifyChain(got, key.Public(), 0, ""); err != nil {
				t.Errorf("VerifyChain: %v", err)
			}
			next, err := l2.Append(ledgerSample(6))
			if err != nil {
				t.Fatal(err)
			}
			if next.Seq != 7 || next.PrevHash != written[5].Hash {
				t.Errorf("append after reopen: seq %d prevHash %q", next.Seq, next.PrevHash)
			}
		})
	}
}

func TestLedgerAppendSetsFields(t *testing.T) {
	key := ledgerKey(t, keys.Ed25519)
	path := filepath.Join(t.TempDir(), "ledger.jsonl")
	l := openLedgerT(t, path, key)

	zone := time.FixedZone("site", 2*3600)
	at := time.Date(2025, 6, 1, 12, 0, 0, 987654321, zone)
	codes := []string{"revoked"}
	in := LedgerEntry{
		Seq: 99, At: at, Decision: Refused, Codes: codes,
		PrevHash: strings.Repeat("a", 64), Hash: "bogus", Signature: "bogus",
	}
	e, err := l.Append(in)
	if err != nil {
		t.Fatal(err)
	}
	if e.Seq != 1 || e.PrevHash != "" {
		t.Errorf("caller's seq/prevHash kept: %d %q", e.Seq, e.PrevHash)
	}
	if want := at.UTC().Truncate(time.Microsecond); !e.At.Equal(want) || e.At.Location() != time.UTC || e.At.Nanosecond() != 987654000 {
		t.Errorf("At = %v, want %v in UTC", e.At, want)
	}
	if e.Hash != e.ComputeHash() || e.Hash == "bogus" {
		t.Errorf("hash not set")
	}
	codes[0] = "changed" // the ledger keeps its own copy
	if got := l.After(0)[0].Codes[0]; got != "revoked" {
		t.Errorf("caller's slice aliased: %q", got)
	}
	l.After(0)[0].Codes[0] = "changed"
	if got := l.After(0)[0].Codes[0]; got != "revoked" {
		t.Errorf("After's slice aliased: %q", got)
	}

	now, err := l.Append(LedgerEntry{Decision: Admitted, Codes: []string{}})
	if err != nil {
		t.Fatal(err)
	}
	if now.At.IsZero() || now.At.Location() != time.UTC || now.At.Nanosecond()%1000 != 0 {
		t.Errorf("zero At became %v", now.At)
	}
	if now.Codes != nil {
		t.Errorf("empty codes kept as %#v", now.Codes)
	}
}

// TestLedgerSignatureForms checks the signature encodings independently of the code
// that makes them: Ed25519 over the tagged hash, and P-256 as r||s over its SHA-256.
func TestLedgerSignatureForms(t *testing.T) {
	for _, alg := range []keys.Algorithm{keys.Ed25519, keys.P256} {
		t.Run(string(alg), func(t *testing.T) {
			key := ledgerKey(t, alg)
			l := openLedgerT(t, filepath.Join(t.TempDir(), "ledger.jsonl"), key)
			e, err := l.Append(ledgerSample(1))
			if err != nil {
				t.Fatal(err)
			}
			sig, err := base64.RawURLEncoding.DecodeString(e.Signature)
			if err != nil || len(sig) != 64 {
				t.Fatalf("signature %q: %v, %d bytes", e.Signature, err, len(sig))
			}
			sum, _ := hex.DecodeString(e.Hash)
			msg := append([]byte("civitas-ledger-v1 signature\x00"), sum...)
			var ok bool
			switch pub := key.Public().(type) {
			case ed25519.PublicKey:
				ok = ed25519.Verify(pub, msg, sig)
			case *ecdsa.PublicKey:
				d := sha256.Sum256(msg)
				ok = ecdsa.Verify(pub, d[:], new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:]))
			}
			if !ok {
				t.Errorf("signature does not verify as documented")
			}
		})
	}
}

// TestLedgerComputeHash pins the hash input: the canonical JSON is written out here by
// hand, so a change of format shows.
func TestLedgerComputeHash(t *testing.T) {
	e := LedgerEntry{
		Seq: 2, At: time.Date(2025, 1, 2, 3, 4, 5, 6007008, time.FixedZone("x", -3600)),
		Type: "ResidencyCredential", SubjectRef: "zQ3é", Decision: AdmittedFlagged,
		Codes: []string{"bundle_stale", "a\"b"}, Challenge: "n0nce", PrevHash: strings.Repeat("0f", 32),
		Hash: "ignored", Signature: "ignored",
	}
	canon := `{"at":"2025-01-02T04:04:05.006007Z","challenge":"n0nce","codes":["bundle_stale","a\"b"],"decision":"admitted-flagged",` +
		`"prevHash":"` + strings.Repeat("0f", 32) + `","seq":2,"subjectRef":"zQ3é","type":"ResidencyCredential"}`
	want := sha256.Sum256([]byte("civitas-ledger-v1\x00" + canon))
	if got := e.ComputeHash(); got != hex.EncodeToString(want[:]) {
		t.Errorf("ComputeHash = %s, want %x", got, want)
	}

	bare := LedgerEntry{Seq: 1, At: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC), Decision: Refused}
	canon = `{"at":"2025-01-02T03:04:05.000000Z","challenge":"","codes":[],"decision":"refused","prevHash":"","seq":1,"subjectRef":"","type":""}`
	want = sha256.Sum256([]byte("civitas-ledger-v1\x00" + canon))
	if got := bare.ComputeHash(); got != hex.EncodeToString(want[:]) {
		t.Errorf("ComputeHash(bare) = %s, want %x", got, want)
	}
	withEmpty := bare
	withEmpty.Codes = []string{}
	if withEmpty.ComputeHash() != bare.ComputeHash() {
		t.Errorf("nil and empty codes hash differently")
	}
	if got := (LedgerEntry{Seq: 1, At: bare.At, Decision: Refused, Type: "\xff"}).ComputeHash(); got != "" {
		t.Errorf("ComputeHash of invalid UTF-8 = %q, want empty", got)
	}
}

func TestLedgerAppendInvalid(t *testing.T) {
	key := ledgerKey(t, keys.Ed25519)
	path := filepath.Join(t.TempDir(), "ledger.jsonl")
	l := openLedgerT(t, path, key)
	appendN(t, l, 0, 2)
	before := fileSum(t, path)
	long := strings.Repeat("x", MaxLedgerField+1)
	tooMany := make([]string, MaxLedgerCodes+1)
	for i := range tooMany {
		tooMany[i] = "c"
	}
	cases := map[string]LedgerEntry{
		"no decision":         {},
		"unknown decision":    {Decision: "maybe"},
		"decision case":       {Decision: "Admitted"},
		"long type":           {Decision: Admitted, Type: long},
		"long subjectRef":     {Decision: Admitted, SubjectRef: long},
		"long challenge":      {Decision: Admitted, Challenge: long},
		"challenge not utf-8": {Decision: Admitted, Challenge: "\xff"},
		"too many codes":      {Decision: Refused, Codes: tooMany},
		"long code":           {Decision: Refused, Codes: []string{long}},
		"empty code":          {Decision: Refused, Codes: []string{""}},
		"type not utf-8":      {Decision: Admitted, Type: "a\xffb"},
		"code not utf-8":      {Decision: Refused, Codes: []string{"\xc3"}},
		"year 10000":          {Decision: Admitted, At: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)},
		"year before 0001":    {Decision: Admitted, At: time.Date(0, 12, 31, 0, 0, 0, 0, time.UTC)},
		"ref at the bound+":   {Decision: Admitted, SubjectRef: strings.Repeat("é", MaxLedgerField/2) + "x"},
	}
	for name, e := range cases {
		t.Run(name, func(t *testing.T) {
			if _, err := l.Append(e); !errors.Is(err, ErrInvalidEntry) {
				t.Fatalf("Append = %v, want ErrInvalidEntry", err)
			}
			if seq, _ := l.Head(); seq != 2 {
				t.Fatalf("ledger advanced to %d", seq)
			}
		})
	}
	if fileSum(t, path) != before {
		t.Fatal("rejected appends changed the file")
	}
	// At the bounds is fine, and the ledger is still usable.
	ok := LedgerEntry{Decision: Refused, Type: long[:MaxLedgerField], SubjectRef: long[:MaxLedgerField], Codes: tooMany[:MaxLedgerCodes]}
	if e, err := l.Append(ok); err != nil || e.Seq != 3 {
		t.Fatalf("Append at the bounds = %d, %v", e.Seq, err)
	}
}

func TestLedgerTornTail(t *testing.T) {
	key := ledgerKey(t, keys.Ed25519)
	// A fourth entry made by another ledger with the same key: a real line to tear.
	spare := openLedgerT(t, filepath.Join(t.TempDir(), "spare.jsonl"), key)
	fourth := mustJSON(t, appendN(t, spare, 0, 4)[3])

	cases := []struct {
		name  string
		lines int // good lines kept before the tail
		tail  []byte
	}{
		{"half a line", 3, fourth[:len(fourth)/2]},
		{"whole line without newline", 3, fourth},
		{"one byte", 3, []byte("{")},
		{"zeros, size extended but data lost", 3, make([]byte, 300)},
		{"unparsable line with newline", 3, append(bytes.Repeat([]byte{0}, 40), '\n')},
		{"cut mid string with newline", 3, append(append([]byte(nil), fourth[:30]...), '\n')},
		{"only line torn", 0, fourth[:10]},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "ledger.jsonl")
			l := openLedgerT(t, path, key)
			good := appendN(t, l, 0, tc.lines)
			if err := l.Close(); err != nil {
				t.Fatal(err)
			}
			fi, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			goodSize := fi.Size()
			f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := f.Write(tc.tail); err != nil {
				t.Fatal(err)
			}
			f.Close()

			l2 := openLedgerT(t, path, key)
			if l2.Recovered() != 1 {
				t.Errorf("Recovered = %d, want 1", l2.Recovered())
			}
			if fi, err := os.Stat(path); err != nil || fi.Size() != goodSize {
				t.Fatalf("file size after recovery %d, want %d (%v)", fi.Size(), goodSize, err)
			}
			if got := l2.After(0); !reflect.DeepEqual(got, good) {
				t.Fatalf("entries after recovery differ")
			}
			next, err := l2.Append(ledgerSample(7))
			if err != nil {
				t.Fatal(err)
			}
			if want := int64(tc.lines + 1); next.Seq != want {
				t.Fatalf("next seq %d, want %d", next.Seq, want)
			}
			if err := l2.Close(); err != nil {
				t.Fatal(err)
			}
			l3 := openLedgerT(t, path, key)
			if l3.Recovered() != 0 {
				t.Errorf("second reopen Recovered = %d", l3.Recovered())
			}
			all := l3.After(0)
			if len(all) != tc.lines+1 {
				t.Fatalf("%d entries after reopen, want %d", len(all), tc.lines+1)
			}
			if err := VerifyChain(all, key.Public(), 0, ""); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestLedgerCorrupt(t *testing.T) {
	key := ledgerKey(t, keys.Ed25519)
	other := ledgerKey(t, keys.Ed25519)
	dir := t.TempDir()
	orig := filepath.Join(dir, "orig.jsonl")
	l := openLedgerT(t, orig, key)
	entries := appendN(t, l, 0, 5)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	lines := ledgerLines(t, orig)

	// edit returns lines with line i replaced by f applied to its entry.
	edit := func(i int, f func(*LedgerEntry)) [][]byte {
		out := append([][]byte(nil), lines...)
		e := entries[i]
		f(&e)
		out[i] = mustJSON(t, e)
		return out
	}
	replace := func(i int, line string) [][]byte {
		out := append([][]byte(nil), lines...)
		out[i] = []byte(line)
		return out
	}
	cases := map[string][][]byte{
		"line deleted":          {lines[0], lines[2], lines[3], lines[4]},
		"first deleted":         {lines[1], lines[2], lines[3], lines[4]},
		"lines swapped":         {lines[0], lines[2], lines[1], lines[3], lines[4]},
		"reversed":              {lines[4], lines[3], lines[2], lines[1], lines[0]},
		"line repeated":         {lines[0], lines[1], lines[1], lines[2], lines[3], lines[4]},
		"last repeated":         {lines[0], lines[1], lines[2], lines[3], lines[4], lines[4]},
		"blank line":            {lines[0], lines[1], {}, lines[2], lines[3], lines[4]},
		"garbage in the middle": {lines[0], []byte("\x00\x00\x00"), lines[1], lines[2], lines[3], lines[4]},
		"decision changed":      edit(1, func(e *LedgerEntry) { e.Decision = Admitted + "x" }),
		"field changed, rehashed, not re-signed": edit(1, func(e *LedgerEntry) {
			e.Decision = Admitted
			e.Hash = e.ComputeHash()
		}),
		"field changed, re-signed, next not rechained": edit(1, func(e *LedgerEntry) {
			e.Decision = Admitted
			*e = resign(t, key, *e)
		}),
		"signature of another entry":         edit(1, func(e *LedgerEntry) { e.Signature = entries[2].Signature }),
		"signed by another key":              edit(2, func(e *LedgerEntry) { *e = resign(t, other, *e) }),
		"last line tampered":                 edit(4, func(e *LedgerEntry) { e.SubjectRef = "someone-else" }),
		"last line re-signed by another key": edit(4, func(e *LedgerEntry) { *e = resign(t, other, *e) }),
		"last line an empty object":          replace(4, "{}"),
		"last line null":                     replace(4, "null"),
		"unknown member":                     replace(1, strings.Replace(string(lines[1]), `{"seq"`, `{"x":1,"seq"`, 1)),
		"duplicate member":                   replace(1, strings.Replace(string(lines[1]), `{"seq":2`, `{"seq":2,"seq":2`, 1)),
		"member name case":                   replace(1, strings.Replace(string(lines[1]), `"seq"`, `"Seq"`, 1)),
		"spacing":                            replace(1, strings.Replace(string(lines[1]), `"seq":2`, `"seq": 2`, 1)),
		"seq as float":                       replace(1, strings.Replace(string(lines[1]), `"seq":2`, `"seq":2.0`, 1)),
		"time with offset":                   replace(1, strings.Replace(string(lines[1]), `Z"`, `+00:00"`, 1)),
		"codes null":                         replace(0, strings.Replace(string(lines[0]), `"prevHash"`, `"codes":null,"prevHash"`, 1)),
		"trailing space":                     replace(1, string(lines[1])+" "),
		"CRLF":                               replace(1, string(lines[1])+"\r"),
	}
	// Every single-bit flip anywhere in an earlier line.
	for i := range lines[1] {
		for _, bit := range []byte{0x01, 0x20, 0x80} {
			out := append([][]byte(nil), lines...)
			out[1] = bytes.Clone(lines[1])
			out[1][i] ^= bit
			cases[fmt.Sprintf("flip %#x at byte %d", bit, i)] = out
		}
	}

	path := filepath.Join(dir, "ledger.jsonl")
	for name, content := range cases {
		writeLines(t, path, content)
		before := fileSum(t, path)
		l, err := OpenLedger(path, key)
		if err == nil {
			l.Close()
		}
		if !errors.Is(err, ErrLedgerCorrupt) {
			t.Errorf("%s: OpenLedger = %v, want ErrLedgerCorrupt", name, err)
			continue
		}
		if fileSum(t, path) != before {
			t.Errorf("%s: a refused ledger was changed", name)
		}
	}
	// A refused open leaves the lock free.
	writeLines(t, path, lines)
	openLedgerT(t, path, key)
}

func TestLedgerWrongKey(t *testing.T) {
	key := ledgerKey(t, keys.Ed25519)
	path := filepath.Join(t.TempDir(), "ledger.jsonl")
	l := openLedgerT(t, path, key)
	appendN(t, l, 0, 3)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	before := fileSum(t, path)
	for _, k := range []crypto.Signer{ledgerKey(t, keys.Ed25519), ledgerKey(t, keys.P256)} {
		if _, err := OpenLedger(path, k); !errors.Is(err, ErrLedgerCorrupt) {
			t.Errorf("OpenLedger with a %T = %v, want ErrLedgerCorrupt", k, err)
		}
	}
	if fileSum(t, path) != before {
		t.Fatal("file changed")
	}
}

func TestLedgerLocked(t *testing.T) {
	key := ledgerKey(t, keys.P256)
	path := filepath.Join(t.TempDir(), "ledger.jsonl")
	l, err := OpenLedger(path, key)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := OpenLedger(path, key); !errors.Is(err, ErrLocked) {
		t.Fatalf("second OpenLedger = %v, want ErrLocked", err)
	}
	// Another process would see the same lock.
	if _, err := filelock.Lock(path+".lock", false); !errors.Is(err, filelock.ErrLocked) {
		t.Fatalf("lock file not held: %v", err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatalf("second Close = %v", err)
	}
	if _, err := l.Append(ledgerSample(0)); !errors.Is(err, ErrLedgerClosed) {
		t.Fatalf("Append after Close = %v, want ErrLedgerClosed", err)
	}
	openLedgerT(t, path, key)
}

func TestLedgerConcurrentAppends(t *testing.T) {
	key := ledgerKey(t, keys.Ed25519)
	path := filepath.Join(t.TempDir(), "ledger.jsonl")
	l := openLedgerT(t, path, key)
	const workers, each = 8, 20
	seqs := make(chan int64, workers*each)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				e, err := l.Append(ledgerSample(w*each + i))
				if err != nil {
					t.Error(err)
					return
				}
				seqs <- e.Seq
				_, _ = l.Head()
				_ = l.After(e.Seq - 1)
			}
		})
	}
	wg.Wait()
	close(seqs)
	seen := map[int64]bool{}
	for s := range seqs {
		if seen[s] {
			t.Fatalf("seq %d handed out twice", s)
		}
		seen[s] = true
	}
	all := l.After(0)
	if len(all) != workers*each || len(seen) != workers*each {
		t.Fatalf("%d entries, %d seqs; want %d", len(all), len(seen), workers*each)
	}
	if err := VerifyChain(all, key.Public(), 0, ""); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if l2 := openLedgerT(t, path, key); len(l2.After(0)) != workers*each {
		t.Fatal("reopened ledger lost entries")
	}
}

func TestLedgerWriteFailure(t *testing.T) {
	key := ledgerKey(t, keys.Ed25519)
	path := filepath.Join(t.TempDir(), "ledger.jsonl")
	l := openLedgerT(t, path, key)
	good := appendN(t, l, 0, 3)
	headSeq, headHash := l.Head()

	// Swap the file for a read-only handle: the next write fails as a full disk would.
	ro, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	l.mu.Lock()
	rw := l.f
	l.f = ro
	l.mu.Unlock()

	if _, err := l.Append(ledgerSample(3)); !errors.Is(err, ErrLedgerFailed) {
		t.Fatalf("Append on a failing file = %v, want ErrLedgerFailed", err)
	}
	if s, h := l.Head(); s != headSeq || h != headHash {
		t.Fatalf("ledger advanced after a failed write: %d", s)
	}
	// Even with a working file again, it refuses until reopened.
	l.mu.Lock()
	l.f = rw
	l.mu.Unlock()
	ro.Close()
	if _, err := l.Append(ledgerSample(3)); !errors.Is(err, ErrLedgerFailed) {
		t.Fatalf("Append after a failure = %v, want ErrLedgerFailed", err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	l2 := openLedgerT(t, path, key)
	if !reflect.DeepEqual(l2.After(0), good) {
		t.Fatal("entries changed")
	}
	if e, err := l2.Append(ledgerSample(3)); err != nil || e.Seq != 4 {
		t.Fatalf("Append after reopen = %d, %v", e.Seq, err)
	}
}

// TestLedgerSyncFailure: a line that was written but whose sync failed is taken back
// off the file, and the ledger refuses appends until reopened.
func TestLedgerSyncFailure(t *testing.T) {
	key := ledgerKey(t, keys.Ed25519)
	path := filepath.Join(t.TempDir(), "ledger.jsonl")
	l := openLedgerT(t, path, key)
	good := appendN(t, l, 0, 2)
	before := fileSum(t, path)

	ledgerSyncFile = func(*os.File) error { return errors.New("i/o error") }
	_, err := l.Append(ledgerSample(2))
	ledgerSyncFile = (*os.File).Sync
	if !errors.Is(err, ErrLedgerFailed) {
		t.Fatalf("Append with a failing sync = %v, want ErrLedgerFailed", err)
	}
	if fileSum(t, path) != before {
		t.Fatal("the unacknowledged line was left in the file")
	}
	if _, err := l.Append(ledgerSample(2)); !errors.Is(err, ErrLedgerFailed) {
		t.Fatalf("Append after a failed sync = %v, want ErrLedgerFailed", err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	l2 := openLedgerT(t, path, key)
	if !reflect.DeepEqual(l2.After(0), good) || l2.Recovered() != 0 {
		t.Fatal("reopened ledger differs")
	}
}

// flakySigner fails to sign while fail is set.
type flakySigner struct {
	crypto.Signer
	fail bool
}

func (s *flakySigner) Sign(r io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	if s.fail {
		return nil, errors.New("token removed")
	}
	return s.Signer.Sign(r, digest, opts)
}

func TestLedgerSignerFailure(t *testing.T) {
	for _, alg := range []keys.Algorithm{keys.Ed25519, keys.P256} {
		t.Run(string(alg), func(t *testing.T) {
			key := &flakySigner{Signer: ledgerKey(t, alg)}
			path := filepath.Join(t.TempDir(), "ledger.jsonl")
			l := openLedgerT(t, path, key)
			appendN(t, l, 0, 1)
			before := fileSum(t, path)
			key.fail = true
			if _, err := l.Append(ledgerSample(1)); err == nil || errors.Is(err, ErrLedgerFailed) {
				t.Fatalf("Append with a failing signer = %v", err)
			}
			if fileSum(t, path) != before {
				t.Fatal("file changed")
			}
			key.fail = false // nothing was written, so the ledger goes on
			if e, err := l.Append(ledgerSample(1)); err != nil || e.Seq != 2 {
				t.Fatalf("Append = %d, %v", e.Seq, err)
			}
		})
	}
}

func TestOpenLedgerErrors(t *testing.T) {
	dir := t.TempDir()
	ed := ledgerKey(t, keys.Ed25519)
	if _, err := OpenLedger(filepath.Join(dir, "missing", "ledger.jsonl"), ed); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing folder: %v", err)
	}
	p384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	for name, k := range map[string]crypto.Signer{"nil": nil, "P-384": p384} {
		if _, err := OpenLedger(filepath.Join(dir, "ledger.jsonl"), k); !errors.Is(err, keys.ErrUnsupportedKey) {
			t.Errorf("%s key: %v, want keys.ErrUnsupportedKey", name, err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "ledger.jsonl")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a refused open created the file")
	}
}

func TestLedgerSinceAfter(t *testing.T) {
	key := ledgerKey(t, keys.Ed25519)
	l := openLedgerT(t, filepath.Join(t.TempDir(), "ledger.jsonl"), key)
	all := appendN(t, l, 0, 5) // At = t0, t0+1m, ..., t0+4m
	seqs := func(es []LedgerEntry) []int64 {
		var out []int64
		for _, e := range es {
			out = append(out, e.Seq)
		}
		return out
	}
	for _, tc := range []struct {
		name string
		got  []LedgerEntry
		want []int64
	}{
		{"since long ago", l.Since(time.Time{}), []int64{1, 2, 3, 4, 5}},
		{"since an entry's time (inclusive)", l.Since(all[2].At), []int64{3, 4, 5}},
		{"since between entries", l.Since(all[2].At.Add(time.Second)), []int64{4, 5}},
		{"since in another zone", l.Since(all[3].At.In(time.FixedZone("x", 5*3600))), []int64{4, 5}},
		{"since after the last", l.Since(all[4].At.Add(time.Microsecond)), nil},
		{"after 0", l.After(0), []int64{1, 2, 3, 4, 5}},
		{"after negative", l.After(-7), []int64{1, 2, 3, 4, 5}},
		{"after 3", l.After(3), []int64{4, 5}},
		{"after head", l.After(5), nil},
		{"after beyond head", l.After(1 << 62), nil},
	} {
		if got := seqs(tc.got); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: seqs %v, want %v", tc.name, got, tc.want)
		}
	}
	// A continuation from the issuer's last seen entry verifies on its own.
	if err := VerifyChain(l.After(2), key.Public(), 2, all[1].Hash); err != nil {
		t.Errorf("VerifyChain of After(2): %v", err)
	}
}

// ledgerChain returns n entries of a fresh ledger signed by key.
func ledgerChain(t testing.TB, key crypto.Signer, n int) []LedgerEntry {
	t.Helper()
	l := openLedgerT(t, filepath.Join(t.TempDir(), "chain.jsonl"), key)
	return appendN(t, l, 0, n)
}

func TestVerifyChain(t *testing.T) {
	key := ledgerKey(t, keys.Ed25519)
	pub := key.Public()
	chain := ledgerChain(t, key, 4)
	p256 := ledgerKey(t, keys.P256)
	pchain := ledgerChain(t, p256, 3)

	clone := func() []LedgerEntry {
		out := make([]LedgerEntry, len(chain))
		for i, e := range chain {
			out[i] = ledgerCopy(e)
		}
		return out
	}
	// mod changes entry i of a copy of the chain; with sign, the entry is then given a
	// correct hash and signature by the right key, so only the rule under test fails.
	mod := func(i int, sign bool, f func(*LedgerEntry)) []LedgerEntry {
		out := clone()
		f(&out[i])
		if sign {
			out[i] = resign(t, key, out[i])
		}
		return out
	}
	long := strings.Repeat("r", MaxLedgerField+1)
	//lint:ignore SA1019 building a key off the curve needs the raw coordinates.
	offCurve := &ecdsa.PublicKey{Curve: elliptic.P256(), X: big.NewInt(1), Y: big.NewInt(1)}
	type tc struct {
		name     string
		entries  []LedgerEntry
		pub      crypto.PublicKey
		noPub    bool // pass a nil pub instead of the default key
		prevSeq  int64
		prevHash string
		wantErr  error
	}
	cases := []tc{
		{name: "valid", entries: chain},
		{name: "empty", entries: nil},
		{name: "continuation", entries: chain[2:], prevSeq: 2, prevHash: chain[1].Hash},
		{name: "P-256 chain", entries: pchain, pub: p256.Public()},
		{name: "gap", entries: []LedgerEntry{chain[0], chain[2], chain[3]}, wantErr: ErrLedgerCorrupt},
		{name: "starts late", entries: chain[1:], wantErr: ErrLedgerCorrupt},
		{name: "repeat", entries: []LedgerEntry{chain[0], chain[1], chain[1]}, wantErr: ErrLedgerCorrupt},
		{name: "swapped", entries: []LedgerEntry{chain[0], chain[2], chain[1]}, wantErr: ErrLedgerCorrupt},
		{name: "wrong prevHash argument", entries: chain[2:], prevSeq: 2, prevHash: chain[0].Hash, wantErr: ErrLedgerCorrupt},
		{name: "wrong prevSeq argument", entries: chain[2:], prevSeq: 1, prevHash: chain[1].Hash, wantErr: ErrLedgerCorrupt},
		{name: "negative prevSeq", entries: chain, prevSeq: -1, wantErr: ErrLedgerCorrupt},
		{name: "huge prevSeq", entries: chain, prevSeq: 1 << 62, prevHash: chain[0].Hash, wantErr: ErrLedgerCorrupt},
		{name: "prevSeq 0 with a prevHash", entries: chain, prevHash: chain[0].Hash, wantErr: ErrLedgerCorrupt},
		{name: "prevSeq without prevHash", entries: chain[2:], prevSeq: 2, wantErr: ErrLedgerCorrupt},
		{name: "upper-case prevHash argument", entries: chain[2:], prevSeq: 2, prevHash: strings.ToUpper(chain[1].Hash), wantErr: ErrLedgerCorrupt},
		{name: "wrong key", entries: chain, pub: ledgerKey(t, keys.Ed25519).Public(), wantErr: ErrLedgerCorrupt},
		{name: "P-256 chain, Ed25519 key", entries: pchain, wantErr: ErrLedgerCorrupt},
		{name: "Ed25519 chain, P-256 key", entries: chain, pub: p256.Public(), wantErr: ErrLedgerCorrupt},
		{name: "nil key", entries: chain, noPub: true, wantErr: keys.ErrUnsupportedKey},
		{name: "short Ed25519 key", entries: chain, pub: ed25519.PublicKey{1, 2, 3}, wantErr: keys.ErrUnsupportedKey},
		{name: "empty ECDSA key", entries: pchain, pub: &ecdsa.PublicKey{Curve: elliptic.P256()}, wantErr: keys.ErrInvalidKey},
		{name: "nil ECDSA key", entries: chain, pub: (*ecdsa.PublicKey)(nil), wantErr: keys.ErrUnsupportedKey},
		{name: "private key as public", entries: chain, pub: key, wantErr: keys.ErrUnsupportedKey},
		{name: "ECDSA point off the curve", entries: pchain, pub: offCurve, wantErr: keys.ErrInvalidKey},

		{name: "tampered decision", entries: mod(1, false, func(e *LedgerEntry) { e.Decision = Admitted }), wantErr: ErrLedgerCorrupt},
		{name: "tampered at", entries: mod(1, false, func(e *LedgerEntry) { e.At = e.At.Add(time.Microsecond) }), wantErr: ErrLedgerCorrupt},
		{name: "tampered type", entries: mod(1, false, func(e *LedgerEntry) { e.Type = "ResidencyCredential" }), wantErr: ErrLedgerCorrupt},
		{name: "tampered subjectRef", entries: mod(1, false, func(e *LedgerEntry) { e.SubjectRef += "x" }), wantErr: ErrLedgerCorrupt},
		{name: "challenge added", entries: mod(1, false, func(e *LedgerEntry) { e.Challenge = "replayed" }), wantErr: ErrLedgerCorrupt},
		{name: "challenge dropped", entries: mod(2, false, func(e *LedgerEntry) { e.Challenge = "" }), wantErr: ErrLedgerCorrupt},
		{name: "codes dropped", entries: mod(1, false, func(e *LedgerEntry) { e.Codes = nil }), wantErr: ErrLedgerCorrupt},
		{name: "codes reordered", entries: mod(1, false, func(e *LedgerEntry) { e.Codes[0], e.Codes[1] = e.Codes[1], e.Codes[0] }), wantErr: ErrLedgerCorrupt},
		{name: "rehashed, not re-signed", entries: mod(1, false, func(e *LedgerEntry) { e.Decision = Admitted; e.Codes = nil; e.Hash = e.ComputeHash() }), wantErr: ErrLedgerCorrupt},
		{name: "re-signed, next not rechained", entries: mod(1, true, func(e *LedgerEntry) { e.Decision = Admitted; e.Codes = nil }), wantErr: ErrLedgerCorrupt},
		{name: "empty hash", entries: mod(1, false, func(e *LedgerEntry) { e.Hash = "" }), wantErr: ErrLedgerCorrupt},
		{name: "upper-case hash", entries: mod(3, false, func(e *LedgerEntry) { e.Hash = strings.ToUpper(e.Hash) }), wantErr: ErrLedgerCorrupt},
		{name: "short hash", entries: mod(3, false, func(e *LedgerEntry) { e.Hash = e.Hash[:62] }), wantErr: ErrLedgerCorrupt},
		{name: "empty signature", entries: mod(1, false, func(e *LedgerEntry) { e.Signature = "" }), wantErr: ErrLedgerCorrupt},
		{name: "padded signature", entries: mod(1, false, func(e *LedgerEntry) { e.Signature += "==" }), wantErr: ErrLedgerCorrupt},
		{name: "signature outside the URL alphabet", entries: mod(1, false, func(e *LedgerEntry) {
			e.Signature = "+" + e.Signature[1:] // '+' is not in the URL alphabet
		}), wantErr: ErrLedgerCorrupt},
		{name: "non-canonical base64 tail", entries: mod(1, false, func(e *LedgerEntry) {
			// 64 bytes leave 4 unused bits in the last character; set one.
			last := strings.IndexByte("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", e.Signature[85])
			e.Signature = e.Signature[:85] + string("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"[last|1])
		}), wantErr: ErrLedgerCorrupt},
		{name: "signature of another entry", entries: mod(1, false, func(e *LedgerEntry) { e.Signature = chain[2].Signature }), wantErr: ErrLedgerCorrupt},
		{name: "signature one bit off", entries: mod(1, false, func(e *LedgerEntry) {
			sig, _ := base64.RawURLEncoding.DecodeString(e.Signature)
			sig[10] ^= 1
			e.Signature = base64.RawURLEncoding.EncodeToString(sig)
		}), wantErr: ErrLedgerCorrupt},
		{name: "P-256 zero signature", entries: func() []LedgerEntry {
			out := append([]LedgerEntry(nil), pchain...)
			out[0].Signature = base64.RawURLEncoding.EncodeToString(make([]byte, 64))
			return out
		}(), pub: p256.Public(), wantErr: ErrLedgerCorrupt},
		{name: "P-256 signature as ASN.1", entries: func() []LedgerEntry {
			out := append([]LedgerEntry(nil), pchain...)
			sum, _ := hex.DecodeString(out[0].Hash)
			d := sha256.Sum256(ledgerSignedMessage(sum))
			der, err := p256.Sign(rand.Reader, d[:], crypto.SHA256)
			if err != nil {
				t.Fatal(err)
			}
			out[0].Signature = base64.RawURLEncoding.EncodeToString(der)
			return out
		}(), pub: p256.Public(), wantErr: ErrLedgerCorrupt},

		// Signed correctly by the right key, but outside the bounds.
		{name: "unknown decision", entries: mod(0, true, func(e *LedgerEntry) { e.Decision = "waved-through" }), wantErr: ErrLedgerCorrupt},
		{name: "empty decision", entries: mod(0, true, func(e *LedgerEntry) { e.Decision = "" }), wantErr: ErrLedgerCorrupt},
		{name: "oversized type", entries: mod(0, true, func(e *LedgerEntry) { e.Type = long }), wantErr: ErrLedgerCorrupt},
		{name: "oversized subjectRef", entries: mod(0, true, func(e *LedgerEntry) { e.SubjectRef = long }), wantErr: ErrLedgerCorrupt},
		{name: "oversized challenge", entries: mod(0, true, func(e *LedgerEntry) { e.Challenge = long }), wantErr: ErrLedgerCorrupt},
		{name: "oversized code", entries: mod(0, true, func(e *LedgerEntry) { e.Codes = []string{long} }), wantErr: ErrLedgerCorrupt},
		{name: "too many codes", entries: mod(0, true, func(e *LedgerEntry) { e.Codes = make([]string, MaxLedgerCodes+1); e.Codes[0] = "x" }), wantErr: ErrLedgerCorrupt},
		{name: "empty code", entries: mod(0, true, func(e *LedgerEntry) { e.Codes = []string{""} }), wantErr: ErrLedgerCorrupt},
		{name: "time finer than µs", entries: mod(0, true, func(e *LedgerEntry) { e.At = e.At.Add(1) }), wantErr: ErrLedgerCorrupt},
		{name: "zero time", entries: mod(0, true, func(e *LedgerEntry) { e.At = time.Time{} }), wantErr: ErrLedgerCorrupt},
		{name: "year 10000", entries: mod(0, true, func(e *LedgerEntry) { e.At = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC) }), wantErr: ErrLedgerCorrupt},
		{name: "seq 1 with a prevHash", entries: mod(0, true, func(e *LedgerEntry) { e.PrevHash = chain[3].Hash }), wantErr: ErrLedgerCorrupt},
		{name: "seq 2 with empty prevHash", entries: mod(1, true, func(e *LedgerEntry) { e.PrevHash = "" }), wantErr: ErrLedgerCorrupt},
		{name: "seq beyond doubles", entries: []LedgerEntry{resign(t, key, LedgerEntry{Seq: MaxLedgerSeq + 1, At: ledgerT0, Decision: Admitted, PrevHash: chain[0].Hash})}, prevSeq: MaxLedgerSeq, prevHash: chain[0].Hash, wantErr: ErrLedgerCorrupt},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			pub := c.pub
			if pub == nil && !c.noPub {
				pub = key.Public()
			}
			err := VerifyChain(c.entries, pub, c.prevSeq, c.prevHash)
			if c.wantErr == nil {
				if err != nil {
					t.Fatalf("VerifyChain = %v, want nil", err)
				}
				return
			}
			if !errors.Is(err, c.wantErr) {
				t.Fatalf("VerifyChain = %v, want %v", err, c.wantErr)
			}
		})
	}
	// The table must not have changed the chain it was built from.
	if err := VerifyChain(chain, pub, 0, ""); err != nil {
		t.Fatalf("base chain altered: %v", err)
	}
}

func TestVerifyEntry(t *testing.T) {
	key := ledgerKey(t, keys.P256)
	chain := ledgerChain(t, key, 2)
	for _, e := range chain {
		if err := VerifyEntry(e, key.Public()); err != nil {
			t.Errorf("seq %d: %v", e.Seq, err)
		}
	}
	bad := chain[1]
	bad.SubjectRef = "x"
	if err := VerifyEntry(bad, key.Public()); !errors.Is(err, ErrLedgerCorrupt) {
		t.Errorf("tampered: %v", err)
	}
	if err := VerifyEntry(chain[0], "not a key"); !errors.Is(err, keys.ErrUnsupportedKey) {
		t.Errorf("string key: %v", err)
	}
}

// FuzzVerifyChain feeds VerifyChain entries decoded from arbitrary JSON. Nobody but
// the key holder can sign, so whatever it accepts must be entries of the seed chain,
// in order from the given point.
func FuzzVerifyChain(f *testing.F) {
	// A fixed Ed25519 key, so that corpus entries stay meaningful between runs.
	key := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{7}, 32))
	chain := ledgerChain(f, key, 4)
	known := map[string]LedgerEntry{}
	for _, e := range chain {
		known[e.Hash] = e
	}
	seed := func(es []LedgerEntry, seq int64, hash string) {
		f.Add(mustJSON(f, es), seq, hash)
	}
	seed(chain, 0, "")
	seed(chain[2:], 2, chain[1].Hash)
	seed(chain[:1], 0, "")
	seed([]LedgerEntry{chain[0], chain[2]}, 0, "")
	tampered := ledgerCopy(chain[1])
	tampered.Decision = Admitted
	seed([]LedgerEntry{chain[0], tampered}, 0, "")
	f.Add([]byte(`[{"seq":1,"at":"2025-01-01T00:00:00Z","decision":"admitted","prevHash":"","hash":"","sig":""}]`), int64(0), "")
	f.Add([]byte(`[{"seq":9007199254740993,"codes":["a","b"]}]`), int64(9007199254740992), chain[0].Hash)
	f.Add([]byte(`null`), int64(-1), "")

	pub := key.Public()
	f.Fuzz(func(t *testing.T, data []byte, prevSeq int64, prevHash string) {
		var entries []LedgerEntry
		if json.Unmarshal(data, &entries) != nil {
			return
		}
		if err := VerifyChain(entries, pub, prevSeq, prevHash); err != nil {
			if !errors.Is(err, ErrLedgerCorrupt) {
				t.Fatalf("error without ErrLedgerCorrupt: %v", err)
			}
			return
		}
		for i, e := range entries {
			k, ok := known[e.Hash]
			if !ok || e.Seq != prevSeq+int64(i)+1 || e.Seq != k.Seq || e.ComputeHash() != k.Hash {
				t.Fatalf("accepted an entry that is not the seed chain's: %+v", e)
			}
		}
		if len(entries) > 0 && entries[0].PrevHash != prevHash {
			t.Fatalf("accepted a chain that does not continue from the given point")
		}
	})
}

// FuzzLedgerScan feeds arbitrary file contents to the reader OpenLedger uses. It never
// panics; what it keeps is a verified chain, and cutting the file where it says leaves
// a clean file that reads back the same.
func FuzzLedgerScan(f *testing.F) {
	key := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{9}, 32))
	chain := ledgerChain(f, key, 3)
	var file []byte
	for _, e := range chain {
		file = append(append(file, mustJSON(f, e)...), '\n')
	}
	f.Add(file)
	f.Add(file[:len(file)-1])
	f.Add(file[:len(file)/2])
	f.Add(append(bytes.Clone(file), 0, 0, 0))
	f.Add(append(bytes.Clone(file), "{\n"...))
	f.Add([]byte("\n"))
	f.Add([]byte{})
	pub := key.Public()
	f.Fuzz(func(t *testing.T, data []byte) {
		entries, good, torn, err := ledgerScan(data, pub)
		if err != nil {
			if !errors.Is(err, ErrLedgerCorrupt) {
				t.Fatalf("error without ErrLedgerCorrupt: %v", err)
			}
			return
		}
		if good < 0 || good > len(data) || torn < 0 || torn > 1 || (torn == 0) != (good == len(data)) {
			t.Fatalf("good %d of %d, torn %d", good, len(data), torn)
		}
		if err := VerifyChain(entries, pub, 0, ""); err != nil {
			t.Fatalf("kept entries do not verify: %v", err)
		}
		again, good2, torn2, err := ledgerScan(data[:good], pub)
		if err != nil || torn2 != 0 || good2 != good || !reflect.DeepEqual(again, entries) {
			t.Fatalf("rescan of the kept part: %d entries, good %d, torn %d, %v", len(again), good2, torn2, err)
		}
	})
}
