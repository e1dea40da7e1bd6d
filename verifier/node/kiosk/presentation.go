package kiosk

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/civitas-net/civitas/internal/jsonstrict"
)

// Sentinel errors of ReadPresentation.
var (
	// ErrEmptyPresentation reports a request that carries no presentation.
	ErrEmptyPresentation = errors.New("no presentation in the request")
	// ErrMalformedRequest reports a body from which no presentation can be taken:
	// malformed JSON, a JSON body of the wrong shape, or text with control characters.
	ErrMalformedRequest = errors.New("malformed check-in request")
	// ErrUnsupportedMediaType reports a body in a media type the check-in does not read
	// (HTML forms, multipart, images…).
	ErrUnsupportedMediaType = errors.New("unsupported media type")
)

// ReadPresentation takes the presentation out of a check-in request body, without
// verifying it. The body is either the presentation itself — a compact vp+jwt, an
// SD-JWT, or a JSON presentation with a Data Integrity proof — or a JSON object
// {"presentation": …} whose value is such a string or such a JSON presentation, or a JSON
// string. Surrounding white space (a barcode scanner's line end) is dropped. A JSON
// presentation is returned as the bytes received, never re-encoded, so its proof is
// checked over what the member sent.
//
// It only refuses what cannot be a presentation at all; whether the result is a valid
// presentation is the door's decision.
func ReadPresentation(contentType string, body []byte) ([]byte, error) {
	isJSON, err := mediaType(contentType)
	if err != nil {
		return nil, err
	}
	in := trim(body)
	if len(in) == 0 {
		return nil, ErrEmptyPresentation
	}
	if !isJSON && in[0] != '{' && in[0] != '"' && in[0] != '[' {
		return text(in)
	}
	if err := jsonstrict.Check(in, jsonstrict.Limits{MaxBytes: len(in) + 1}); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformedRequest, err)
	}
	switch in[0] {
	case '"':
		var s string
		if err := json.Unmarshal(in, &s); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrMalformedRequest, err)
		}
		return text([]byte(s))
	case '{':
	default:
		return nil, fmt.Errorf("%w: a JSON body must be a presentation or {\"presentation\": …}", ErrMalformedRequest)
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(in, &fields); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformedRequest, err)
	}
	wrapped, ok := fields["presentation"]
	if !ok {
		// A JSON presentation (or something the door will refuse): as received.
		return in, nil
	}
	if len(fields) != 1 {
		return nil, fmt.Errorf("%w: {\"presentation\": …} takes no other member", ErrMalformedRequest)
	}
	wrapped = bytes.TrimSpace(wrapped)
	switch {
	case len(wrapped) > 0 && wrapped[0] == '"':
		var s string
		if err := json.Unmarshal(wrapped, &s); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrMalformedRequest, err)
		}
		return text([]byte(s))
	case len(wrapped) > 0 && wrapped[0] == '{':
		return wrapped, nil
	case string(wrapped) == "null":
		return nil, ErrEmptyPresentation
	default:
		return nil, fmt.Errorf("%w: \"presentation\" must be a string or a JSON presentation", ErrMalformedRequest)
	}
}

// mediaType checks the request's media type and says whether it is JSON. An absent
// type is read by content.
func mediaType(contentType string) (bool, error) {
	if strings.TrimSpace(contentType) == "" {
		return false, nil
	}
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		return false, fmt.Errorf("%w: %q", ErrUnsupportedMediaType, contentType)
	}
	if cs, ok := params["charset"]; ok && !strings.EqualFold(cs, "utf-8") && !strings.EqualFold(cs, "us-ascii") {
		return false, fmt.Errorf("%w: charset %q (only UTF-8)", ErrUnsupportedMediaType, cs)
	}
	switch {
	case mt == "application/json" || (strings.HasPrefix(mt, "application/") && strings.HasSuffix(mt, "+json")):
		return true, nil
	case mt == "text/plain" || mt == "application/octet-stream" ||
		(strings.HasPrefix(mt, "application/") && strings.HasSuffix(mt, "jwt")):
		return false, nil
	}
	return false, fmt.Errorf("%w: %s", ErrUnsupportedMediaType, mt)
}

// text checks a presentation given as text. A JSON presentation passed as a string is
// returned as it is; a token (vp+jwt, SD-JWT, data: URL) must be one word of printable
// characters.
func text(s []byte) ([]byte, error) {
	s = trim(s)
	if len(s) == 0 {
		return nil, ErrEmptyPresentation
	}
	if !utf8.Valid(s) {
		return nil, fmt.Errorf("%w: the presentation is not valid UTF-8", ErrMalformedRequest)
	}
	isDoc := s[0] == '{'
	for _, r := range string(s) {
		switch {
		case isDoc && (r == '\t' || r == '\n' || r == '\r'):
		case unicode.IsSpace(r):
			if !isDoc {
				return nil, fmt.Errorf("%w: the presentation has white space inside it (was it cut or wrapped?)", ErrMalformedRequest)
			}
		case unicode.IsControl(r) || r == utf8.RuneError || r == '\ufeff':
			return nil, fmt.Errorf("%w: the presentation has control characters", ErrMalformedRequest)
		}
	}
	return s, nil
}

// trim drops surrounding white space and a byte order mark.
func trim(b []byte) []byte {
	b = bytes.TrimSpace(b)
	b = bytes.TrimPrefix(b, []byte("\ufeff"))
	return bytes.TrimSpace(b)
}
