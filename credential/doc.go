// Package credential implements the data model of W3C Verifiable Credentials 2.0
// (https://www.w3.org/TR/vc-data-model-2.0/): credentials and presentations as JSON
// documents, parsed strictly at the trust boundary and validated against the data model's
// structural rules.
//
// A Credential or Presentation keeps the document it was parsed from (Document) and a
// typed view of the members Civitas reads (Types, Issuer, ValidFrom, …). The document is
// what securing mechanisms sign and verify; the view is derived from it once and is never
// written back.
//
// What this package does not do: it verifies no proof and resolves no DID. Securing
// formats live in the sub-packages jose (VC-JOSE-COSE vc+jwt and vp+jwt) and
// dataintegrity (Data Integrity proofs); trust decisions live in package verifier. It
// accepts only contexts given by URL (an inline @context object is rejected), which is
// stricter than the data model.
package credential
