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
// What it does not do: open doors (it decides and records; the door hardware is the
// site's), keep member rosters (a bundle holds no personal data), or verify anything
// online at check-in time.
package node
