// Package storetest is the conformance suite of store.Store: Run checks an
// implementation against the contract written in package store (atomic writes with
// their audit entries, the audit hash chain, status slots reserved at random and never
// twice, all-or-nothing issuance batches, conditional approval and OpenID4VCI offer
// transitions, single-use nonces, node enrollment, check-in ledgers kept idempotently
// along each node's chain with double check-ins flagged across nodes, the monthly
// counts, the sentinel errors for bad input, conflicts and missing records), including
// its behaviour under concurrent use; Bench measures issuance, slot reservation, the
// nonce round trip and check-in uploads.
//
// Implementations run it from their own tests. Optional abilities of the store under
// test, found by type assertion, widen the suite: Tamperer (edit the audit log behind
// the store's back, to see VerifyChain catch it) and Sibling (a second store on the
// same database, standing in for a second process). Upgrade and Clock check what
// needs a backend's own setup: a database stopped at an older schema version, a
// store made with a clock.
//
// What it does not do: test anything backend-specific (durability across a reopen,
// connection settings, schema layout); each backend's own tests do that.
package storetest
