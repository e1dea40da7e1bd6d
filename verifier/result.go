package verifier

import (
	"time"

	"github.com/civitas-net/civitas/credential"
)

// Format names a securing format.
type Format string

// Formats Verify detects. The Data Integrity names are the OpenID4VCI format identifiers.
const (
	FormatVCJWT Format = "vc+jwt"
	FormatVPJWT Format = "vp+jwt"
	FormatLDPVC Format = "ldp_vc"
	FormatLDPVP Format = "ldp_vp"
)

// Check names.
const (
	CheckFormat    = "format"
	CheckContexts  = "contexts"
	CheckTrust     = "trust"
	CheckSignature = "signature"
	CheckValidity  = "validity"
	CheckSchema    = "schema"
	CheckStatus    = "status"
	CheckHolder    = "holder"
	CheckChallenge = "challenge"
	CheckAudience  = "audience"
	CheckNonce     = "nonce"
)

// Check is the outcome of one check.
type Check struct {
	// Name is one of the Check… constants.
	Name string `json:"check"`
	// OK is true when the check ran and passed.
	OK bool `json:"ok"`
	// Code is the failure code; empty when OK.
	Code Code `json:"code,omitempty"`
	// Detail is a short human-readable explanation. It never holds key material.
	Detail string `json:"detail,omitempty"`
}

// CredentialResult is the outcome for one credential.
type CredentialResult struct {
	Verified bool     `json:"verified"`
	Format   Format   `json:"format"`
	ID       string   `json:"id,omitempty"`
	Issuer   string   `json:"issuer,omitempty"`
	Types    []string `json:"type,omitempty"`
	// Subject is the credential's (first) subject, as issued.
	Subject    map[string]any `json:"credentialSubject,omitempty"`
	ValidFrom  *time.Time     `json:"validFrom,omitempty"`
	ValidUntil *time.Time     `json:"validUntil,omitempty"`
	Checks     []Check        `json:"checks"`

	// Credential is the parsed credential; nil when it could not be parsed.
	Credential *credential.Credential `json:"-"`
}

// Result is the outcome of Verify.
type Result struct {
	// Verified is true only when every check ran and passed.
	Verified bool   `json:"verified"`
	Format   Format `json:"format,omitempty"`
	// Holder is the presentation's holder; empty for a credential.
	Holder string `json:"holder,omitempty"`
	// Checks are the checks on the presentation itself, or, for a credential, the same
	// checks as Credentials[0].Checks.
	Checks []Check `json:"checks"`
	// Credentials holds one result per credential: the credential itself, or each
	// credential in the presentation.
	Credentials []CredentialResult `json:"credentials,omitempty"`
}

// Codes returns the distinct failure codes in the result, the presentation's first.
func (r *Result) Codes() []Code {
	var out []Code
	seen := map[Code]bool{}
	add := func(cs []Check) {
		for _, c := range cs {
			if !c.OK && c.Code != "" && !seen[c.Code] {
				seen[c.Code] = true
				out = append(out, c.Code)
			}
		}
	}
	add(r.Checks)
	for _, c := range r.Credentials {
		add(c.Checks)
	}
	return out
}

// err returns nil for a verified result and otherwise an *Error for the first failure.
func (r *Result) err() error {
	if r.Verified {
		return nil
	}
	first := func(cs []Check) *Error {
		for _, c := range cs {
			if !c.OK {
				return &Error{Code: c.Code, Detail: c.Detail}
			}
		}
		return nil
	}
	if e := first(r.Checks); e != nil {
		return e
	}
	for _, c := range r.Credentials {
		if e := first(c.Checks); e != nil {
			return e
		}
	}
	return &Error{Code: Internal, Detail: "verification did not complete"}
}

// checks accumulates the checks of one credential or presentation.
type checks []Check

func (cs *checks) pass(name, detail string) {
	*cs = append(*cs, Check{Name: name, OK: true, Detail: detail})
}

func (cs *checks) fail(name string, code Code, detail string) {
	*cs = append(*cs, Check{Name: name, Code: code, Detail: detail})
}

func (cs checks) ok() bool {
	if len(cs) == 0 {
		return false
	}
	for _, c := range cs {
		if !c.OK {
			return false
		}
	}
	return true
}
