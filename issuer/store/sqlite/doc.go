// Package sqlite implements store.Store on an embedded SQLite database file
// (modernc.org/sqlite, pure Go, no cgo). It is the issuer service's default store.
//
// Guarantees:
//
//   - Durability: the database runs in WAL mode with synchronous=FULL, so a write
//     method that returns nil has its transaction fsynced to the write-ahead log; a
//     crash or power loss afterwards does not lose it.
//   - Atomicity and isolation: every write method is one transaction begun with
//     BEGIN IMMEDIATE on the store's single write connection, so writes are
//     serialized and each sees the state left by the previous one. A CommitIssuance
//     batch is one transaction and one fsync (group commit). Reads run on a separate
//     pool of read-only connections beside the writer; methods that read several
//     tables do so in one read transaction (one snapshot).
//   - Audit: entries are chained under the write transaction, in the same
//     transaction as the change they describe.
//   - Check-in uploads are write transactions like the others: each reads the node's
//     chain and the admissions it might flag with no other upload in between.
//   - Status slots are picked at random (crypto/rand) and kept unique by the
//     (list, index) primary key.
//
// What it does not do: serve several processes. It is meant for one issuer process
// on a local disk. A second process on the same file stays correct (SQLite's file
// locks serialize writers and busy_timeout makes them wait) but contends for the
// single writer lock; use the postgres package to run several processes. It does not
// work on network file systems, which break SQLite's WAL locking. It does not back
// up or vacuum, and prunes nothing but expired nonces (a bounded number per
// ConsumeNonce).
package sqlite
