package verifier

import (
	"context"
	"fmt"
	"strings"

	"github.com/civitas-net/civitas/statuslist"
)

// StatusChecker looks up one Bitstring Status List entry. Implementations fetch (or
// hold, for offline nodes) the status list credential named by the entry, verify it as a
// credential issued by the same issuer, and read the bit.
type StatusChecker interface {
	// CheckStatus reports whether the entry's bit is set. Any failure to know (list
	// unreachable, not verifiable, too stale, index out of range) is an error, which the
	// verifier reports as status_unavailable.
	CheckStatus(ctx context.Context, q StatusQuery) (set bool, err error)
}

// StatusQuery is one status entry of a verified credential.
type StatusQuery struct {
	// Issuer is the credential's issuer; the status list must be issued by it.
	Issuer string
	// Entry is the credential's status entry.
	Entry statuslist.Entry
}

// checkStatus runs the status check over a credential's credentialStatus value.
func (v *Verifier) checkStatus(ctx context.Context, cs *checks, issuer string, credentialStatus any, p *Policy) {
	if credentialStatus == nil {
		cs.pass(CheckStatus, "the credential has no status entry")
		return
	}
	if p.Status == StatusSkip {
		cs.pass(CheckStatus, "not checked: skipped by policy")
		return
	}
	if v.status == nil {
		cs.fail(CheckStatus, StatusUnavailable, "the credential has a status entry and no status checker is configured")
		return
	}
	entries, err := statuslist.ParseEntries(credentialStatus)
	if err != nil {
		cs.fail(CheckStatus, StatusUnavailable, fmt.Sprintf("unusable status entry: %v", err))
		return
	}
	var checked []string
	for _, e := range entries {
		set, err := v.status.CheckStatus(ctx, StatusQuery{Issuer: issuer, Entry: e})
		if err != nil {
			cs.fail(CheckStatus, StatusUnavailable, err.Error())
			return
		}
		if set {
			switch e.StatusPurpose {
			case statuslist.PurposeRevocation:
				cs.fail(CheckStatus, Revoked, "the issuer has revoked the credential")
			case statuslist.PurposeSuspension:
				cs.fail(CheckStatus, Suspended, "the issuer has suspended the credential")
			default:
				cs.fail(CheckStatus, StatusUnavailable, fmt.Sprintf("status purpose %q is not supported", e.StatusPurpose))
			}
			return
		}
		checked = append(checked, e.StatusPurpose)
	}
	cs.pass(CheckStatus, "not "+strings.Join(past(checked), " or "))
}

// past turns status purposes into the participles used in messages.
func past(purposes []string) []string {
	out := make([]string, len(purposes))
	for i, p := range purposes {
		out[i] = map[string]string{statuslist.PurposeRevocation: "revoked", statuslist.PurposeSuspension: "suspended"}[p]
	}
	return out
}
