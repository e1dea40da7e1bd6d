// Package statushttp is the verifier's StatusChecker for W3C Bitstring Status List v1.0
// over HTTPS: it fetches the BitstringStatusListCredential a status entry names, verifies
// it as a credential of the same issuer, and reads the entry's bit.
//
// A Checker fetches statusListCredential URLs with the protections DESIGN §5 asks of
// every server-side fetch driven by outside input: HTTPS only; a dialer that refuses
// loopback, private, link-local and other non-public addresses after DNS resolution
// (did.DialGuard, the same guard as did:web); no redirects; no proxy; a timeout; and a
// body cap checked before and after reading. The response (a compact vc+jwt, or a JSON
// credential with a Data Integrity proof) goes to a CredentialVerifier under a policy
// that trusts only the status entry's issuer and only for BitstringStatusListCredential.
// The Checker then requires that the verified credential is a
// BitstringStatusListCredential, that its issuer is the entry's issuer, that its id is
// the URL fetched, and that its statusPurpose covers the entry's; it decodes encodedList
// within package statuslist's limits (gzip-bomb safe, at least 131072 bits) and checks
// that the index is in range. Every failure is an error, which package verifier reports
// as status_unavailable: the Checker fails closed.
//
// Verified lists are cached per URL, with an injected clock, for MaxAge (5 minutes by
// default, shortened by a Cache-Control max-age, no-cache or no-store from the server)
// and never past the list credential's validUntil. After that they are revalidated with
// If-None-Match, and a 304 renews the cached list. If a refetch fails, a cached list
// fetched or revalidated no longer than MaxStaleness ago (0 by default: never) is used
// instead; this bounded staleness is what offline nodes and flaky networks need.
// Concurrent lookups of one URL share one fetch, and the cache holds a bounded number
// of lists.
//
// What it does not do: it does not cache failures (each lookup after a failure tries
// again, one shared fetch at a time); it does not read the statusMessage or statusSize
// features, nor the "message" purpose (package statuslist refuses them); it does not
// persist its cache, so an offline node that restarts has no lists until it fetches
// them; and it checks no HTTP content type (the verifier detects the format from the
// bytes).
package statushttp
