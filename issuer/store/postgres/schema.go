package postgres

// migrations are applied in order; migrations[i] brings the schema to version i+1.
// A migration, once released, is never edited: changes go into a new one. Tables are
// created in the connection's current schema (its search_path).
//
// Identifiers that order pages (member DIDs, credential and approval IDs) are COLLATE
// "C": byte order, as in Go and SQLite, whatever the database's locale.
//
// Times are timestamptz (microseconds); NULL is the zero time. Bytes kept exactly as
// given (bodies, JWKs, requests, audit details) are bytea, never jsonb, which would
// normalize them and break the audit hashes.
var migrations = []string{
	// 1: everything.
	`
CREATE TABLE settings (
	name  text PRIMARY KEY,
	value text NOT NULL
);

CREATE TABLE signing_keys (
	id         text PRIMARY KEY,
	algorithm  text NOT NULL,
	public_jwk bytea NOT NULL,
	sealed     bytea NOT NULL,
	created_at timestamptz NOT NULL
);

CREATE TABLE tokens (
	id         text PRIMARY KEY,
	hash       bytea NOT NULL UNIQUE,
	name       text NOT NULL,
	role       text NOT NULL,
	nodes      text NOT NULL, -- JSON array of node names
	created_at timestamptz NOT NULL,
	revoked_at timestamptz
);

CREATE TABLE members (
	did        text COLLATE "C" PRIMARY KEY,
	name       text NOT NULL,
	created_at timestamptz NOT NULL,
	created_by text NOT NULL
);

CREATE TABLE credentials (
	id               text COLLATE "C" PRIMARY KEY,
	type             text NOT NULL,
	subject          text NOT NULL,
	node             text NOT NULL,
	format           text NOT NULL,
	issued_at        timestamptz NOT NULL,
	valid_until      timestamptz,
	issued_by        text NOT NULL,
	body             bytea NOT NULL,
	revoked          boolean NOT NULL DEFAULT false,
	revoked_reason   text NOT NULL DEFAULT '',
	suspended        boolean NOT NULL DEFAULT false,
	suspended_reason text NOT NULL DEFAULT ''
);
CREATE INDEX credentials_issued ON credentials (issued_at, id);
CREATE INDEX credentials_type ON credentials (type, issued_at, id);
CREATE INDEX credentials_subject ON credentials (subject, issued_at, id);
CREATE INDEX credentials_node ON credentials (node, issued_at, id);

CREATE TABLE status_lists (
	id         text PRIMARY KEY,
	purpose    text NOT NULL,
	size       integer NOT NULL CHECK (size > 0),
	used       integer NOT NULL DEFAULT 0 CHECK (used >= 0 AND used <= size),
	version    bigint NOT NULL DEFAULT 0,
	created_at timestamptz NOT NULL
);

-- The list ReserveSlots currently fills, per purpose; its row is the lock that
-- serializes reservations for the purpose.
CREATE TABLE status_current (
	purpose text PRIMARY KEY,
	list_id text REFERENCES status_lists (id)
);

CREATE TABLE status_slots (
	list_id       text NOT NULL REFERENCES status_lists (id),
	idx           integer NOT NULL CHECK (idx >= 0),
	credential_id text COLLATE "C" REFERENCES credentials (id),
	is_set        boolean NOT NULL DEFAULT false,
	PRIMARY KEY (list_id, idx)
);
CREATE INDEX status_slots_credential ON status_slots (credential_id) WHERE credential_id IS NOT NULL;

CREATE TABLE status_events (
	id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	credential_id text COLLATE "C" NOT NULL REFERENCES credentials (id),
	purpose       text NOT NULL,
	value         boolean NOT NULL,
	reason        text NOT NULL,
	actor         text NOT NULL,
	at            timestamptz NOT NULL
);
CREATE INDEX status_events_at ON status_events (at);

CREATE TABLE approvals (
	id            text COLLATE "C" PRIMARY KEY,
	type          text NOT NULL,
	node          text NOT NULL,
	request       bytea NOT NULL,
	requested_by  text NOT NULL,
	required      integer NOT NULL CHECK (required > 0),
	state         text NOT NULL CHECK (state IN ('pending', 'issued', 'expired', 'rejected')),
	created_at    timestamptz NOT NULL,
	expires_at    timestamptz NOT NULL,
	credential_id text COLLATE "C" REFERENCES credentials (id)
);
CREATE INDEX approvals_created ON approvals (created_at, id);
CREATE INDEX approvals_state ON approvals (state, created_at, id);

CREATE TABLE approval_votes (
	approval_id text COLLATE "C" NOT NULL REFERENCES approvals (id),
	approver    text NOT NULL,
	at          timestamptz NOT NULL,
	ord         integer NOT NULL, -- 1 for the first vote, 2 for the second, …
	PRIMARY KEY (approval_id, approver)
);

CREATE TABLE audit_log (
	seq       bigint PRIMARY KEY,
	at        timestamptz NOT NULL,
	actor     text NOT NULL,
	action    text NOT NULL,
	target    text NOT NULL,
	details   bytea NOT NULL,
	prev_hash text NOT NULL,
	hash      text NOT NULL
);

-- The chain head: the last entry's seq and hash (0 and '' when the log is empty).
-- Appenders lock this row.
CREATE TABLE audit_head (
	id   integer PRIMARY KEY CHECK (id = 1),
	seq  bigint NOT NULL,
	hash text NOT NULL
);
INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '');
`,
	// 2: an index of set bits, so that reading a list's status (on every verification)
	// does not scan its reserved slots.
	`
CREATE INDEX status_slots_set ON status_slots (list_id, idx) WHERE is_set;
`,
	// 3: OpenID4VCI pre-authorized code offers and single-use nonces. Secrets are
	// SHA-256 hashes. The CHECKs tie the columns to the state: an access token exactly
	// once redeemed, a credential exactly once issued. code_hash and token_hash are
	// looked up through their unique indexes; nonces are pruned by expiry.
	`
CREATE TABLE offers (
	id               text COLLATE "C" PRIMARY KEY,
	code_hash        bytea NOT NULL UNIQUE CHECK (length(code_hash) = 32),
	tx_code_hash     bytea CHECK (length(tx_code_hash) = 32),
	type             text NOT NULL,
	node             text NOT NULL,
	format           text NOT NULL,
	subject          text NOT NULL,
	request          bytea NOT NULL,
	created_by       text NOT NULL,
	created_at       timestamptz NOT NULL,
	expires_at       timestamptz NOT NULL,
	state            text NOT NULL CHECK (state IN ('offered', 'redeemed', 'issued', 'burned')),
	attempts         integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
	token_hash       bytea UNIQUE CHECK (length(token_hash) = 32),
	token_expires_at timestamptz,
	credential_id    text COLLATE "C" REFERENCES credentials (id),
	CHECK ((token_hash IS NULL) = (token_expires_at IS NULL)),
	CHECK ((token_hash IS NOT NULL) = (state IN ('redeemed', 'issued'))),
	CHECK ((credential_id IS NOT NULL) = (state = 'issued'))
);
CREATE INDEX offers_created ON offers (created_at, id);
CREATE INDEX offers_state ON offers (state, created_at, id);

CREATE TABLE nonces (
	hash       bytea PRIMARY KEY CHECK (length(hash) = 32),
	expires_at timestamptz NOT NULL
);
CREATE INDEX nonces_expires ON nonces (expires_at);
`,
	// 4: physical nodes and their check-in ledgers. A node's DID and enrollment time
	// are set together, once; a DID belongs to one node. A node's row is the lock that
	// serializes uploads of its ledger. Check-ins are keyed by node and sequence
	// number; codes is a JSON array of reason codes. Admissions of one subject are
	// looked up by (subject_ref, at) for flagging, entries by time for the monthly
	// report, and flagged entries through a partial index.
	`
CREATE TABLE nodes (
	id               text COLLATE "C" PRIMARY KEY,
	name             text NOT NULL,
	did              text UNIQUE,
	enroll_code_hash bytea NOT NULL CHECK (length(enroll_code_hash) = 32),
	created_at       timestamptz NOT NULL,
	enrolled_at      timestamptz,
	created_by       text NOT NULL,
	CHECK ((did IS NULL) = (enrolled_at IS NULL))
);

CREATE TABLE checkins (
	node_id     text COLLATE "C" NOT NULL REFERENCES nodes (id),
	seq         bigint NOT NULL CHECK (seq > 0),
	at          timestamptz NOT NULL,
	type        text NOT NULL,
	subject_ref text NOT NULL,
	decision    text NOT NULL CHECK (decision IN ('admitted', 'refused', 'admitted-flagged')),
	codes       text NOT NULL, -- JSON array of reason codes
	challenge   text NOT NULL, -- hash of the challenge answered, or empty
	prev_hash   text NOT NULL,
	hash        text NOT NULL,
	signature   text NOT NULL,
	received_at timestamptz NOT NULL,
	flagged     boolean NOT NULL DEFAULT false,
	PRIMARY KEY (node_id, seq)
);
CREATE INDEX checkins_subject ON checkins (subject_ref, at);
CREATE INDEX checkins_at ON checkins (at);
CREATE INDEX checkins_flagged ON checkins (node_id, seq) WHERE flagged;
`,
}
