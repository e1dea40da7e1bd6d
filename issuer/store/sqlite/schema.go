package sqlite

// migrations are applied in order; migrations[i] brings the schema to version i+1.
// A migration, once released, is never edited: changes go into a new one.
//
// Times are INTEGER unix microseconds (UTC); NULL is the zero time. Booleans are
// INTEGER 0/1. Bytes kept exactly as given (bodies, JWKs, audit details) are BLOBs.
var migrations = []string{
	// 1: everything.
	`
CREATE TABLE settings (
	name  TEXT PRIMARY KEY,
	value TEXT NOT NULL
) STRICT;

CREATE TABLE signing_keys (
	id         TEXT PRIMARY KEY,
	algorithm  TEXT NOT NULL,
	public_jwk BLOB NOT NULL,
	sealed     BLOB NOT NULL,
	created_at INTEGER NOT NULL
) STRICT;

CREATE TABLE tokens (
	id         TEXT PRIMARY KEY,
	hash       BLOB NOT NULL UNIQUE,
	name       TEXT NOT NULL,
	role       TEXT NOT NULL,
	nodes      TEXT NOT NULL, -- JSON array of node names
	created_at INTEGER NOT NULL,
	revoked_at INTEGER
) STRICT;

CREATE TABLE members (
	did        TEXT PRIMARY KEY,
	name       TEXT NOT NULL,
	created_at INTEGER NOT NULL,
	created_by TEXT NOT NULL
) STRICT;

CREATE TABLE credentials (
	id               TEXT PRIMARY KEY,
	type             TEXT NOT NULL,
	subject          TEXT NOT NULL,
	node             TEXT NOT NULL,
	format           TEXT NOT NULL,
	issued_at        INTEGER NOT NULL,
	valid_until      INTEGER,
	issued_by        TEXT NOT NULL,
	body             BLOB NOT NULL,
	revoked          INTEGER NOT NULL DEFAULT 0 CHECK (revoked IN (0, 1)),
	revoked_reason   TEXT NOT NULL DEFAULT '',
	suspended        INTEGER NOT NULL DEFAULT 0 CHECK (suspended IN (0, 1)),
	suspended_reason TEXT NOT NULL DEFAULT ''
) STRICT;
CREATE INDEX credentials_issued ON credentials (issued_at, id);
CREATE INDEX credentials_type ON credentials (type, issued_at, id);
CREATE INDEX credentials_subject ON credentials (subject, issued_at, id);
CREATE INDEX credentials_node ON credentials (node, issued_at, id);

CREATE TABLE status_lists (
	id         TEXT PRIMARY KEY,
	purpose    TEXT NOT NULL,
	size       INTEGER NOT NULL CHECK (size > 0),
	used       INTEGER NOT NULL DEFAULT 0 CHECK (used >= 0 AND used <= size),
	version    INTEGER NOT NULL DEFAULT 0,
	created_at INTEGER NOT NULL
) STRICT;

-- The list ReserveSlots currently fills, per purpose.
CREATE TABLE status_current (
	purpose TEXT PRIMARY KEY,
	list_id TEXT NOT NULL REFERENCES status_lists (id)
) STRICT;

CREATE TABLE status_slots (
	list_id       TEXT NOT NULL REFERENCES status_lists (id),
	idx           INTEGER NOT NULL CHECK (idx >= 0),
	credential_id TEXT REFERENCES credentials (id),
	is_set        INTEGER NOT NULL DEFAULT 0 CHECK (is_set IN (0, 1)),
	PRIMARY KEY (list_id, idx)
) STRICT, WITHOUT ROWID;
CREATE INDEX status_slots_credential ON status_slots (credential_id) WHERE credential_id IS NOT NULL;

CREATE TABLE status_events (
	id            INTEGER PRIMARY KEY,
	credential_id TEXT NOT NULL REFERENCES credentials (id),
	purpose       TEXT NOT NULL,
	value         INTEGER NOT NULL CHECK (value IN (0, 1)),
	reason        TEXT NOT NULL,
	actor         TEXT NOT NULL,
	at            INTEGER NOT NULL
) STRICT;
CREATE INDEX status_events_at ON status_events (at);

CREATE TABLE approvals (
	id            TEXT PRIMARY KEY,
	type          TEXT NOT NULL,
	node          TEXT NOT NULL,
	request       BLOB NOT NULL,
	requested_by  TEXT NOT NULL,
	required      INTEGER NOT NULL CHECK (required > 0),
	state         TEXT NOT NULL CHECK (state IN ('pending', 'issued', 'expired', 'rejected')),
	created_at    INTEGER NOT NULL,
	expires_at    INTEGER NOT NULL,
	credential_id TEXT REFERENCES credentials (id)
) STRICT;
CREATE INDEX approvals_created ON approvals (created_at, id);
CREATE INDEX approvals_state ON approvals (state, created_at, id);

CREATE TABLE approval_votes (
	approval_id TEXT NOT NULL REFERENCES approvals (id),
	approver    TEXT NOT NULL,
	at          INTEGER NOT NULL,
	ord         INTEGER NOT NULL, -- 1 for the first vote, 2 for the second, …
	PRIMARY KEY (approval_id, approver)
) STRICT;

CREATE TABLE audit_log (
	seq       INTEGER PRIMARY KEY,
	at        INTEGER NOT NULL,
	actor     TEXT NOT NULL,
	action    TEXT NOT NULL,
	target    TEXT NOT NULL,
	details   BLOB NOT NULL,
	prev_hash TEXT NOT NULL,
	hash      TEXT NOT NULL
) STRICT;

-- The chain head: the last entry's seq and hash (0 and '' when the log is empty).
CREATE TABLE audit_head (
	id   INTEGER PRIMARY KEY CHECK (id = 1),
	seq  INTEGER NOT NULL,
	hash TEXT NOT NULL
) STRICT;
INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '');
`,
	// 2: an index of set bits, so that reading a list's status (on every verification)
	// does not scan its reserved slots.
	`
CREATE INDEX status_slots_set ON status_slots (list_id, idx) WHERE is_set = 1;
`,
	// 3: OpenID4VCI pre-authorized code offers and single-use nonces. Secrets are
	// SHA-256 hashes. The CHECKs tie the columns to the state: an access token exactly
	// once redeemed, a credential exactly once issued. code_hash and token_hash are
	// looked up through their unique indexes; nonces are pruned by expiry.
	`
CREATE TABLE offers (
	id               TEXT PRIMARY KEY,
	code_hash        BLOB NOT NULL UNIQUE CHECK (length(code_hash) = 32),
	tx_code_hash     BLOB CHECK (tx_code_hash IS NULL OR length(tx_code_hash) = 32),
	type             TEXT NOT NULL,
	node             TEXT NOT NULL,
	format           TEXT NOT NULL,
	subject          TEXT NOT NULL,
	request          BLOB NOT NULL,
	created_by       TEXT NOT NULL,
	created_at       INTEGER NOT NULL,
	expires_at       INTEGER NOT NULL,
	state            TEXT NOT NULL CHECK (state IN ('offered', 'redeemed', 'issued', 'burned')),
	attempts         INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
	token_hash       BLOB UNIQUE CHECK (token_hash IS NULL OR length(token_hash) = 32),
	token_expires_at INTEGER,
	credential_id    TEXT REFERENCES credentials (id),
	CHECK ((token_hash IS NULL) = (token_expires_at IS NULL)),
	CHECK ((token_hash IS NOT NULL) = (state IN ('redeemed', 'issued'))),
	CHECK ((credential_id IS NOT NULL) = (state = 'issued'))
) STRICT;
CREATE INDEX offers_created ON offers (created_at, id);
CREATE INDEX offers_state ON offers (state, created_at, id);

CREATE TABLE nonces (
	hash       BLOB PRIMARY KEY CHECK (length(hash) = 32),
	expires_at INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
CREATE INDEX nonces_expires ON nonces (expires_at);
`,
	// 4: physical nodes and their check-in ledgers. A node's DID and enrollment time
	// are set together, once; a DID belongs to one node. Check-ins are keyed by node
	// and sequence number; codes is a JSON array of reason codes. Admissions of one
	// subject are looked up by (subject_ref, at) for flagging, entries by time for the
	// monthly report, and flagged entries through a partial index.
	`
CREATE TABLE nodes (
	id               TEXT PRIMARY KEY,
	name             TEXT NOT NULL,
	did              TEXT UNIQUE,
	enroll_code_hash BLOB NOT NULL CHECK (length(enroll_code_hash) = 32),
	created_at       INTEGER NOT NULL,
	enrolled_at      INTEGER,
	created_by       TEXT NOT NULL,
	CHECK ((did IS NULL) = (enrolled_at IS NULL))
) STRICT;

CREATE TABLE checkins (
	node_id     TEXT NOT NULL REFERENCES nodes (id),
	seq         INTEGER NOT NULL CHECK (seq > 0),
	at          INTEGER NOT NULL,
	type        TEXT NOT NULL,
	subject_ref TEXT NOT NULL,
	decision    TEXT NOT NULL CHECK (decision IN ('admitted', 'refused', 'admitted-flagged')),
	codes       TEXT NOT NULL, -- JSON array of reason codes
	challenge   TEXT NOT NULL, -- hash of the challenge answered, or empty
	prev_hash   TEXT NOT NULL,
	hash        TEXT NOT NULL,
	signature   TEXT NOT NULL,
	received_at INTEGER NOT NULL,
	flagged     INTEGER NOT NULL DEFAULT 0 CHECK (flagged IN (0, 1)),
	PRIMARY KEY (node_id, seq)
) STRICT;
CREATE INDEX checkins_subject ON checkins (subject_ref, at);
CREATE INDEX checkins_at ON checkins (at);
CREATE INDEX checkins_flagged ON checkins (node_id, seq) WHERE flagged = 1;
`,
}
