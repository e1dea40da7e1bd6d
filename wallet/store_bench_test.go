package wallet

import (
	"crypto/rand"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

const benchSize = 10_000

var benchTypes = []string{
	"MembershipCredential", "ResidencyCredential", "AchievementCredential", "VouchCredential",
	"StewardCredential", "NodeAccessCredential", "EventCredential", "GuestCredential",
	"ContributorCredential", "EmailCredential",
}

// benchEntry is a credential of about 1.5 KB with realistic metadata; one in ten has
// each of benchTypes.
func benchEntry(i int) Entry {
	raw := make([]byte, 1500)
	_, _ = rand.Read(raw)
	return Entry{
		ID:         fmt.Sprintf("urn:uuid:%08x-7d2c-4b1e-9f3a-%012x", i, i*7919),
		Format:     FormatVCJWT,
		Types:      []string{"VerifiableCredential", benchTypes[i%len(benchTypes)]},
		Issuer:     fmt.Sprintf("did:web:hub%d.network-state.example", i%20),
		IssuedAt:   time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Minute),
		ValidUntil: time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC),
		Raw:        raw,
		AddedAt:    time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Second),
	}
}

// benchWallet makes a wallet with keystore.DefaultParams holding n benchEntry
// credentials and returns its folder, closed. Setup only: it writes the credential
// files with os.WriteFile (no fsync; 10,000 fsyncs would take ten seconds here) and the
// index once, through the same sealing and encoding as AddAll, and syncs the files
// only when flush is set (the Add benchmarks need it). What the benchmarks
// measure (Open, List, ByType, Get, Add) is the real code.
func benchWallet(b *testing.B, n int, flush bool) string {
	b.Helper()
	dir := filepath.Join(b.TempDir(), "wallet")
	s, err := Init(dir, testPass, InitOptions{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	for i := range n {
		e := benchEntry(i)
		r, err := s.prepare(e)
		if err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(s.credPath(r.ID), s.keys.sealData(e.Raw, adCredential+r.ID), 0o600); err != nil {
			b.Fatal(err)
		}
		s.list = append(s.list, r)
		s.indexRecord(r)
	}
	if err := s.writeIndex(nil); err != nil {
		b.Fatal(err)
	}
	if !flush {
		return dir
	}
	// Flush the credential files now, or the first fsync of a measured write pays for
	// all of them.
	for _, r := range s.list {
		f, err := os.Open(s.credPath(r.ID))
		if err != nil {
			b.Fatal(err)
		}
		err = f.Sync()
		_ = f.Close()
		if err != nil {
			b.Fatal(err)
		}
	}
	return dir
}

func reportMS(b *testing.B, perOp int) {
	b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N*perOp), "ms/op")
}

// BenchmarkOpenList10k opens a wallet of 10,000 credentials with the default Argon2id
// parameters and lists them (goal: under 300 ms).
func BenchmarkOpenList10k(b *testing.B) {
	dir := benchWallet(b, benchSize, false)
	b.ReportAllocs()
	for b.Loop() {
		s, err := Open(dir, testPass)
		if err != nil {
			b.Fatal(err)
		}
		if n := len(s.List()); n != benchSize {
			b.Fatalf("%d entries", n)
		}
		_ = s.Close()
	}
	reportMS(b, 1)
	st, _ := os.Stat(filepath.Join(dir, indexFile))
	b.ReportMetric(float64(st.Size())/(1<<20), "index-MiB")
}

// BenchmarkLoadList10k is BenchmarkOpenList10k without the Argon2id derivation: what
// reading, decrypting and decoding the index of 10,000 credentials and listing them
// costs.
func BenchmarkLoadList10k(b *testing.B) {
	dir := benchWallet(b, benchSize, false)
	s, err := Open(dir, testPass)
	if err != nil {
		b.Fatal(err)
	}
	kr, params := s.keys, s.params
	defer s.Close()
	b.ReportAllocs()
	for b.Loop() {
		l, err := loadWallet(dir, kr, params, nil)
		if err != nil {
			b.Fatal(err)
		}
		if n := len(l.List()); n != benchSize {
			b.Fatalf("%d entries", n)
		}
	}
	reportMS(b, 1)
}

// BenchmarkByType10k looks up one type in a wallet of 10,000 credentials (goal: under
// 10 ms): a type one credential in ten has, and one they all have.
func BenchmarkByType10k(b *testing.B) {
	s, err := Open(benchWallet(b, benchSize, false), testPass)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	for _, tc := range []struct {
		name, typ string
		want      int
	}{
		{"1k-of-10k", "ResidencyCredential", benchSize / 10},
		{"10k-of-10k", "VerifiableCredential", benchSize},
	} {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if n := len(s.ByType(tc.typ)); n != tc.want {
					b.Fatalf("%d entries, want %d", n, tc.want)
				}
			}
			reportMS(b, 1)
		})
	}
}

// BenchmarkGet10k reads one credential from a wallet of 10,000.
func BenchmarkGet10k(b *testing.B) {
	s, err := Open(benchWallet(b, benchSize, false), testPass)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	ids := make([]string, 0, benchSize)
	for _, e := range s.List() {
		ids = append(ids, e.ID)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, err := s.Get(ids[i%len(ids)]); err != nil {
			b.Fatal(err)
		}
		i += 7
	}
	reportMS(b, 1)
}

// BenchmarkAdd adds one credential per operation (its file and a rewrite of the index,
// each with fsync) to an empty wallet and to one of 10,000, and 100 per operation with
// AddAll to one of 10,000 (ms/op is then per credential).
func BenchmarkAdd(b *testing.B) {
	for _, tc := range []struct {
		name        string
		size, batch int
	}{
		{"empty", 0, 1},
		{"10k", benchSize, 1},
		{"10k-batch100", benchSize, 100},
	} {
		b.Run(tc.name, func(b *testing.B) {
			s, err := Open(benchWallet(b, tc.size, true), testPass)
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			next := benchSize
			b.ReportAllocs()
			for b.Loop() {
				es := make([]Entry, tc.batch)
				for j := range es {
					es[j] = benchEntry(next)
					next++
				}
				if _, err := s.AddAll(es); err != nil {
					b.Fatal(err)
				}
			}
			reportMS(b, tc.batch)
		})
	}
}

// BenchmarkIndexSeal10k is the CPU work of one Add to a wallet of 10,000 credentials
// without the writes: encoding and sealing the index.
func BenchmarkIndexSeal10k(b *testing.B) {
	s, err := Open(benchWallet(b, benchSize, false), testPass)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	b.ReportAllocs()
	for b.Loop() {
		_ = s.keys.sealData(encodeIndex(s.list, nil, s.indexSize+4<<10), adIndex)
	}
	reportMS(b, 1)
}
