package node

import (
	"context"
	"time"
)

// Decisions.
const (
	// Admitted: the presentation satisfies the policy.
	Admitted = "admitted"
	// Refused: it does not, or it could not be checked.
	Refused = "refused"
	// AdmittedFlagged: admitted under the policy's fallback while the bundle is older
	// than its maximum staleness; the entry is flagged for review.
	AdmittedFlagged = "admitted-flagged"
)

// Challenge is what a door shows a member's wallet: a single-use nonce, the node's DID
// as the audience, and when it stops being accepted.
type Challenge struct {
	Nonce    string    `json:"nonce"`
	Audience string    `json:"audience"`
	Expires  time.Time `json:"expires"`
}

// Decision is the outcome of one check-in.
type Decision struct {
	// Decision is Admitted, Refused or AdmittedFlagged.
	Decision string `json:"decision"`
	// Admitted is true for Admitted and AdmittedFlagged.
	Admitted bool `json:"admitted"`
	// Codes are the machine codes behind the decision: the verifier's codes (expired,
	// revoked, replayed, audience_mismatch, …) and the policy's (not_resident_here, …).
	Codes []string `json:"codes,omitempty"`
	// Reasons say the same in words a door person understands, one per code.
	Reasons []string `json:"reasons,omitempty"`
	// Type is the credential type the member was admitted on (or presented).
	Type string `json:"type,omitempty"`
	// At is when the decision was made.
	At time.Time `json:"at"`
	// Seq is the decision's ledger entry.
	Seq int64 `json:"seq,omitempty"`
}

// Door is what a kiosk drives: it hands out challenges and decides check-ins. The
// node's Door does both offline against its bundle and records each decision.
type Door interface {
	// Challenge returns a new challenge to show the member's wallet.
	Challenge(ctx context.Context) (Challenge, error)
	// CheckIn decides on a presentation answering one of the door's challenges. Bad
	// presentations are refused decisions, not errors; an error means the door itself
	// failed (its ledger could not be written, for example), and nobody is admitted.
	CheckIn(ctx context.Context, presentation []byte) (Decision, error)
}
