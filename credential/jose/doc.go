// Package jose secures credentials and presentations with JSON Web Signatures, as W3C
// "Securing Verifiable Credentials using JOSE and COSE" (VC-JOSE-COSE,
// https://www.w3.org/TR/vc-jose-cose/) defines for the media types application/vc+jwt
// and application/vp+jwt.
//
// The JWS payload is the credential or presentation document itself. The protected
// header carries alg, typ ("vc+jwt" or "vp+jwt") and kid, the DID URL of the signer's
// verification method. Only the compact serialization with exactly one signature is
// accepted, and only the algorithms EdDSA (Ed25519) and ES256 (P-256). The algorithm is
// never chosen by the token: the verifier derives it from the type of the key it resolved
// from the signer's DID, and a header naming another algorithm is refused. Key material in
// the header (jwk, jku, x5u, x5c) is never used.
//
// The compact serialization is written and read here (it is a few lines, and doing it
// once instead of re-parsing in a library halves the overhead of a verification); the
// signatures are the standard library's Ed25519 and ECDSA through keys.SignRaw and
// keys.VerifyRaw (VerifySignature, which package sdjwt shares); algorithm names come from
// github.com/lestrrat-go/jwx/v3/jwa. Signing keys are any crypto.Signer. This package does
// not implement COSE, SD-JWT (see package sdjwt), JWS JSON serialization, unencoded
// payloads (b64) or critical extensions.
package jose
