// Package store is the persistence of the Civitas issuer service: one Store interface,
// implemented on the embedded SQLite database (package store/sqlite, the default) and on
// PostgreSQL (package store/postgres), and checked by one conformance suite
// (package store/storetest) that runs against both.
//
// Every method that changes state takes the audit entries describing the change and
// appends them in the same transaction, so that the audit log and the state cannot
// disagree. Audit entries form a hash chain (see AuditEntry.ComputeHash); the store
// assigns their sequence numbers and hashes under a lock on the chain head, so the chain
// stays linear even with several issuer processes on one PostgreSQL database.
//
// Status list slots are reserved in random order and never handed out twice: a slot
// is a row with a unique (list, index) key, written before any credential uses it.
//
// What it does not do: decide anything. Authorization, approval thresholds, whether a
// revocation may be undone and what goes into a credential are the issuer service's
// business; the store keeps what it is given, atomically. Of a node's check-in ledger it
// checks the shape and the chain's continuity (Seq, PrevHash, Hash), not the entries'
// signatures nor that each Hash is the hash of its entry: the service verifies those
// before it stores them.
package store

import (
	"context"
	"errors"
	"time"
)

// Sentinel errors. Implementations wrap driver errors with one of these where a caller
// can act on them.
var (
	// ErrNotFound reports that the requested record does not exist.
	ErrNotFound = errors.New("store: not found")
	// ErrConflict reports a write that collides with existing state: a duplicate key, or
	// a conditional update whose condition no longer holds (an approval already decided).
	ErrConflict = errors.New("store: conflict")
	// ErrInvalid reports an argument the store refuses before touching the database:
	// a missing ID, an unknown purpose, role or state, a time out of range, a negative
	// limit. Nothing is written.
	ErrInvalid = errors.New("store: invalid argument")
)

// Store is the issuer's persistent state. Implementations are safe for concurrent use.
// Times are stored with microsecond precision in UTC.
type Store interface {
	// Migrate brings the schema to the latest version, applying each pending versioned
	// migration in its own transaction. It is safe to run concurrently from several
	// processes.
	Migrate(ctx context.Context) error
	// Ping reports whether the database answers.
	Ping(ctx context.Context) error
	// Close releases the database.
	Close() error

	// Setting returns a named setting (for example the issuer DID), or ErrNotFound.
	Setting(ctx context.Context, name string) (string, error)
	// InitSetting stores value under name unless the name already has a value, and
	// returns the value in force afterwards (so concurrent first starts agree).
	InitSetting(ctx context.Context, name, value string) (string, error)

	// SigningKeys returns every signing key, oldest first.
	SigningKeys(ctx context.Context) ([]SigningKey, error)
	// AddSigningKey stores a new signing key. A key with the same ID is ErrConflict.
	AddSigningKey(ctx context.Context, k SigningKey, audit ...AuditEntry) error

	// CreateToken stores an API token (its hash). A duplicate ID or hash is ErrConflict.
	CreateToken(ctx context.Context, t Token, audit ...AuditEntry) error
	// TokenByHash returns the token whose secret hashes to hash, revoked or not.
	TokenByHash(ctx context.Context, hash []byte) (Token, error)
	// Tokens lists all tokens, oldest first.
	Tokens(ctx context.Context) ([]Token, error)
	// RevokeToken marks a token revoked at the given time; ErrNotFound if unknown,
	// ErrConflict if already revoked.
	RevokeToken(ctx context.Context, id string, at time.Time, audit ...AuditEntry) error

	// CreateMember registers a member. A member with the same DID is ErrConflict.
	CreateMember(ctx context.Context, m Member, audit ...AuditEntry) error
	// Member returns a registered member by DID.
	Member(ctx context.Context, did string) (Member, error)
	// Members lists members ordered by DID, after the given DID (for paging), at most
	// limit of them.
	Members(ctx context.Context, after string, limit int) ([]Member, error)

	// ReserveSlots reserves n status list slots for purpose, each at a random index not
	// used before, in the purpose's current list, creating a new list of listSize
	// entries (with a random ID) when the current one is more than half used. Reserved
	// slots are durable: a slot reserved once is never reserved again, whether or not a
	// credential ends up using it.
	ReserveSlots(ctx context.Context, purpose string, n, listSize int) ([]Slot, error)
	// CommitIssuance stores a batch of issued credentials in one transaction: each
	// credential row, its slots (which must be reserved and unused, else ErrConflict),
	// its approval's transition to issued (when ApprovalID is set; ErrConflict when the
	// approval is no longer pending), its offer's transition to issued (when OfferID is
	// set; ErrConflict when the offer is not redeemed) and its audit entries. An unknown
	// approval or offer is ErrNotFound. Either all are stored or none.
	CommitIssuance(ctx context.Context, batch []Issuance) error
	// Credential returns an issued credential by ID.
	Credential(ctx context.Context, id string) (CredentialRecord, error)
	// Credentials lists issued credentials matching f, ordered by issue time then ID.
	Credentials(ctx context.Context, f CredentialFilter) ([]CredentialRecord, error)
	// SetStatus sets or clears the status bit of a credential for purpose (revocation or
	// suspension), records a status event and bumps the list's version, all with the
	// audit entries. It returns false, and writes nothing, when the bit already had
	// that value. ErrNotFound when the credential has no slot for purpose.
	SetStatus(ctx context.Context, c StatusChange, audit ...AuditEntry) (changed bool, err error)
	// StatusList returns a list and the indexes of its set bits.
	StatusList(ctx context.Context, id string) (StatusList, []int, error)
	// StatusLists lists every status list.
	StatusLists(ctx context.Context) ([]StatusList, error)

	// CreateApproval stores a pending approval request.
	CreateApproval(ctx context.Context, a Approval, audit ...AuditEntry) error
	// Approval returns an approval request with its votes.
	Approval(ctx context.Context, id string) (Approval, error)
	// Approvals lists approval requests in state (all states when empty), newest first.
	Approvals(ctx context.Context, state string, limit int) ([]Approval, error)
	// AddVote records an approver's vote on a pending approval and returns the number of
	// votes. A second vote by the same approver is ErrConflict; a vote on an approval that
	// is not pending is ErrConflict.
	AddVote(ctx context.Context, approvalID, approver string, at time.Time, audit ...AuditEntry) (votes int, err error)
	// SetApprovalState moves a pending approval to a final state other than issued
	// (expired, rejected); ErrConflict when it is no longer pending.
	SetApprovalState(ctx context.Context, id, state string, audit ...AuditEntry) error

	// AppendAudit appends entries on their own, for events with no other state change
	// (an authentication failure, a key use).
	AppendAudit(ctx context.Context, entries ...AuditEntry) error
	// AuditEntries returns entries with Seq > after in order, at most limit of them.
	AuditEntries(ctx context.Context, after int64, limit int) ([]AuditEntry, error)
	// AuditHead returns the last entry's sequence number and hash (0 and "" when empty).
	AuditHead(ctx context.Context) (seq int64, hash string, err error)

	// MonthlyCounts returns, for the month [from, to), the number of credentials issued,
	// revoked and suspended, per credential type and node.
	MonthlyCounts(ctx context.Context, from, to time.Time) ([]Count, error)

	// Offers (OpenID4VCI pre-authorized code flow) and nonces. In these methods an
	// empty ID, a hash that is not 32 bytes (SHA-256) or an unusable time is
	// ErrInvalid, also in the lookups.

	// CreateOffer stores an OpenID4VCI credential offer in state OfferOffered. A
	// duplicate ID or code hash is ErrConflict; an offer that is not new (see
	// Offer.Validate) is ErrInvalid.
	CreateOffer(ctx context.Context, o Offer, audit ...AuditEntry) error
	// Offer returns an offer by ID.
	Offer(ctx context.Context, id string) (Offer, error)
	// OfferByCode returns the offer whose pre-authorized code hashes to codeHash.
	OfferByCode(ctx context.Context, codeHash []byte) (Offer, error)
	// OfferByToken returns the offer whose access token hashes to tokenHash.
	OfferByToken(ctx context.Context, tokenHash []byte) (Offer, error)
	// Offers lists offers in state (all when empty), newest first. An unknown state is
	// ErrInvalid.
	Offers(ctx context.Context, state string, limit int) ([]Offer, error)
	// RedeemOffer moves an offer from OfferOffered to OfferRedeemed and records the hash
	// and expiry of the access token issued for it; ErrConflict when the offer is not in
	// state OfferOffered (a code is redeemed once) or another offer has the token hash,
	// ErrNotFound when unknown. Whether the offer has expired is the caller's to check.
	RedeemOffer(ctx context.Context, id string, tokenHash []byte, tokenExpires time.Time, audit ...AuditEntry) error
	// FailOfferAttempt counts a wrong transaction code on an offer in state OfferOffered
	// and returns the count; when it reaches max (at least 1) the offer moves to
	// OfferBurned in the same change. ErrConflict when the offer is not in state
	// OfferOffered, ErrNotFound when unknown.
	FailOfferAttempt(ctx context.Context, id string, max int, audit ...AuditEntry) (attempts int, err error)

	// Nodes and their check-in ledgers. In these methods an empty ID or DID, text that
	// cannot be stored, an enrollment code hash that is not 32 bytes (SHA-256) or an
	// unusable time is ErrInvalid, also in the lookups.

	// CreateNode registers a physical node (a co-living site), not yet enrolled, with
	// an enrollment code hash; a node with the same ID is ErrConflict. A node that is
	// not new (see Node.Validate) is ErrInvalid.
	CreateNode(ctx context.Context, n Node, audit ...AuditEntry) error
	// Node returns a node by ID.
	Node(ctx context.Context, id string) (Node, error)
	// Nodes lists every node by ID.
	Nodes(ctx context.Context) ([]Node, error)
	// SetNodeEnrollCode replaces the enrollment code hash of a node that has not
	// enrolled yet; ErrConflict once it has, ErrNotFound for an unknown node.
	SetNodeEnrollCode(ctx context.Context, id string, codeHash []byte, audit ...AuditEntry) error
	// EnrollNode records the node's DID and enrollment time, once: the code hash must
	// match the stored one, the node must not be enrolled and no other node may have
	// the DID (ErrConflict otherwise; ErrNotFound for an unknown node).
	EnrollNode(ctx context.Context, id, did string, codeHash []byte, at time.Time, audit ...AuditEntry) error
	// AddCheckIns stores a node's ledger entries in one transaction. The entries
	// (see CheckIn.Validate; each NodeID must be nodeID, else ErrInvalid; at most
	// MaxCheckIns) are in chain order: each entry's Seq is the one before plus 1 and
	// its PrevHash the one before's Hash. They must continue the node's stored chain:
	// the first new entry's Seq is the last stored Seq + 1 and its PrevHash the last
	// stored Hash ("" before the first entry, whose Seq is 1). Entries already stored
	// (same node, Seq and Hash) are skipped, so uploads are idempotent; an entry with a
	// stored Seq and another Hash, or a break in the chain (within the upload or with
	// the stored chain), is ErrConflict and nothing is stored. An unknown node is
	// ErrNotFound. The caller sets each entry's ReceivedAt; the store sets Flagged.
	//
	// Each new admission (DecisionAdmitted or DecisionAdmittedFlagged) is flagged
	// when an admission of the same SubjectRef at another node lies less than window
	// before or after it (to the microsecond), and so is that other node's entry;
	// refusals never flag nor are flagged, and admissions at the same node do not
	// flag each other. A zero window flags nothing; a negative one is ErrInvalid.
	// Concurrent uploads (also from several processes) for one node are serialized,
	// and so are uploads whose admissions share a SubjectRef, so that no double
	// check-in escapes the flag; other uploads proceed in parallel.
	//
	// It returns how many entries were new and the entries flagged by this call: the
	// new entries it flagged and the other nodes' entries they matched (flagged before
	// or not), as stored, by node then Seq. The audit entries are appended, in the
	// same transaction, only when at least one entry is new.
	AddCheckIns(ctx context.Context, nodeID string, entries []CheckIn, window time.Duration, audit ...AuditEntry) (stored int, flagged []CheckIn, err error)
	// LastCheckIn returns the node's last stored entry's Seq and Hash (0 and "" when
	// none); ErrNotFound for an unknown node.
	LastCheckIn(ctx context.Context, nodeID string) (seq int64, hash string, err error)
	// CheckIns lists entries matching f, by node then Seq. An unusable Since, a
	// negative AfterSeq or a negative limit is ErrInvalid.
	CheckIns(ctx context.Context, f CheckInFilter) ([]CheckIn, error)
	// MonthlyCheckIns counts, for the month [from, to), the entries per node by
	// decision (see CheckInCount), ordered by node; nodes without entries in the
	// period have no row. An empty or unusable period is ErrInvalid.
	MonthlyCheckIns(ctx context.Context, from, to time.Time) ([]CheckInCount, error)

	// CreateNonce stores a single-use nonce (its hash) valid until expires. A duplicate
	// is ErrConflict.
	CreateNonce(ctx context.Context, hash []byte, expires time.Time) error
	// ConsumeNonce deletes the nonce and succeeds only if it existed and had not expired
	// at now (now is before expires); otherwise ErrNotFound. Two concurrent calls for one
	// nonce: exactly one succeeds. Expired nonces may be deleted along the way.
	ConsumeNonce(ctx context.Context, hash []byte, now time.Time) error
}

// Roles of API tokens.
const (
	RoleAdmin       = "admin"
	RoleSteward     = "steward"
	RoleBadgeIssuer = "badge-issuer"
)

// Status purposes (the Bitstring Status List statusPurpose values Civitas uses).
const (
	PurposeRevocation = "revocation"
	PurposeSuspension = "suspension"
)

// Offer states.
const (
	OfferOffered  = "offered"  // waiting for the wallet to redeem the pre-authorized code
	OfferRedeemed = "redeemed" // code exchanged for an access token; waiting for the credential request
	OfferIssued   = "issued"   // the credential was issued
	OfferBurned   = "burned"   // too many wrong transaction codes
)

// Approval states.
const (
	ApprovalPending  = "pending"
	ApprovalIssued   = "issued"
	ApprovalExpired  = "expired"
	ApprovalRejected = "rejected"
)

// SigningKey is one of the issuer's signing keys. The private key is stored sealed
// (encrypted with the keystore's key-encryption key); the store never sees it in clear.
type SigningKey struct {
	// ID is the verification method fragment, such as "key-1".
	ID string
	// Algorithm is "Ed25519" or "P-256".
	Algorithm string
	// PublicJWK is the public key as a JWK (JSON).
	PublicJWK []byte
	// Sealed is the encrypted private key.
	Sealed []byte
	// CreatedAt orders the keys: the newest signs.
	CreatedAt time.Time
}

// Token is an API token. Only the SHA-256 hash of its secret is stored.
type Token struct {
	// ID is the token's public identifier, used as the actor in audit entries.
	ID string
	// Hash is the SHA-256 of the token's secret.
	Hash []byte
	// Name describes who holds the token.
	Name string
	// Role is RoleAdmin, RoleSteward or RoleBadgeIssuer.
	Role string
	// Nodes lists the nodes a steward stewards.
	Nodes []string
	// CreatedAt is when the token was made; RevokedAt is zero while it is valid.
	CreatedAt, RevokedAt time.Time
}

// Member is a registered member of the community.
type Member struct {
	// DID is the member's DID, the credentialSubject id of their credentials.
	DID string
	// Name is the member's display name.
	Name string
	// CreatedAt is when the member was registered; CreatedBy is the token that did it.
	CreatedAt time.Time
	CreatedBy string
}

// Slot is a reserved status list entry.
type Slot struct {
	// ListID names the status list; Purpose is its statusPurpose.
	ListID, Purpose string
	// Index is the entry's index in the list.
	Index int
}

// Issuance is one credential to store.
type Issuance struct {
	Credential CredentialRecord
	// Slots are the status slots the credential uses (reserved with ReserveSlots).
	Slots []Slot
	// ApprovalID, when set, is the approval request this issuance completes.
	ApprovalID string
	// OfferID, when set, is the OpenID4VCI offer this issuance completes: CommitIssuance
	// moves it from OfferRedeemed to OfferIssued with the credential's ID (ErrConflict
	// when it is not in state OfferRedeemed, ErrNotFound when unknown).
	OfferID string
	// Audit holds the entries describing the issuance.
	Audit []AuditEntry
}

// CredentialRecord is an issued credential.
type CredentialRecord struct {
	// ID is the credential's id.
	ID string
	// Type is the Civitas type name (MembershipCredential, …).
	Type string
	// Subject is the subject's DID.
	Subject string
	// Node is the node of a residency credential, "" otherwise.
	Node string
	// Format is the issuer.Format it was secured with.
	Format string
	// IssuedAt is when it was issued; ValidUntil is zero when it has no end.
	IssuedAt, ValidUntil time.Time
	// IssuedBy is the token (actor) that issued it.
	IssuedBy string
	// Body is the credential exactly as returned to the client (a JWT or JSON).
	Body []byte
	// Revoked and Suspended mirror the status bits; the reasons are the last given.
	Revoked, Suspended             bool
	RevokedReason, SuspendedReason string
	// Slots are the status slots the credential uses.
	Slots []Slot
}

// CredentialFilter selects credentials. Zero fields do not filter.
type CredentialFilter struct {
	Type, Subject, Node string
	// After pages: only credentials ordered after this credential ID.
	After string
	// Limit caps the result (default and maximum are the implementation's, at least 100).
	Limit int
}

// StatusChange sets or clears one status bit of a credential.
type StatusChange struct {
	CredentialID string
	Purpose      string
	Value        bool
	Reason       string
	Actor        string
	At           time.Time
}

// StatusList is a Bitstring Status List's metadata.
type StatusList struct {
	ID      string
	Purpose string
	// Size is the number of entries (bits).
	Size int
	// Used counts reserved slots.
	Used int
	// Version increases with every change of a bit; it makes the list's ETag.
	Version   int64
	CreatedAt time.Time
}

// Approval is an m-of-n approval request for an issuance.
type Approval struct {
	ID string
	// Type is the credential type requested; Node its node (residency), or "".
	Type, Node string
	// Request is the issuance request as JSON (type, subject, format, validity).
	Request []byte
	// RequestedBy is the requesting token; it may not vote.
	RequestedBy string
	// Required is how many distinct approvers must vote.
	Required int
	// State is one of the Approval… constants.
	State string
	// CreatedAt and ExpiresAt bound the request's life.
	CreatedAt, ExpiresAt time.Time
	// CredentialID is set once issued.
	CredentialID string
	// Votes lists the approvers' token IDs in vote order.
	Votes []Vote
}

// Vote is one approval vote.
type Vote struct {
	Approver string
	At       time.Time
}

// Count is one row of a monthly report.
type Count struct {
	Type      string `json:"type"`
	Node      string `json:"node,omitempty"`
	Issued    int    `json:"issued"`
	Revoked   int    `json:"revoked"`
	Suspended int    `json:"suspended"`
}

// Offer is an OpenID4VCI credential offer (pre-authorized code flow). Secrets (the
// pre-authorized code, the transaction code, the access token) are stored as SHA-256
// hashes only.
type Offer struct {
	ID string
	// CodeHash is the SHA-256 of the pre-authorized code.
	CodeHash []byte
	// TxCodeHash is the SHA-256 of the transaction code, or nil when none is required.
	TxCodeHash []byte
	// Type is the credential type offered, Node its node (residency) or "", Format the
	// OpenID4VCI format (jwt_vc_json, ldp_vc, dc+sd-jwt).
	Type, Node, Format string
	// Subject is the member DID the offer is for.
	Subject string
	// Request is the issuance request as JSON.
	Request []byte
	// CreatedBy is the token that made the offer.
	CreatedBy string
	// CreatedAt and ExpiresAt bound the pre-authorized code's life.
	CreatedAt, ExpiresAt time.Time
	// State is one of the Offer… constants.
	State string
	// Attempts counts wrong transaction codes.
	Attempts int
	// TokenHash is the SHA-256 of the access token issued at redemption; TokenExpiresAt
	// is its end.
	TokenHash      []byte
	TokenExpiresAt time.Time
	// CredentialID is set once issued.
	CredentialID string
}

// Node is a physical node of the community that checks members in.
type Node struct {
	// ID is the node's identifier, as residency credentials name it (node.id).
	ID string
	// Name is the node's display name.
	Name string
	// DID is the node's own DID (its ledger signing key), set at enrollment.
	DID string
	// EnrollCodeHash is the SHA-256 of the one-time enrollment code in its first bundle.
	EnrollCodeHash []byte
	// CreatedAt is when the node was registered; EnrolledAt when it enrolled (zero
	// before).
	CreatedAt, EnrolledAt time.Time
	// CreatedBy is the token that registered it.
	CreatedBy string
}

// Check-in decisions as ledgers record them. DecisionAdmittedFlagged is the node's
// own flag (an admission under its stale-bundle fallback); it counts as an admission.
const (
	DecisionAdmitted        = "admitted"
	DecisionRefused         = "refused"
	DecisionAdmittedFlagged = "admitted-flagged"
)

// CheckIn is one entry of a node's service ledger, as uploaded and verified.
type CheckIn struct {
	// NodeID is the node whose ledger holds the entry.
	NodeID string
	// Seq numbers the node's entries from 1.
	Seq int64
	// At is when the node decided.
	At time.Time
	// Type is the credential type concerned ("" when none could be read).
	Type string
	// SubjectRef is the pseudonymous reference of the credential (never a DID or
	// name); "" only in a refusal where none could be read.
	SubjectRef string
	// Decision is one of the Decision… constants.
	Decision string
	// Codes are the decision's reason codes.
	Codes []string
	// Challenge is the hash of the door challenge the presentation answered (lower-
	// case hex; "" when it answered none). It is part of what the node signed.
	Challenge string
	// PrevHash and Hash chain the node's entries (lower-case hex; PrevHash is "" in
	// the first entry); Signature is the node's signature.
	PrevHash, Hash, Signature string
	// ReceivedAt is when the issuer stored it (the caller's clock).
	ReceivedAt time.Time
	// Flagged marks an admission of the same credential at two nodes within the
	// window. The store sets it; an uploaded entry has it false.
	Flagged bool
}

// IsAdmission reports whether the entry admitted someone (DecisionAdmitted or
// DecisionAdmittedFlagged).
func (c CheckIn) IsAdmission() bool {
	return c.Decision == DecisionAdmitted || c.Decision == DecisionAdmittedFlagged
}

// CheckInFilter selects check-ins. Zero fields do not filter.
type CheckInFilter struct {
	NodeID string
	// FlaggedOnly keeps flagged entries.
	FlaggedOnly bool
	// Since keeps entries at or after it.
	Since time.Time
	// AfterNode and AfterSeq page: only entries ordered (by node, then Seq) after
	// the entry (AfterNode, AfterSeq), the last one of the previous page.
	AfterNode string
	AfterSeq  int64
	// Limit caps the result (0: DefaultPage; more than MaxPage: MaxPage).
	Limit int
}

// CheckInCount is a monthly report row: a node's check-ins by decision.
type CheckInCount struct {
	Node string `json:"node"`
	// Admitted counts admissions (DecisionAdmitted and DecisionAdmittedFlagged).
	Admitted int `json:"admitted"`
	// Refused counts refusals.
	Refused int `json:"refused"`
	// Flagged counts the entries flagged as double check-ins (CheckIn.Flagged),
	// which are also counted in Admitted.
	Flagged int `json:"flagged"`
}
