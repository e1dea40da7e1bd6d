// Package node is check-in at a community's physical nodes (co-living sites, hubs):
// a door that admits members and residents in a blink, often without a network.
//
// The issuer gives each node a signed bundle: the trust list, the issuers' DID
// documents, the current Bitstring Status List credentials, the admission policy, the
// node's identity, a version and an expiry. The node verifies presentations fully
// offline against it (package verifier with a resolver and a status checker backed by
// the bundle), decides against the policy (an active membership, or a residency at
// this node covering today), and appends every decision to its service ledger: a local
// append-only file of entries hash-chained and signed by the node's key, synced to the
// issuer when online.
//
// Standards: presentations are W3C VC Data Model 2.0 verifiable presentations secured
// as VC-JOSE-COSE vp+jwt or with Data Integrity proofs, or SD-JWT VCs with key binding
// (IETF draft-ietf-oauth-sd-jwt-vc); the challenge (nonce and audience) follows the
// OpenID4VP request; status comes from W3C Bitstring Status List credentials; bundles
// and node requests are compact JWS (RFC 7515) signed with the issuer's and the node's
// keys; ledger entries are hashed over their RFC 8785 (JCS) form.
//
// A check-in makes one durable write: the ledger entry, which carries the hash of the
// challenge it consumed, so that a challenge answers one presentation even across a
// restart. Challenges handed out are kept in a small file so that "civitas node
// challenge" and "civitas node checkin" can be separate processes; one process at a
// time holds a node (the ledger's lock), and ReadLedger reads beside it.
//
// What it does not do: open doors (it decides and records; the door hardware is the
// site's), keep member rosters (a bundle holds no personal data), or verify anything
// online at check-in time.
package node
