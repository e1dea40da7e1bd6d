// Package sdjwt issues, presents and verifies selectively disclosable credentials in the
// Civitas profile of SD-JWT VC: IETF RFC 9901 "Selective Disclosure for JSON Web Tokens"
// (SD-JWT) with a Key Binding JWT, and draft-ietf-oauth-sd-jwt-vc "SD-JWT-based
// Verifiable Credentials" (media type application/dc+sd-jwt).
//
// # The Civitas profile
//
// The issuer-signed JWT is a compact JWS with the protected header
// {"alg": "EdDSA" | "ES256", "typ": "dc+sd-jwt", "kid": <DID URL of the issuer's key>}.
// Its payload holds:
//
//   - iss (the issuer's DID), iat, and optionally nbf and exp, all in clear;
//   - vct, a Civitas credential type (schemas.Type.VCT), in clear;
//   - cnf {"jwk": <holder public JWK>}, always: Civitas SD-JWTs are always holder-bound,
//     and a presentation proves possession of that key with a Key Binding JWT;
//   - _sd_alg "sha-256" (the only digest algorithm; an absent _sd_alg means sha-256, as in
//     RFC 9901) and _sd, the sorted digests of the disclosures plus one to four random
//     decoy digests, so the number of hidden claims does not show;
//   - optionally credentialStatus: the same BitstringStatusListEntry objects a W3C
//     credential carries (an array), never selectively disclosable. Civitas uses the W3C
//     Bitstring Status List, not the IETF Token Status List; a payload carrying the SD-JWT
//     VC "status" claim is refused, because this package cannot check it and must not
//     let it pass as absent;
//   - the subject claims: those the type lists in schemas.Type.AlwaysDisclosed appear in
//     clear; every other subject claim, and sub (the holder's DID), is a selectively
//     disclosable top-level claim.
//
// A disclosure is base64url(JSON [salt, name, value]) with a 128-bit random salt; its
// digest is base64url(SHA-256(the ASCII disclosure string)). Only top-level object
// claims are disclosable: a nested object is disclosed as a whole. Recursive disclosures
// (an _sd inside a value), array-element disclosures ([salt, value]) and the "..." array
// placeholder are not supported; such input is refused as malformed rather than shown
// with its digests left in place.
//
// The compact form is <issuer-jwt>~<disclosure>~…~<disclosure>~ and, when presented,
// <…>~<kb-jwt>, where the Key Binding JWT has the header {"alg", "typ": "kb+jwt"}, is
// signed by the cnf key with the algorithm that key allows, and has the payload
// {iat, aud, nonce, sd_hash}; sd_hash is base64url(SHA-256(everything before the
// KB-JWT, including the last '~')).
//
// # Verification
//
// Verify (and SDJWT.Verify) follow VC-JOSE-COSE as package jose does: one compact JWS,
// protected header only, typ dc+sd-jwt, no crit or b64; the kid must be a DID URL (with
// a fragment, no path or query) of the iss DID and is resolved as an assertionMethod
// through the caller's KeyResolver; the algorithm is derived from the resolved key
// (EdDSA for Ed25519, ES256 for P-256; jose.AlgorithmFor) and a header naming another one
// is refused; the signature is checked over the received bytes with jose.VerifySignature
// (keys.VerifyRaw), as package jose checks its own tokens. Key material in the header
// (jwk, jku, x5u, x5c) is never read.
// Every JSON text (headers, payloads, disclosures) passes internal/jsonstrict first.
// Every disclosure's digest must appear exactly once in _sd; an unreferenced or repeated
// disclosure, or one named _sd, "...", a registered claim (iss, iat, nbf, exp, cnf, vct,
// vct#integrity, status, credentialStatus, _sd_alg) or a claim already present in clear
// is refused. Then iat, nbf and exp are checked against Options.Now with Options.Leeway,
// and the Key Binding JWT (when present, and required when Options.RequireKeyBinding):
// signature by the cnf key, nonce, aud, iat not in the future and not older than
// Options.MaxKeyBindingAge, and sd_hash over the received bytes. A presentation that
// carries a KB-JWT is refused unless the options name the expected nonce and audience.
//
// # Errors
//
// Errors wrap one of the sentinels; a caller maps them to its codes:
//
//	ErrMalformed    → malformed; limit_exceeded when it also wraps jsonstrict.ErrTooLarge
//	                  (input over MaxLength, MaxDisclosures or MaxDigests)
//	ErrAlgorithm    → algorithm_not_allowed
//	ErrSignature    → signature_invalid
//	ErrKeyID        → key_mismatch
//	ErrDisclosure   → signature_invalid: the disclosures are not what the issuer signed
//	                  (unreferenced, repeated, or overriding a signed claim)
//	ErrExpired      → expired;  ErrNotYetValid → not_yet_valid
//	ErrKeyBinding   → always wraps a second sentinel that decides the code: ErrNonce
//	                  (missing key binding, or wrong nonce) → challenge_mismatch, ErrAudience
//	                  → audience_mismatch, ErrSignature (bad signature or sd_hash) →
//	                  signature_invalid, ErrAlgorithm, ErrExpired (too old),
//	                  ErrNotYetValid (issued in the future), ErrMalformed.
//
// Errors from the KeyResolver (package did's sentinels) are returned wrapped, unchanged.
//
// # What it does not do
//
// It does not decide whom to trust (the caller's policy does, with SDJWT.Issuer and
// SDJWT.VCT from Parse before calling SDJWT.Verify), check credentialStatus, validate
// the claims against the type's JSON Schema, remember nonces, or check that sub names
// the cnf key. It does not implement the SD-JWT JWS JSON serialization, digest
// algorithms other than sha-256, recursive or array-element disclosures, holder keys
// given other than as cnf.jwk, issuer keys from x5c or JWT VC Issuer Metadata, SD-JWT VC
// type metadata (vct resolution, vct#integrity), or encrypted SD-JWTs.
package sdjwt
