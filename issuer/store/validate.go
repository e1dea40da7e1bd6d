package store

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// Bounds the implementations apply to their arguments.
const (
	// DefaultPage is the page size of a listing method called with limit 0.
	DefaultPage = 100
	// MaxPage caps the limit of a listing method; larger limits are lowered to it.
	// VerifyChain reads the audit log in pages of MaxPage entries.
	MaxPage = 1000
	// MaxReserve is the most slots one ReserveSlots call hands out.
	MaxReserve = 10000
	// MaxListSize is the largest status list ReserveSlots creates (an 8 MiB bitstring).
	MaxListSize = 1 << 26
	// MaxCheckIns is the most ledger entries one AddCheckIns call takes.
	MaxCheckIns = 10000
	// MaxLedgerHash is the longest PrevHash or Hash of a ledger entry, in hex digits
	// (a 512-bit hash).
	MaxLedgerHash = 128
)

// The checks below are the ones every implementation applies before it writes; a
// failure wraps ErrInvalid. They check shape only (present, known, in range), not
// policy, which is the issuer service's.

// ValidTime reports whether t can be stored: not zero, and between the years 1 and
// 9999, so that unix microseconds and RFC 3339 both represent it exactly.
func ValidTime(t time.Time) bool {
	if t.IsZero() {
		return false
	}
	y := t.UTC().Year()
	return y >= 1 && y <= 9999
}

// ValidText reports whether every s can be stored as text: valid UTF-8 without NUL
// bytes (PostgreSQL's text type refuses both).
func ValidText(ss ...string) bool {
	for _, s := range ss {
		if !utf8.ValidString(s) || strings.IndexByte(s, 0) >= 0 {
			return false
		}
	}
	return true
}

// ValidPeriod reports whether [from, to) is a period a report can cover: two usable
// times (ValidTime), from before to.
func ValidPeriod(from, to time.Time) bool {
	return ValidTime(from) && ValidTime(to) && from.Before(to)
}

// ValidPurpose reports whether p is a status purpose the store keeps lists for.
func ValidPurpose(p string) bool {
	return p == PurposeRevocation || p == PurposeSuspension
}

// PageLimit turns a caller's limit into the one to use: 0 is DefaultPage, more than
// MaxPage is MaxPage, negative is ErrInvalid.
func PageLimit(limit int) (int, error) {
	switch {
	case limit < 0:
		return 0, fmt.Errorf("%w: negative limit %d", ErrInvalid, limit)
	case limit == 0:
		return DefaultPage, nil
	case limit > MaxPage:
		return MaxPage, nil
	}
	return limit, nil
}

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrInvalid}, args...)...)
}

// Validate checks a signing key before it is stored.
func (k SigningKey) Validate() error {
	switch {
	case k.ID == "":
		return invalid("signing key ID is empty")
	case !ValidText(k.ID, k.Algorithm):
		return invalid("signing key fields are not valid text")
	case k.Algorithm == "":
		return invalid("signing key %q has no algorithm", k.ID)
	case len(k.PublicJWK) == 0:
		return invalid("signing key %q has no public JWK", k.ID)
	case len(k.Sealed) == 0:
		return invalid("signing key %q has no sealed private key", k.ID)
	case !ValidTime(k.CreatedAt):
		return invalid("signing key %q has no valid creation time", k.ID)
	}
	return nil
}

// Validate checks a token before it is created.
func (t Token) Validate() error {
	switch {
	case t.ID == "":
		return invalid("token ID is empty")
	case !ValidText(t.ID, t.Name) || !ValidText(t.Nodes...):
		return invalid("token fields are not valid text")
	case !ValidHash(t.Hash):
		return invalid("token %q: hash is %d bytes, want 32 (SHA-256)", t.ID, len(t.Hash))
	case t.Role != RoleAdmin && t.Role != RoleSteward && t.Role != RoleBadgeIssuer:
		return invalid("token %q: unknown role %q", t.ID, t.Role)
	case slices.Contains(t.Nodes, ""):
		return invalid("token %q: empty node name", t.ID)
	case !ValidTime(t.CreatedAt):
		return invalid("token %q has no valid creation time", t.ID)
	case !t.RevokedAt.IsZero():
		return invalid("token %q is created revoked", t.ID)
	}
	return nil
}

// Validate checks a member before it is registered.
func (m Member) Validate() error {
	switch {
	case m.DID == "":
		return invalid("member DID is empty")
	case !ValidText(m.DID, m.Name, m.CreatedBy):
		return invalid("member fields are not valid text")
	case !ValidTime(m.CreatedAt):
		return invalid("member %q has no valid creation time", m.DID)
	}
	return nil
}

// Validate checks one issuance of a CommitIssuance batch. Slots are what is stored;
// Credential.Slots must be empty or list the same slots. A credential uses at most one
// slot per purpose and is stored with its status bits clear.
func (i Issuance) Validate() error {
	c := i.Credential
	switch {
	case c.ID == "":
		return invalid("credential ID is empty")
	case !ValidText(c.ID, c.Type, c.Subject, c.Node, c.Format, c.IssuedBy, i.ApprovalID, i.OfferID):
		return invalid("credential fields are not valid text")
	case c.Type == "" || c.Subject == "" || c.Format == "" || c.IssuedBy == "":
		return invalid("credential %q lacks its type, subject, format or issuer token", c.ID)
	case len(c.Body) == 0:
		return invalid("credential %q has no body", c.ID)
	case !ValidTime(c.IssuedAt):
		return invalid("credential %q has no valid issue time", c.ID)
	case !c.ValidUntil.IsZero() && !ValidTime(c.ValidUntil):
		return invalid("credential %q has an invalid end of validity", c.ID)
	case c.Revoked || c.Suspended || c.RevokedReason != "" || c.SuspendedReason != "":
		return invalid("credential %q is issued with a status already set", c.ID)
	case len(c.Slots) != 0 && !sameSlots(c.Slots, i.Slots):
		return invalid("credential %q: Credential.Slots differs from Slots", c.ID)
	}
	seen := map[string]bool{}
	for _, s := range i.Slots {
		switch {
		case !ValidPurpose(s.Purpose):
			return invalid("credential %q: slot with unknown purpose %q", c.ID, s.Purpose)
		case s.ListID == "" || s.Index < 0 || !ValidText(s.ListID):
			return invalid("credential %q: slot without list or with negative index", c.ID)
		case seen[s.Purpose]:
			return invalid("credential %q: two %s slots", c.ID, s.Purpose)
		}
		seen[s.Purpose] = true
	}
	return ValidateAudit(i.Audit)
}

func sameSlots(a, b []Slot) bool {
	if len(a) != len(b) {
		return false
	}
	for _, s := range a {
		if !slices.Contains(b, s) {
			return false
		}
	}
	return true
}

// Validate checks a status change.
func (c StatusChange) Validate() error {
	switch {
	case c.CredentialID == "":
		return invalid("status change without credential ID")
	case !ValidText(c.CredentialID, c.Reason, c.Actor):
		return invalid("status change fields are not valid text")
	case !ValidPurpose(c.Purpose):
		return invalid("status change of %q: unknown purpose %q", c.CredentialID, c.Purpose)
	case c.Actor == "":
		return invalid("status change of %q has no actor", c.CredentialID)
	case !ValidTime(c.At):
		return invalid("status change of %q has no valid time", c.CredentialID)
	}
	return nil
}

// Validate checks an approval request before it is created: it must be new (pending
// or with no state, no votes, no credential) and need at least one approver.
func (a Approval) Validate() error {
	switch {
	case a.ID == "":
		return invalid("approval ID is empty")
	case !ValidText(a.ID, a.Type, a.Node, a.RequestedBy):
		return invalid("approval fields are not valid text")
	case a.Type == "" || a.RequestedBy == "":
		return invalid("approval %q lacks its type or requester", a.ID)
	case len(a.Request) == 0:
		return invalid("approval %q has no request", a.ID)
	case a.Required < 1:
		return invalid("approval %q requires %d approvers", a.ID, a.Required)
	case a.State != "" && a.State != ApprovalPending:
		return invalid("approval %q is created in state %q", a.ID, a.State)
	case a.CredentialID != "" || len(a.Votes) != 0:
		return invalid("approval %q is created with votes or a credential", a.ID)
	case !ValidTime(a.CreatedAt) || !ValidTime(a.ExpiresAt):
		return invalid("approval %q has no valid creation or expiry time", a.ID)
	}
	return nil
}

// ValidFinalState reports whether SetApprovalState may move an approval to state.
func ValidFinalState(state string) bool {
	return state == ApprovalExpired || state == ApprovalRejected
}

// ValidState reports whether state is one of the Approval… constants.
func ValidState(state string) bool {
	return state == ApprovalPending || state == ApprovalIssued || ValidFinalState(state)
}

// ValidateAudit checks entries before they are appended: each needs a time, an
// actor and an action, and Details, when set, must be JSON.
func ValidateAudit(entries []AuditEntry) error {
	for _, e := range entries {
		switch {
		case e.Action == "" || e.Actor == "":
			return invalid("audit entry without actor or action")
		case !ValidText(e.Actor, e.Action, e.Target):
			return invalid("audit entry fields are not valid text")
		case !ValidTime(e.At):
			return invalid("audit entry %q has no valid time", e.Action)
		case len(e.Details) != 0 && !json.Valid(e.Details):
			return invalid("audit entry %q: details are not JSON", e.Action)
		}
	}
	return nil
}

// ValidateReserve checks the arguments of ReserveSlots.
func ValidateReserve(purpose string, n, listSize int) error {
	switch {
	case !ValidPurpose(purpose):
		return invalid("unknown status purpose %q", purpose)
	case n < 1 || n > MaxReserve:
		return invalid("cannot reserve %d slots (1 to %d)", n, MaxReserve)
	case listSize < 2 || listSize > MaxListSize:
		return invalid("list size %d out of range (2 to %d)", listSize, MaxListSize)
	}
	return nil
}

// ValidHash reports whether b has the size of a SHA-256 hash, the only hash the store
// keeps of secrets (token secrets, pre-authorized codes, transaction codes, access
// tokens, nonces).
func ValidHash(b []byte) bool { return len(b) == sha256.Size }

// ValidOfferState reports whether state is one of the Offer… constants.
func ValidOfferState(state string) bool {
	switch state {
	case OfferOffered, OfferRedeemed, OfferIssued, OfferBurned:
		return true
	}
	return false
}

// Validate checks an offer before it is created: it must be new (offered or with no
// state, no attempts, no access token, no credential), carry a SHA-256 code hash and,
// when a transaction code is required, its SHA-256 hash, and expire after it is
// created (as stored, to the microsecond). An empty, non-nil TxCodeHash counts as
// none.
func (o Offer) Validate() error {
	switch {
	case o.ID == "":
		return invalid("offer ID is empty")
	case !ValidText(o.ID, o.Type, o.Node, o.Format, o.Subject, o.CreatedBy):
		return invalid("offer fields are not valid text")
	case !ValidHash(o.CodeHash):
		return invalid("offer %q: code hash is %d bytes, want 32 (SHA-256)", o.ID, len(o.CodeHash))
	case len(o.TxCodeHash) != 0 && !ValidHash(o.TxCodeHash):
		return invalid("offer %q: transaction code hash is %d bytes, want 32 (SHA-256)", o.ID, len(o.TxCodeHash))
	case o.Type == "" || o.Format == "" || o.Subject == "" || o.CreatedBy == "":
		return invalid("offer %q lacks its type, format, subject or creator", o.ID)
	case len(o.Request) == 0:
		return invalid("offer %q has no request", o.ID)
	case o.State != "" && o.State != OfferOffered:
		return invalid("offer %q is created in state %q", o.ID, o.State)
	case o.Attempts != 0 || len(o.TokenHash) != 0 || !o.TokenExpiresAt.IsZero() || o.CredentialID != "":
		return invalid("offer %q is created with attempts, an access token or a credential", o.ID)
	case !ValidTime(o.CreatedAt) || !ValidTime(o.ExpiresAt):
		return invalid("offer %q has no valid creation or expiry time", o.ID)
	case !o.ExpiresAt.Truncate(time.Microsecond).After(o.CreatedAt.Truncate(time.Microsecond)):
		return invalid("offer %q does not expire after it is created (to the microsecond)", o.ID)
	}
	return nil
}

// Validate checks a node before it is registered: it must be new (no DID, not
// enrolled) and carry a SHA-256 enrollment code hash.
func (n Node) Validate() error {
	switch {
	case n.ID == "":
		return invalid("node ID is empty")
	case !ValidText(n.ID, n.Name, n.DID, n.CreatedBy):
		return invalid("node fields are not valid text")
	case n.CreatedBy == "":
		return invalid("node %q has no creator", n.ID)
	case !ValidHash(n.EnrollCodeHash):
		return invalid("node %q: enrollment code hash is %d bytes, want 32 (SHA-256)", n.ID, len(n.EnrollCodeHash))
	case !ValidTime(n.CreatedAt):
		return invalid("node %q has no valid creation time", n.ID)
	case n.DID != "" || !n.EnrolledAt.IsZero():
		return invalid("node %q is created enrolled", n.ID)
	}
	return nil
}

// ValidDecision reports whether d is one of the Decision… constants.
func ValidDecision(d string) bool {
	switch d {
	case DecisionAdmitted, DecisionRefused, DecisionAdmittedFlagged:
		return true
	}
	return false
}

// validLedgerHash reports whether h is a non-empty, even-length string of lower-case
// hex digits of at most MaxLedgerHash digits.
func validLedgerHash(h string) bool {
	if h == "" || len(h) > MaxLedgerHash || len(h)%2 != 0 {
		return false
	}
	for i := 0; i < len(h); i++ {
		if c := h[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// Validate checks one uploaded ledger entry: a node, a Seq from 1, a usable decision
// time and receipt time, a known decision, a SubjectRef in every admission, reason
// codes that are not empty, lower-case hex hashes (no PrevHash in entry 1, one in
// every later entry; a Challenge, when there is one), a signature, and no flag (the
// store sets it).
func (c CheckIn) Validate() error {
	switch {
	case c.NodeID == "":
		return invalid("check-in node ID is empty")
	case !ValidText(c.NodeID, c.Type, c.SubjectRef, c.Signature) || !ValidText(c.Codes...):
		return invalid("check-in %s/%d: fields are not valid text", c.NodeID, c.Seq)
	case c.Seq < 1:
		return invalid("check-in %s/%d: sequence numbers start at 1", c.NodeID, c.Seq)
	case !ValidTime(c.At) || !ValidTime(c.ReceivedAt):
		return invalid("check-in %s/%d has no valid decision or receipt time", c.NodeID, c.Seq)
	case !ValidDecision(c.Decision):
		return invalid("check-in %s/%d: unknown decision %q", c.NodeID, c.Seq, c.Decision)
	case c.IsAdmission() && c.SubjectRef == "":
		return invalid("check-in %s/%d admits without a subject reference", c.NodeID, c.Seq)
	case slices.Contains(c.Codes, ""):
		return invalid("check-in %s/%d: empty reason code", c.NodeID, c.Seq)
	case !validLedgerHash(c.Hash):
		return invalid("check-in %s/%d: hash is not lower-case hex of 2 to %d digits", c.NodeID, c.Seq, MaxLedgerHash)
	case c.Seq == 1 && c.PrevHash != "":
		return invalid("check-in %s/1: the first entry has no previous hash", c.NodeID)
	case c.Seq > 1 && !validLedgerHash(c.PrevHash):
		return invalid("check-in %s/%d: previous hash is not lower-case hex of 2 to %d digits", c.NodeID, c.Seq, MaxLedgerHash)
	case c.Signature == "":
		return invalid("check-in %s/%d has no signature", c.NodeID, c.Seq)
	case c.Challenge != "" && !validLedgerHash(c.Challenge):
		return invalid("check-in %s/%d: challenge hash is not lower-case hex of 2 to %d digits", c.NodeID, c.Seq, MaxLedgerHash)
	case c.Flagged:
		return invalid("check-in %s/%d is uploaded flagged", c.NodeID, c.Seq)
	}
	return nil
}

// Validate checks a check-in filter: text the store can hold, a usable Since when it
// is set, and an AfterSeq that is not negative. Its Limit is PageLimit's to check.
func (f CheckInFilter) Validate() error {
	switch {
	case !ValidText(f.NodeID, f.AfterNode):
		return invalid("node not valid text")
	case !f.Since.IsZero() && !ValidTime(f.Since):
		return invalid("invalid time")
	case f.AfterSeq < 0:
		return invalid("negative sequence number")
	}
	return nil
}

// ValidateCheckIns checks the arguments of AddCheckIns before the store looks at the
// stored chain: a node ID, a window that is not negative, at most MaxCheckIns entries
// that each Validate and belong to the node (ErrInvalid otherwise), and then that the
// entries follow one another, each Seq the one before plus 1 and each PrevHash the
// Hash before it (ErrConflict otherwise: a break in the chain).
func ValidateCheckIns(nodeID string, entries []CheckIn, window time.Duration) error {
	switch {
	case nodeID == "" || !ValidText(nodeID):
		return invalid("check-ins: empty node ID or not valid text")
	case window < 0:
		return invalid("check-ins: negative flagging window %v", window)
	case len(entries) > MaxCheckIns:
		return invalid("check-ins: %d entries in one upload, at most %d", len(entries), MaxCheckIns)
	}
	for _, e := range entries {
		if err := e.Validate(); err != nil {
			return err
		}
		if e.NodeID != nodeID {
			return invalid("check-in %s/%d uploaded for node %q", e.NodeID, e.Seq, nodeID)
		}
	}
	for i := 1; i < len(entries); i++ {
		if e, p := entries[i], entries[i-1]; e.Seq != p.Seq+1 || e.PrevHash != p.Hash {
			return fmt.Errorf("%w: check-in %s/%d does not follow entry %d of the upload", ErrConflict, nodeID, e.Seq, p.Seq)
		}
	}
	return nil
}

// ContinueChain checks entries that passed ValidateCheckIns against a node's stored
// chain and returns those that are new. lastSeq and lastHash are the stored chain's
// last entry (0 and "" when empty); stored holds, in Seq order, the stored hashes of
// the entries the upload overlaps, from entries[0].Seq to min(lastSeq, last Seq of
// the upload) (OverlapRange), and nothing when they do not overlap. An overlapping
// entry with another Hash, or new entries that do not start at lastSeq+1 with
// PrevHash lastHash, is ErrConflict. Stores call it under their lock on the node.
func ContinueChain(entries []CheckIn, lastSeq int64, lastHash string, stored []string) ([]CheckIn, error) {
	if len(entries) == 0 {
		return nil, nil
	}
	var overlap int64
	if from, to, ok := OverlapRange(entries, lastSeq); ok {
		overlap = to - from + 1
	}
	if int64(len(stored)) != overlap {
		return nil, fmt.Errorf("stored chain of node %q: %d hashes for %d overlapping entries (a gap in the stored chain)",
			entries[0].NodeID, len(stored), overlap)
	}
	for i, h := range stored {
		if e := entries[i]; e.Hash != h {
			return nil, fmt.Errorf("%w: check-in %s/%d differs from the stored entry %d (divergent history)", ErrConflict, e.NodeID, e.Seq, e.Seq)
		}
	}
	fresh := entries[overlap:]
	switch {
	case len(fresh) == 0:
		return nil, nil
	case fresh[0].Seq != lastSeq+1:
		return nil, fmt.Errorf("%w: check-in %s/%d does not follow the stored chain, which ends at entry %d (a gap)",
			ErrConflict, fresh[0].NodeID, fresh[0].Seq, lastSeq)
	case fresh[0].PrevHash != lastHash:
		return nil, fmt.Errorf("%w: check-in %s/%d: its previous hash is not the hash of stored entry %d",
			ErrConflict, fresh[0].NodeID, fresh[0].Seq, lastSeq)
	}
	return fresh, nil
}
