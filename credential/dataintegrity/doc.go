// Package dataintegrity adds and verifies W3C Verifiable Credential Data Integrity 1.0
// proofs (https://www.w3.org/TR/vc-data-integrity/) of type DataIntegrityProof, with the
// cryptosuites
//
//   - eddsa-rdfc-2022 and eddsa-jcs-2022 (https://www.w3.org/TR/vc-di-eddsa/), Ed25519;
//   - ecdsa-rdfc-2019 (https://www.w3.org/TR/vc-di-ecdsa/), P-256 with SHA-256.
//
// RDFC suites canonicalize with RDF Dataset Canonicalization (RDFC-1.0) through package
// internal/jsonld, whose contexts come only from an embedded registry: a document naming
// any other context is refused before canonicalization starts. JCS suites canonicalize
// with RFC 8785 (package internal/jcs); their documents must name known contexts too, so
// that both suites accept the same documents.
//
// What it does not do: proof sets and proof chains (a document carries exactly one
// proof), selective disclosure suites (ecdsa-sd-2023, bbs-2023), P-384, and the legacy
// Ed25519Signature2020 proof type. Checking validity periods of the secured document,
// and whether its issuer is trusted, is the verifier's job; this package checks the proof.
package dataintegrity
