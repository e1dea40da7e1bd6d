// Package postgres implements store.Store on PostgreSQL (github.com/jackc/pgx/v5,
// pgxpool), for deployments that outgrow one machine or run several issuer processes.
//
// Guarantees:
//
//   - Durability: a write method returns nil only after PostgreSQL has committed its
//     transaction (with the server's default synchronous_commit=on, flushed to the
//     WAL). A CommitIssuance batch is one transaction and one commit.
//   - Atomicity and isolation: each write method is one READ COMMITTED transaction
//     whose outcome does not depend on what it read before its writes: conditional
//     updates (UPDATE … WHERE state = 'pending', WHERE is_set <> $v, WHERE
//     credential_id IS NULL) and row locks (SELECT … FOR UPDATE) decide, and unique
//     keys refuse duplicates (SQLSTATE 23505 is store.ErrConflict). Reads that span
//     several tables run in one REPEATABLE READ read-only transaction (one snapshot).
//   - Several processes on one database: Migrate takes a transaction-scoped advisory
//     lock per schema around each migration; the audit chain stays linear because
//     every transaction that appends entries locks the chain head row (FOR UPDATE) as
//     its last lock, chains under it and commits; ReserveSlots serializes per purpose
//     on the purpose's row in status_current and inserts slots with INSERT … ON
//     CONFLICT DO NOTHING on the (list_id, idx) primary key, drawing a new random index
//     for each collision, so no (list, index) is handed out twice. Offer transitions
//     are conditional updates (WHERE state = 'offered', WHERE state = 'redeemed'), so
//     a code is redeemed once and no attempt counts after the burn; ConsumeNonce is one
//     conditional DELETE, which exactly one of concurrent consumers wins, and prunes
//     expired nonces with FOR UPDATE SKIP LOCKED, so it never waits for another
//     consumer. AddCheckIns locks the node's row (FOR NO KEY UPDATE), so of concurrent
//     uploads for one node the second reads the chain the first left, and then takes
//     a transaction-scoped advisory lock per subject reference it admits, in ascending
//     key order, so that of two uploads admitting one subject at two nodes the second
//     sees the first's entry and flags both; uploads for other nodes and subjects run
//     in parallel. The admissions to flag are looked up per entry through the
//     (subject_ref, at) index, whatever the table's statistics say.
//   - Times are timestamptz (microseconds, as the audit hashes need); bytes kept
//     exactly as given (bodies, JWKs, audit details) are bytea.
//
// What it does not do: create the database or its schema (the connection's
// search_path decides where the tables go), tune the server, replicate, back up, or
// retry transactions; a deadlock the server breaks (SQLSTATE 40P01) is reported as
// store.ErrConflict.
package postgres
