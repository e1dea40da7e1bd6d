package node

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/civitas-net/civitas/keys"
)

// reportLatencies adds percentiles of the per-op durations, in milliseconds.
func reportLatencies(b *testing.B, d []time.Duration) {
	if len(d) == 0 {
		return
	}
	slices.Sort(d)
	at := func(p float64) float64 {
		i := int(p * float64(len(d)-1))
		return float64(d[i]) / float64(time.Millisecond)
	}
	b.ReportMetric(at(0.50), "p50-ms")
	b.ReportMetric(at(0.90), "p90-ms")
	b.ReportMetric(at(0.99), "p99-ms")
	b.ReportMetric(at(1), "max-ms")
}

// BenchmarkLedgerAppend measures a durable append (sign, one write, fsync) on the
// machine's disk (the test's temporary folder), as a check-in does after deciding. The
// issue's target is p99 under 10 ms.
func BenchmarkLedgerAppend(b *testing.B) {
	for _, alg := range []keys.Algorithm{keys.Ed25519, keys.P256} {
		b.Run(string(alg), func(b *testing.B) {
			l := openLedgerT(b, filepath.Join(b.TempDir(), "ledger.jsonl"), ledgerKey(b, alg))
			e := ledgerSample(1)
			e.At = time.Time{} // stamped by Append, as a door would leave it
			var d []time.Duration
			b.ReportAllocs()
			for b.Loop() {
				start := time.Now()
				if _, err := l.Append(e); err != nil {
					b.Fatal(err)
				}
				d = append(d, time.Since(start))
			}
			reportLatencies(b, d)
		})
	}
}

// BenchmarkOpenLedger measures opening (reading and verifying every entry of) a
// ledger of 10,000 entries, about a busy node's quarter; it reports the cost per entry.
func BenchmarkOpenLedger(b *testing.B) {
	const n = 10000
	for _, alg := range []keys.Algorithm{keys.Ed25519, keys.P256} {
		b.Run(string(alg), func(b *testing.B) {
			key := ledgerKey(b, alg)
			path := filepath.Join(b.TempDir(), "ledger.jsonl")
			l, err := OpenLedger(path, key)
			if err != nil {
				b.Fatal(err)
			}
			// Fill without an fsync per entry: only the file's contents matter here.
			ledgerSyncFile = func(*os.File) error { return nil }
			appendN(b, l, 0, n)
			ledgerSyncFile = (*os.File).Sync
			if err := l.Close(); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				l, err := OpenLedger(path, key)
				if err != nil {
					b.Fatal(err)
				}
				_ = l.Close()
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N)/n, "µs/entry")
		})
	}
}

// BenchmarkVerifyChain measures the issuer's check of an uploaded batch, per entry.
func BenchmarkVerifyChain(b *testing.B) {
	for _, alg := range []keys.Algorithm{keys.Ed25519, keys.P256} {
		b.Run(string(alg), func(b *testing.B) {
			key := ledgerKey(b, alg)
			chain := ledgerChain(b, key, 100)
			pub := key.Public()
			b.ReportAllocs()
			for b.Loop() {
				if err := VerifyChain(chain, pub, 0, ""); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(chain))/1e3, "µs/entry")
		})
	}
}
