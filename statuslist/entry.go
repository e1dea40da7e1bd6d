package statuslist

import (
	"encoding/json"
	"fmt"
	"math"
	"net/url"
	"slices"
	"strconv"
	"strings"

	textclip "github.com/civitas-net/civitas/internal/clip"
)

// Names the specification gives to types and purposes.
const (
	// EntryType is the type of a credentialStatus entry.
	EntryType = "BitstringStatusListEntry"
	// ListType is the type of a status list credential's subject.
	ListType = "BitstringStatusList"
	// CredentialType is the type a status list credential carries.
	CredentialType = "BitstringStatusListCredential"

	// PurposeRevocation marks credentials revoked for good.
	PurposeRevocation = "revocation"
	// PurposeSuspension marks credentials suspended, which can be undone.
	PurposeSuspension = "suspension"
	// (The specification's "message" purpose is not supported; see the package doc.)
)

// MaxIndex is the largest statusListIndex Entry.Index accepts. It bounds the number
// parsed from outside input; whether the index is inside a given list is checked by
// List.Get.
const MaxIndex = math.MaxInt32

// Entry is a BitstringStatusListEntry, one element of a credential's credentialStatus.
type Entry struct {
	// ID optionally identifies the entry; by convention StatusListCredential + "#" + index.
	ID string `json:"id,omitempty"`
	// Type must be EntryType.
	Type string `json:"type"`
	// StatusPurpose is PurposeRevocation or PurposeSuspension.
	StatusPurpose string `json:"statusPurpose"`
	// StatusListIndex is the bit's index, a decimal string as the specification requires.
	StatusListIndex string `json:"statusListIndex"`
	// StatusListCredential is the URL of the BitstringStatusListCredential.
	StatusListCredential string `json:"statusListCredential"`
	// StatusSize is the number of bits per status; 0 (absent) means 1, the only size
	// supported.
	StatusSize int `json:"statusSize,omitempty"`
}

// NewEntry returns the entry for bit index of the list credential at listCredential.
func NewEntry(listCredential, purpose string, index int) (Entry, error) {
	e := Entry{
		ID:                   listCredential + "#" + strconv.Itoa(index),
		Type:                 EntryType,
		StatusPurpose:        purpose,
		StatusListIndex:      strconv.Itoa(index),
		StatusListCredential: listCredential,
	}
	if err := e.Validate(); err != nil {
		return Entry{}, err
	}
	return e, nil
}

// Index parses StatusListIndex: a plain decimal number (no sign, no leading zeros, no
// spaces) not above MaxIndex.
func (e Entry) Index() (int, error) {
	s := e.StatusListIndex
	if s == "" || len(s) > 1 && s[0] == '0' {
		return 0, fmt.Errorf("%w: statusListIndex %q is not a canonical decimal number", ErrMalformed, clip(s))
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, fmt.Errorf("%w: statusListIndex %q is not a canonical decimal number", ErrMalformed, clip(s))
		}
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil || n > MaxIndex {
		return 0, fmt.Errorf("%w: statusListIndex %q above %d", ErrIndexOutOfRange, clip(s), MaxIndex)
	}
	return int(n), nil
}

// Validate checks the entry against the specification and what this package supports.
func (e Entry) Validate() error {
	if e.Type != EntryType {
		return fmt.Errorf("%w: entry type %q, want %q", ErrMalformed, clip(e.Type), EntryType)
	}
	if !supportedPurpose(e.StatusPurpose) {
		return fmt.Errorf("%w: unsupported statusPurpose %q", ErrMalformed, clip(e.StatusPurpose))
	}
	if _, err := e.Index(); err != nil {
		return err
	}
	if err := checkURL("statusListCredential", e.StatusListCredential); err != nil {
		return err
	}
	if e.ID != "" {
		if err := checkURL("id", e.ID); err != nil {
			return err
		}
	}
	if e.StatusSize != 0 && e.StatusSize != 1 {
		return fmt.Errorf("%w: statusSize %d not supported (only 1)", ErrMalformed, e.StatusSize)
	}
	return nil
}

// Map returns the entry as the JSON object a credential carries.
func (e Entry) Map() map[string]any {
	m := map[string]any{
		"type":                 e.Type,
		"statusPurpose":        e.StatusPurpose,
		"statusListIndex":      e.StatusListIndex,
		"statusListCredential": e.StatusListCredential,
	}
	if e.ID != "" {
		m["id"] = e.ID
	}
	if e.StatusSize != 0 {
		m["statusSize"] = e.StatusSize
	}
	return m
}

// ParseEntries reads a credential's credentialStatus value (one object or an array of
// them, as decoded by encoding/json with or without UseNumber) and validates every
// entry. A nil value (no credentialStatus) gives no entries and no error. Any entry that
// is not a supported BitstringStatusListEntry is an error: a verifier cannot check a
// status it does not understand, so it must not treat it as absent.
func ParseEntries(credentialStatus any) ([]Entry, error) {
	var items []any
	switch v := credentialStatus.(type) {
	case nil:
		return nil, nil
	case map[string]any:
		items = []any{v}
	case []any:
		if len(v) == 0 {
			return nil, fmt.Errorf("%w: empty credentialStatus array", ErrMalformed)
		}
		items = v
	default:
		return nil, fmt.Errorf("%w: credentialStatus is %T, want object or array", ErrMalformed, credentialStatus)
	}
	entries := make([]Entry, 0, len(items))
	for i, item := range items {
		m, ok := item.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("%w: credentialStatus[%d] is not an object", ErrMalformed, i)
		}
		e, err := entryFromMap(m)
		if err == nil {
			err = e.Validate()
		}
		if err != nil {
			return nil, fmt.Errorf("credentialStatus[%d]: %w", i, err)
		}
		entries = append(entries, e)
	}
	return entries, nil
}

func entryFromMap(m map[string]any) (Entry, error) {
	var e Entry
	fields := []struct {
		name     string
		dst      *string
		required bool
	}{
		{"id", &e.ID, false},
		{"type", &e.Type, true},
		{"statusPurpose", &e.StatusPurpose, true},
		{"statusListIndex", &e.StatusListIndex, true},
		{"statusListCredential", &e.StatusListCredential, true},
	}
	for _, f := range fields {
		v, present := m[f.name]
		if !present {
			if f.required {
				return Entry{}, fmt.Errorf("%w: missing %s", ErrMalformed, f.name)
			}
			continue
		}
		s, ok := v.(string)
		if !ok {
			return Entry{}, fmt.Errorf("%w: %s is %T, want string", ErrMalformed, f.name, v)
		}
		*f.dst = s
	}
	if v, present := m["statusSize"]; present {
		n, ok := smallInt(v)
		if !ok || n < 1 {
			return Entry{}, fmt.Errorf("%w: statusSize is not a positive integer", ErrMalformed)
		}
		e.StatusSize = n
	}
	return e, nil
}

// smallInt converts a JSON number (float64, json.Number or a Go int) to an int when it is
// an integer of modest size.
func smallInt(v any) (int, bool) {
	const limit = 1 << 20
	switch x := v.(type) {
	case int:
		return x, x > -limit && x < limit
	case float64:
		if x != math.Trunc(x) || x <= -limit || x >= limit {
			return 0, false
		}
		return int(x), true
	case json.Number:
		n, err := strconv.Atoi(string(x))
		return n, err == nil && n > -limit && n < limit
	}
	return 0, false
}

// ListFromCredential reads the list out of a BitstringStatusListCredential: the
// credential must have type CredentialType, its subject type ListType and a
// statusPurpose naming purpose; encodedList is decoded within lim. The caller must have
// verified the credential's proof, issuer and validity period first.
func ListFromCredential(credential map[string]any, purpose string, lim DecodeLimits) (*List, error) {
	if !supportedPurpose(purpose) {
		return nil, fmt.Errorf("%w: unsupported statusPurpose %q", ErrMalformed, clip(purpose))
	}
	if !hasString(credential["type"], CredentialType) {
		return nil, fmt.Errorf("%w: credential type lacks %s", ErrMalformed, CredentialType)
	}
	subject, ok := credential["credentialSubject"].(map[string]any)
	if !ok {
		if arr, isArr := credential["credentialSubject"].([]any); isArr && len(arr) == 1 {
			subject, ok = arr[0].(map[string]any)
		}
	}
	if !ok {
		return nil, fmt.Errorf("%w: credentialSubject is not one object", ErrMalformed)
	}
	if !hasString(subject["type"], ListType) {
		return nil, fmt.Errorf("%w: credentialSubject type is not %s", ErrMalformed, ListType)
	}
	purposes, ok := strings1(subject["statusPurpose"])
	if !ok {
		return nil, fmt.Errorf("%w: statusPurpose is not a string or an array of strings", ErrMalformed)
	}
	if !slices.Contains(purposes, purpose) {
		return nil, fmt.Errorf("%w: list is for %q, entry wants %q", ErrPurposeMismatch, strings.Join(purposes, ","), purpose)
	}
	encoded, ok := subject["encodedList"].(string)
	if !ok {
		return nil, fmt.Errorf("%w: encodedList missing or not a string", ErrMalformed)
	}
	return Decode(encoded, lim)
}

func supportedPurpose(p string) bool {
	return p == PurposeRevocation || p == PurposeSuspension
}

// hasString reports whether v is the string want or an array containing it.
func hasString(v any, want string) bool {
	ss, ok := strings1(v)
	return ok && slices.Contains(ss, want)
}

// strings1 reads "one or more strings": a string or a non-empty array of strings.
func strings1(v any) ([]string, bool) {
	switch x := v.(type) {
	case string:
		return []string{x}, true
	case []any:
		if len(x) == 0 {
			return nil, false
		}
		out := make([]string, 0, len(x))
		for _, e := range x {
			s, ok := e.(string)
			if !ok {
				return nil, false
			}
			out = append(out, s)
		}
		return out, true
	case []string:
		return x, len(x) > 0
	}
	return nil, false
}

func checkURL(field, s string) error {
	u, err := url.Parse(s)
	if err != nil || !u.IsAbs() || (u.Host == "" && u.Opaque == "") || strings.ContainsAny(s, " \t\r\n") {
		return fmt.Errorf("%w: %s %q is not an absolute URL", ErrMalformed, field, clip(s))
	}
	return nil
}

// clip shortens outside strings before they go into an error message.
func clip(s string) string { return textclip.String(s, 64) }
