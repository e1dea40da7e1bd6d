package node

// Codes of the door's own decisions, next to the verifier's codes.
const (
	// CodeNotResidentHere: the residency is for another node.
	CodeNotResidentHere = "not_resident_here"
	// CodeResidencyNotCurrent: the residence period does not cover today.
	CodeResidencyNotCurrent = "residency_not_current"
	// CodeNoAdmittingCredential: no credential the policy admits on.
	CodeNoAdmittingCredential = "no_admitting_credential"
	// CodeUnknownChallenge: the presentation answers no challenge this door handed out,
	// or one that has expired.
	CodeUnknownChallenge = "unknown_challenge"
	// CodeBundleStale: the bundle is older than the policy's maximum staleness.
	CodeBundleStale = "bundle_stale"
	// CodeBundleExpired: the bundle has expired; the door cannot decide.
	CodeBundleExpired = "bundle_expired"
)

// reasons are the words a door person reads, by code.
var reasons = map[string]string{
	"malformed":               "This is not a presentation the door can read. Ask the member to show it again.",
	"unsupported_format":      "This is not a presentation the door can read. Ask the member to show it again.",
	"algorithm_not_allowed":   "The credential is signed in a way the door does not accept.",
	"unknown_context":         "The credential uses terms the door does not know.",
	"limit_exceeded":          "The presentation is too large or too complex.",
	"signature_invalid":       "The credential or presentation has been altered, or is forged.",
	"key_mismatch":            "The credential is not signed by the community that it names.",
	"issuer_unresolvable":     "The door does not know the community that issued this credential.",
	"issuer_untrusted":        "Issued by someone this site does not trust.",
	"expired":                 "The credential has expired.",
	"not_yet_valid":           "The credential is not valid yet.",
	"schema_invalid":          "The credential is not filled in correctly.",
	"schema_unavailable":      "The credential is of a kind the door does not know.",
	"revoked":                 "The community has revoked this credential.",
	"suspended":               "The community has suspended this credential for now.",
	"status_unavailable":      "The door cannot check whether this credential was revoked (its data needs a refresh).",
	"holder_unresolvable":     "The member's wallet could not be identified.",
	"holder_mismatch":         "The credential belongs to someone else.",
	"challenge_mismatch":      "The presentation does not answer this door's code. Ask the member to scan the code again.",
	"audience_mismatch":       "This presentation was made for another site.",
	"replayed":                "This presentation was already used. Ask the member to present again.",
	"internal_error":          "The door had a problem. Try again.",
	CodeNotResidentHere:       "Not a resident of this site.",
	CodeResidencyNotCurrent:   "The residency does not cover today.",
	CodeNoAdmittingCredential: "None of the credentials shown gives entry here.",
	CodeUnknownChallenge:      "The presentation answers no current code of this door (too old, or from elsewhere). Ask the member to scan the code again.",
	CodeBundleStale:           "The door's data is out of date; refresh it when online.",
	CodeBundleExpired:         "The door's data has expired: refresh it before admitting anyone.",
}

// Reason returns the words for a code.
func Reason(code string) string {
	if r, ok := reasons[code]; ok {
		return r
	}
	return "Refused (" + code + ")."
}
