// Package wallet is the holder's side of Civitas: a member's key and DID, and
// presentations of their credentials bound to a verifier's challenge and audience, as
// application/vp+jwt (VC-JOSE-COSE) or as a VC Data Model 2.0 VerifiablePresentation
// with a Data Integrity proof (proofPurpose authentication, challenge and domain).
//
// This package does not yet store credentials, receive them through OpenID4VCI or
// disclose selectively (SD-JWT); those build on the Holder defined here.
package wallet
