// Package issuer is the issuance domain of Civitas: it builds credentials of the Civitas
// types (membership, residency, contribution) as W3C Verifiable Credentials 2.0, checks
// each against its JSON Schema, and secures it as application/vc+jwt (VC-JOSE-COSE) or
// with a Data Integrity proof (eddsa-rdfc-2022, eddsa-jcs-2022, ecdsa-rdfc-2019).
//
// An Issuer signs with any crypto.Signer, so the key may live in a file, an encrypted
// keystore or a KMS. This package does not store credentials, allocate status list
// entries or authorize requests; the issuer service builds those around it.
package issuer
