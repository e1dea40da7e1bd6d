package statuslist

import (
	"fmt"
	"strings"
	"time"

	"github.com/civitas-net/civitas/credential"
)

// Credential returns the unsigned BitstringStatusListCredential publishing list, as a
// decoded-JSON document ready for an issuer to secure: the VC 2.0 context, id, the types
// VerifiableCredential and CredentialType, issuer, validFrom, validUntil when not zero,
// and a credentialSubject of type ListType with id id+"#list", the statusPurpose and the
// encodedList. id is the URL the credential will be published at, which is what status
// entries name as statusListCredential and what verifiers require the id to be.
// Dates are written as credential.FormatDateTime writes them (UTC, whole seconds).
func Credential(id, issuer, purpose string, list *List, validFrom, validUntil time.Time) (map[string]any, error) {
	if err := checkURL("id", id); err != nil {
		return nil, err
	}
	if strings.Contains(id, "#") {
		return nil, fmt.Errorf("%w: id %q has a fragment; the subject's id adds one", ErrMalformed, clip(id))
	}
	if err := checkURL("issuer", issuer); err != nil {
		return nil, err
	}
	if !supportedPurpose(purpose) {
		return nil, fmt.Errorf("%w: unsupported statusPurpose %q", ErrMalformed, clip(purpose))
	}
	if list == nil || list.Len() == 0 {
		return nil, fmt.Errorf("%w: no list", ErrMalformed)
	}
	if validFrom.IsZero() {
		return nil, fmt.Errorf("%w: validFrom is required", ErrMalformed)
	}
	// Compare what will be written: whole seconds.
	if !validUntil.IsZero() && !validUntil.Truncate(time.Second).After(validFrom.Truncate(time.Second)) {
		return nil, fmt.Errorf("%w: validUntil must be after validFrom", ErrMalformed)
	}
	encoded, err := list.Encode()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	doc := map[string]any{
		"@context":  []any{credential.ContextV2},
		"id":        id,
		"type":      []any{credential.TypeCredential, CredentialType},
		"issuer":    issuer,
		"validFrom": credential.FormatDateTime(validFrom),
		"credentialSubject": map[string]any{
			"id":            id + "#list",
			"type":          ListType,
			"statusPurpose": purpose,
			"encodedList":   encoded,
		},
	}
	if !validUntil.IsZero() {
		doc["validUntil"] = credential.FormatDateTime(validUntil)
	}
	return doc, nil
}
