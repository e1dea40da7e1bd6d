package credential

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
)

// memberOrder is the order in which Marshal writes the well-known top-level members of a
// credential or presentation; other members follow in lexical order, and proof comes last.
var memberOrder = []string{
	"@context", "id", "type", "name", "description", "issuer", "holder", "validFrom", "validUntil",
	"credentialSubject", "verifiableCredential", "credentialSchema", "credentialStatus", "evidence",
}

// Marshal encodes a credential or presentation document as JSON with its members in
// the conventional order (@context, id, type, issuer, …, proof), so that output is stable
// and easy to read. Nested objects are written with sorted keys. HTML characters are not
// escaped.
func Marshal(doc map[string]any) ([]byte, error) {
	keys := make([]string, 0, len(doc))
	for k := range doc {
		keys = append(keys, k)
	}
	rank := func(k string) int {
		if k == "proof" {
			return len(memberOrder) + 1
		}
		if i := slices.Index(memberOrder, k); i >= 0 {
			return i
		}
		return len(memberOrder)
	}
	slices.SortFunc(keys, func(a, b string) int {
		if ra, rb := rank(a), rank(b); ra != rb {
			return ra - rb
		}
		switch {
		case a < b:
			return -1
		case a > b:
			return 1
		}
		return 0
	})
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	buf.WriteByte('{')
	for i, k := range keys {
		if i > 0 {
			buf.WriteByte(',')
		}
		if err := enc.Encode(k); err != nil {
			return nil, fmt.Errorf("encode member name: %w", err)
		}
		buf.Truncate(buf.Len() - 1) // Encode appends a newline
		buf.WriteByte(':')
		if err := enc.Encode(doc[k]); err != nil {
			return nil, fmt.Errorf("encode member %q: %w", k, err)
		}
		buf.Truncate(buf.Len() - 1)
	}
	buf.WriteByte('}')
	return buf.Bytes(), nil
}

// MarshalIndent is Marshal followed by indentation with two spaces, for people to read.
func MarshalIndent(doc map[string]any) ([]byte, error) {
	raw, err := Marshal(doc)
	if err != nil {
		return nil, err
	}
	var out bytes.Buffer
	if err := json.Indent(&out, raw, "", "  "); err != nil {
		return nil, fmt.Errorf("indent: %w", err)
	}
	return out.Bytes(), nil
}
