// Package verifier checks verifiable credentials and presentations against a policy, in
// one call, for apps and for physical nodes at the door.
//
// Verify detects the format (VC-JOSE-COSE application/vc+jwt and application/vp+jwt,
// VC Data Model 2.0 documents secured with Data Integrity proofs, named ldp_vc and ldp_vp
// as in OpenID4VCI, and SD-JWT VCs, dc+sd-jwt, with or without a Key Binding JWT) and
// runs every check the W3C Verifiable Credentials Data Model 2.0 asks of a verifier,
// plus the policy's: the signature, with the issuer's key resolved
// from its DID; whether the issuer is trusted for the credential's type; the validity
// period, with an injected clock and a configurable leeway; the credential's JSON Schema;
// its Bitstring Status List status through a StatusChecker; and, for presentations, the
// holder's signature, that the holder is the subject of every credential, the expected
// challenge and audience, and that a nonce is accepted only once.
//
// The result lists every check with a stable machine code. Verification fails closed: a
// check that could not run makes the result not verified, and Verify returns a non-nil
// error whenever the result is not verified, so a caller cannot mistake a failure for a
// success by looking at the error alone.
//
// The policy, the expected challenge and audience, and the algorithm allow-list are
// arguments; nothing in the credential chooses how it is verified. The verifier never
// contacts anything on behalf of an issuer that the policy does not trust: the trust
// check comes before the issuer's DID is resolved.
//
// What it does not do: fetch JSON-LD contexts or JSON Schemas (both are embedded),
// validate an SD-JWT VC's disclosed claims against a JSON Schema (only what is disclosed
// is known), or evaluate status purposes other than revocation and suspension.
package verifier
