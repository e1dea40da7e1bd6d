// Package did parses Decentralized Identifiers and resolves them to DID documents.
//
// It implements:
//   - the DID and DID URL syntax of W3C Decentralized Identifiers (DIDs) v1.0 §3 (Parse,
//     ParseURL), with a length limit of MaxLength bytes;
//   - the DID document data model of DID Core §5 as far as verification is concerned
//     (Document, VerificationMethod, verification relationships holding references or
//     embedded methods), with verification methods of type Multikey, JsonWebKey,
//     JsonWebKey2020 and Ed25519VerificationKey2020;
//   - did:key (https://w3c-ccg.github.io/did-method-key/) for Ed25519 and P-256 keys in
//     Multikey form;
//   - did:jwk (https://github.com/quartzjer/did-jwk/blob/main/spec.md) for Ed25519 and
//     P-256 JWKs;
//   - did:web (https://w3c-ccg.github.io/did-method-web/) over HTTPS with an SSRF-safe
//     client: the dialer refuses loopback, private, link-local, CGNAT, multicast and
//     unspecified addresses after DNS resolution, redirects are refused, the body size
//     and time are bounded, the document must be strict JSON and its id must equal the
//     requested DID; results are cached with a TTL from an injected clock.
//
// Resolver ties the methods together and dereferences a DID URL with a fragment to exactly
// one verification method authorized for a given verification relationship
// (ResolveVerificationMethod), which is what credential verification needs.
//
// It does not: derive X25519 keyAgreement keys for did:key (Ed25519 did:key documents
// list no keyAgreement, and P-256 ones list the key only for signing relationships),
// support key types other than Ed25519 and P-256 (P-384, P-521, secp256k1, RSA and the
// legacy publicKeyBase58 / Ed25519VerificationKey2018 form are rejected), resolve
// services or DID URL paths and queries, produce DID resolution metadata, perform JSON-LD
// processing of DID documents, fetch contexts, or implement any method that writes
// (create, update, deactivate). A verification method is accepted only when its
// controller is the DID itself.
package did
