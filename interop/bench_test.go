package interop_test

import (
	"context"
	"crypto/ed25519"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/civitas-net/civitas/issuer"
	"github.com/civitas-net/civitas/schemas"
	"github.com/civitas-net/civitas/verifier"
)

// benchFormats are the formats compared; names are the rows of make bench-compare.
var benchFormats = []struct {
	name string
	f    issuer.Format
}{
	{"vc+jwt", issuer.FormatJWT},
	{"eddsa-rdfc-2022", issuer.FormatEdDSARDFC},
}

// BenchmarkCompare issues and verifies one membership credential with Civitas, with
// vc-go, and does the raw crypto/ed25519 operation on the same bytes, interleaved in one
// loop so that machine noise hits all three alike: each iteration (b.N counts them) runs
// a batch of compareBatch calls of each side, the order rotating every iteration. ns/op,
// B/op and allocs/op of the benchmark itself are those of one iteration, all sides; each side's own figures are the
// metrics civitas-ns/op, vcgo-ns/op, ed25519-ns/op (time inside the loop) and
// civitas-allocs/op, vcgo-allocs/op, ed25519-allocs/op, civitas-B/op, vcgo-B/op (counted
// before the loop, like testing.AllocsPerRun), and the ratios are x-vcgo (Civitas/vc-go)
// and x-ed25519 (Civitas/raw Ed25519). The same figures in process CPU time are
// civitas-cpu-ns/op, vcgo-cpu-ns/op, ed25519-cpu-ns/op, x-vcgo-cpu and x-ed25519-cpu
// (see processCPU). cmd/benchtable prints the medians as tables.
//
// What each side does:
//   - issue: Civitas issuer.Issue (build, JSON Schema check, sign); vc-go
//     verifiable.CreateCredential and then, for vc+jwt, its JWT library's NewSigned and
//     Serialize (VC-JOSE-COSE, typ vc+jwt), for eddsa-rdfc-2022 AddDataIntegrityProof and
//     MarshalJSON; raw: ed25519.Sign over the bytes Civitas signs for vc+jwt (the JWS
//     signing input) or over the credential's JSON for Data Integrity.
//   - verify, the same Civitas-issued bytes on all sides: Civitas verifier.Verify (every
//     check, status skipped: the credential has no status entry); vc-go
//     verifiable.ParseCredential with its default validation (its VC 2.0 JSON Schema and
//     JSON-LD validation) for eddsa-rdfc-2022, and for vc+jwt its JWS check plus
//     ParseCredentialJSON with the same validation (world.vcgoVerifyJOSE: ParseCredential
//     panics on these tokens); raw: ed25519.Verify of the same bytes as for issue.
//
// Both sides resolve did:key issuers without a network and load contexts from memory.
func BenchmarkCompare(b *testing.B) {
	w := sharedWorld(b)
	ctx := context.Background()
	civKey := w.civEdKey.signer.(ed25519.PrivateKey)
	civPub := civKey.Public().(ed25519.PublicKey)
	req := issuer.Request{Type: schemas.Membership, Subject: w.subject(schemas.Membership), ValidUntil: w.now.AddDate(1, 0, 0)}
	policy := verifier.DefaultPolicy(w.civEd.DID())
	policy.Status = verifier.StatusSkip

	for _, bf := range benchFormats {
		raw := w.civitasIssue(schemas.Membership, bf.f)
		input := raw
		if bf.f == issuer.FormatJWT {
			input = raw[:strings.LastIndexByte(string(raw), '.')]
		}
		sig := ed25519.Sign(civKey, input)

		b.Run("issue/"+bf.name, func(b *testing.B) {
			w := sharedWorld(b)
			compare(b,
				func() {
					if _, err := w.civEd.Issue(ctx, req, bf.f); err != nil {
						b.Fatal(err)
					}
				},
				func() { w.vcgoIssue(schemas.Membership, bf.f) },
				func() { ed25519.Sign(civKey, input) })
		})
		b.Run("verify/"+bf.name, func(b *testing.B) {
			w := sharedWorld(b)
			compare(b,
				func() {
					if res, err := w.civV.Verify(ctx, raw, policy); err != nil || !res.Verified {
						b.Fatal(err)
					}
				},
				func() {
					if _, err := w.vcgoCivitas(bf.f, raw); err != nil {
						b.Fatal(err)
					}
				},
				func() {
					if !ed25519.Verify(civPub, input, sig) {
						b.Fatal("raw verify failed")
					}
				})
		})
	}
}

// compareBatch is how many calls of one side run back to back in compare. Garbage
// collection is paced by allocation: in a batch, a side pays mostly for collecting its
// own garbage. Alternating single calls would make a side that allocates little pay
// for the collections another side's garbage triggers (vc-go allocates about 30 times
// as much as Civitas per verification).
const compareBatch = 16

// compare times civitas, vcgo and raw in one loop, in rounds of compareBatch calls of
// each side (in a rotating order), and reports each side's figures per call and the
// ratios (see BenchmarkCompare). b.N counts rounds.
func compare(b *testing.B, civitas, vcgo, raw func()) {
	sides := [3]func(){civitas, vcgo, raw}
	var allocs, bytes [3]float64
	for i, f := range sides {
		f() // warm caches (parsed contexts, schemas, resolvers) before counting
		allocs[i], bytes[i] = memPerOp(20, f)
	}
	b.ReportAllocs()
	var spent, cpu [3]time.Duration
	turn := 0
	for b.Loop() {
		for k := range 3 {
			i := (turn + k) % 3
			c0 := processCPU()
			t0 := time.Now()
			for range compareBatch {
				sides[i]()
			}
			spent[i] += time.Since(t0)
			cpu[i] += processCPU() - c0
		}
		turn++
	}
	n := float64(b.N * compareBatch)
	for i, name := range [3]string{"civitas", "vcgo", "ed25519"} {
		b.ReportMetric(float64(spent[i].Nanoseconds())/n, name+"-ns/op")
		b.ReportMetric(float64(cpu[i].Nanoseconds())/n, name+"-cpu-ns/op")
		b.ReportMetric(allocs[i], name+"-allocs/op")
		if i < 2 {
			b.ReportMetric(bytes[i], name+"-B/op")
		}
	}
	b.ReportMetric(float64(spent[0])/float64(spent[1]), "x-vcgo")
	b.ReportMetric(float64(spent[0])/float64(spent[2]), "x-ed25519")
	b.ReportMetric(float64(cpu[0])/float64(cpu[1]), "x-vcgo-cpu")
	b.ReportMetric(float64(cpu[0])/float64(cpu[2]), "x-ed25519-cpu")
}

// processCPU returns the CPU time the process has used, user and system, on all its
// threads (the garbage collector's included). On a loaded machine a side's wall time
// also counts the time it waited for a CPU, and a side that allocates more waits more
// (every garbage collection must stop all threads); CPU time does not, so the *-cpu
// metrics show the cost of the work itself.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// memPerOp returns the average number of heap allocations and bytes allocated by one
// call of f, over runs calls on one P (as testing.AllocsPerRun counts them).
func memPerOp(runs int, f func()) (allocs, bytes float64) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for range runs {
		f()
	}
	runtime.ReadMemStats(&after)
	return float64(after.Mallocs-before.Mallocs) / float64(runs), float64(after.TotalAlloc-before.TotalAlloc) / float64(runs)
}
