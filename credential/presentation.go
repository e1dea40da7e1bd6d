package credential

import (
	"fmt"
	"strings"
)

// Presentation is a verifiable presentation. Document holds the JSON document; the other
// fields are a read-only view of it, filled by PresentationFromDocument.
type Presentation struct {
	// Document is the presentation as decoded JSON.
	Document map[string]any

	// Context is the @context list; every entry is a URL.
	Context []string
	// ID is the presentation's id, or "".
	ID string
	// Types is the type list; it always contains TypePresentation.
	Types []string
	// Holder is the holder's identifier, or "" when absent.
	Holder string
	// Credentials holds each verifiableCredential entry: an embedded credential secured
	// with a Data Integrity proof, or an EnvelopedVerifiableCredential.
	Credentials []map[string]any
	// Proofs holds each embedded (Data Integrity) proof object.
	Proofs []map[string]any
}

// ParsePresentation decodes data strictly and checks it as a presentation.
func ParsePresentation(data []byte) (*Presentation, error) {
	doc, err := decodeDocument(data, MaxPresentationSize)
	if err != nil {
		return nil, err
	}
	return PresentationFromDocument(doc)
}

// PresentationFromDocument checks doc against the data model's rules for a presentation.
// It does not check the credentials inside; see EnvelopedCredential and FromDocument.
func PresentationFromDocument(doc map[string]any) (*Presentation, error) {
	p := &Presentation{Document: doc}
	var err error
	if p.Context, err = contexts(doc); err != nil {
		return nil, err
	}
	if p.ID, err = optionalURL(doc, "id"); err != nil {
		return nil, err
	}
	if p.Types, err = types(doc, TypePresentation); err != nil {
		return nil, err
	}
	switch h := doc["holder"].(type) {
	case nil:
		if _, present := doc["holder"]; present {
			return nil, fmt.Errorf("%w: holder must be a URL", ErrMalformed)
		}
	case string:
		if !isURL(h) {
			return nil, fmt.Errorf("%w: holder must be a URL", ErrMalformed)
		}
		p.Holder = h
	case map[string]any:
		if p.Holder, err = requiredURL(h, "id", "holder.id"); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("%w: holder must be a URL or an object with an id", ErrMalformed)
	}
	if p.Credentials, err = objects(doc, "verifiableCredential", false); err != nil {
		return nil, err
	}
	if p.Proofs, err = objects(doc, "proof", false); err != nil {
		return nil, err
	}
	return p, nil
}

// EnvelopedCredential reports whether entry is an EnvelopedVerifiableCredential and, if
// so, returns the media type and the enveloped bytes from its data: URL id
// ("data:application/vc+jwt,eyJ…"). Only the plain (not base64) data URL form is
// accepted, which is the form VC-JOSE-COSE uses.
func EnvelopedCredential(entry map[string]any) (mediaType string, data []byte, ok bool, err error) {
	typ, err := stringList(entry["type"], "type")
	if err != nil {
		return "", nil, false, err
	}
	enveloped := false
	for _, t := range typ {
		if t == TypeEnvelopedCredential {
			enveloped = true
		}
	}
	if !enveloped {
		return "", nil, false, nil
	}
	id, _ := entry["id"].(string)
	mediaType, payload, err := ParseDataURL(id)
	if err != nil {
		return "", nil, true, err
	}
	return mediaType, []byte(payload), true, nil
}

// DataURL returns the data: URL that carries payload with the given media type, as used
// in the id of an EnvelopedVerifiableCredential.
func DataURL(mediaType, payload string) string {
	return "data:" + mediaType + "," + payload
}

// ParseDataURL splits a plain data: URL (RFC 2397) into media type and payload. Base64
// data URLs and media-type parameters are refused.
func ParseDataURL(s string) (mediaType, payload string, err error) {
	rest, ok := strings.CutPrefix(s, "data:")
	if !ok {
		return "", "", fmt.Errorf("%w: enveloped credential id must be a data: URL", ErrMalformed)
	}
	mediaType, payload, ok = strings.Cut(rest, ",")
	if !ok || mediaType == "" || payload == "" {
		return "", "", fmt.Errorf("%w: enveloped credential id must be data:<media type>,<payload>", ErrMalformed)
	}
	if strings.ContainsAny(mediaType, "; ") {
		return "", "", fmt.Errorf("%w: data: URL parameters are not supported", ErrMalformed)
	}
	return mediaType, payload, nil
}
