// Package interop checks Civitas against an independent implementation of the same
// standards, github.com/trustbloc/vc-go (the maintained continuation of
// hyperledger/aries-framework-go) with github.com/trustbloc/did-go, and measures the two
// side by side.
//
// It is a separate Go module so that vc-go never enters the main module's dependency
// graph. Everything is in tests: credentials of the three Civitas types issued by Civitas
// (VC-JOSE-COSE application/vc+jwt, Data Integrity eddsa-rdfc-2022 and ecdsa-rdfc-2019,
// and SD-JWT VC) must verify in vc-go with vc-go's own did:key resolution, and
// credentials issued by vc-go must verify in Civitas; tampered copies must fail in both. Where the two disagree, the test says which one the specification
// supports and asserts the known difference. The benchmarks time Civitas, vc-go and raw
// crypto/ed25519 in the same loop and report the ratios as x-vcgo and x-ed25519;
// cmd/benchtable turns their output into a table of medians.
//
// What it does not do: change either implementation, fetch anything (JSON-LD contexts are
// served from memory, DIDs are did:key), or test what vc-go does not implement
// (eddsa-jcs-2022, whose absence a test records; did:web and status lists).
//
// This module replaces github.com/piprate/json-gold with trustbloc's fork, as vc-go's own
// go.mod does; Go builds one version of each module, so Civitas's JSON-LD expansion runs
// on the fork here. TestW3CVectorInBoth checks that Civitas still reproduces the
// published eddsa-rdfc-2022 vector byte for byte under it (and that vc-go does too).
package interop
