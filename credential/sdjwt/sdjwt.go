package sdjwt

import (
	"bytes"
	"crypto"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/civitas-net/civitas/credential/jose"
	"github.com/civitas-net/civitas/internal/clip"
	"github.com/civitas-net/civitas/internal/jsonstrict"
	"github.com/civitas-net/civitas/keys"
)

// Header typ values and the digest algorithm of the Civitas profile.
const (
	// Typ is the typ header of the issuer-signed JWT (SD-JWT VC).
	Typ = "dc+sd-jwt"
	// MediaType is the media type of an SD-JWT VC.
	MediaType = "application/dc+sd-jwt"
	// TypKeyBinding is the typ header of a Key Binding JWT.
	TypKeyBinding = "kb+jwt"
	// HashAlgorithm is the only accepted _sd_alg.
	HashAlgorithm = "sha-256"
)

// Limits on input, checked before anything is decoded.
const (
	// MaxLength is the largest accepted compact SD-JWT, in bytes.
	MaxLength = 1 << 20
	// MaxDisclosures is the largest accepted number of disclosures in one SD-JWT.
	MaxDisclosures = 256
	// MaxDigests is the largest accepted number of digests in _sd.
	MaxDigests = 1024
	// DefaultMaxKeyBindingAge is the age beyond which a Key Binding JWT is refused when
	// Options.MaxKeyBindingAge is zero.
	DefaultMaxKeyBindingAge = 5 * time.Minute
)

// Sentinel errors. Every error from this package wraps at least one of them, except
// errors from the KeyResolver (wrapped unchanged) and errors about the caller's own
// arguments (a nil resolver, negative durations). See the package documentation for how
// they map to verification codes.
var (
	// ErrMalformed reports input that is not a well-formed SD-JWT of the Civitas profile.
	ErrMalformed = errors.New("malformed sd-jwt")
	// ErrAlgorithm reports a signature or digest algorithm outside the allow-list or not
	// fitting the key.
	ErrAlgorithm = errors.New("sd-jwt algorithm not allowed")
	// ErrSignature reports a signature (or a Key Binding JWT's sd_hash) that does not
	// verify.
	ErrSignature = errors.New("sd-jwt signature invalid")
	// ErrKeyID reports a kid that is not a DID URL of the issuer.
	ErrKeyID = errors.New("sd-jwt kid does not belong to the issuer")
	// ErrDisclosure reports disclosures that do not match what the issuer signed: a
	// disclosure whose digest is not in _sd, one given twice, or one whose claim name is
	// reserved or already present. Present also uses it for an unknown claim name.
	ErrDisclosure = errors.New("sd-jwt disclosure invalid")
	// ErrKeyBinding reports a missing or invalid Key Binding JWT. It is always wrapped
	// together with a more specific sentinel.
	ErrKeyBinding = errors.New("sd-jwt key binding invalid")
	// ErrNonce reports a Key Binding JWT whose nonce is not the expected one, or a
	// missing Key Binding JWT (so no nonce was proven).
	ErrNonce = errors.New("key binding nonce mismatch")
	// ErrAudience reports a Key Binding JWT whose aud is not the expected one.
	ErrAudience = errors.New("key binding audience mismatch")
	// ErrExpired reports an SD-JWT past its exp, or a Key Binding JWT older than allowed.
	ErrExpired = errors.New("sd-jwt expired")
	// ErrNotYetValid reports an SD-JWT before its nbf, or an SD-JWT or Key Binding JWT
	// issued in the future.
	ErrNotYetValid = errors.New("sd-jwt not yet valid")
)

// KeyResolver finds the public key of a verification method and checks that it may be
// used for the relationship. It is jose.KeyResolver; *did.Resolver implements it.
type KeyResolver = jose.KeyResolver

// b64 is unpadded base64url that refuses non-zero trailing bits, so every byte string
// has exactly one accepted encoding.
var b64 = base64.RawURLEncoding.Strict()

// Limits for the JSON texts inside an SD-JWT.
var (
	headerLimits  = jsonstrict.Limits{MaxBytes: 8 << 10, MaxDepth: 8, MaxKeys: 64}
	payloadLimits = jsonstrict.Limits{MaxBytes: MaxLength, MaxDepth: 32, MaxKeys: 10000}
)

// digestLen is the length of a base64url SHA-256 digest.
var digestLen = b64.EncodedLen(sha256.Size)

// digestOf returns base64url(SHA-256(s)), the digest of a disclosure or the sd_hash of
// a presentation.
func digestOf(s string) string {
	sum := sha256.Sum256([]byte(s))
	return b64.EncodeToString(sum[:])
}

// compactJWT is a structurally checked compact JWS. Its signature is not verified.
type compactJWT struct {
	raw       string
	alg       string
	typ       string
	kid       string
	payload   map[string]any
	signature []byte
}

// parseJWT splits and decodes a compact JWS whose typ must be wantTyp (or its
// application/ media type form, case-insensitively). what names it in errors.
func parseJWT(raw, wantTyp, what string) (*compactJWT, error) {
	h, rest, ok1 := strings.Cut(raw, ".")
	p, sig, ok2 := strings.Cut(rest, ".")
	if !ok1 || !ok2 || strings.Contains(sig, ".") {
		return nil, fmt.Errorf("%w: %s is not a compact jws of three parts", ErrMalformed, what)
	}
	if h == "" || p == "" {
		return nil, fmt.Errorf("%w: %s has an empty part", ErrMalformed, what)
	}
	rawHeader, err := decodeB64(h)
	if err != nil {
		return nil, fmt.Errorf("%w: %s header: %w", ErrMalformed, what, err)
	}
	var header map[string]any
	if err := jsonstrict.Unmarshal(rawHeader, &header, headerLimits); err != nil {
		return nil, fmt.Errorf("%w: %s header: %w", ErrMalformed, what, err)
	}
	if header == nil {
		return nil, fmt.Errorf("%w: %s header is not a json object", ErrMalformed, what)
	}
	t := &compactJWT{raw: raw}
	if t.alg, ok1 = header["alg"].(string); !ok1 || t.alg == "" {
		return nil, fmt.Errorf("%w: %s header has no alg", ErrMalformed, what)
	}
	if t.alg != jose.AlgEdDSA && t.alg != jose.AlgES256 {
		return nil, fmt.Errorf("%w: %s alg %q (allowed: %s, %s)", ErrAlgorithm, what, truncate(t.alg), jose.AlgEdDSA, jose.AlgES256)
	}
	if t.typ, ok1 = header["typ"].(string); !ok1 {
		return nil, fmt.Errorf("%w: %s header has no typ", ErrMalformed, what)
	}
	if !strings.EqualFold(t.typ, wantTyp) && !strings.EqualFold(t.typ, "application/"+wantTyp) {
		return nil, fmt.Errorf("%w: %s typ is %q, want %q", ErrMalformed, what, truncate(t.typ), wantTyp)
	}
	if v, present := header["kid"]; present {
		if t.kid, ok1 = v.(string); !ok1 {
			return nil, fmt.Errorf("%w: %s kid is not a string", ErrMalformed, what)
		}
	}
	if _, present := header["crit"]; present {
		return nil, fmt.Errorf("%w: %s has critical header extensions", ErrMalformed, what)
	}
	if _, present := header["b64"]; present {
		return nil, fmt.Errorf("%w: %s has an unencoded payload (b64)", ErrMalformed, what)
	}
	if sig == "" {
		return nil, fmt.Errorf("%w: %s has no signature", ErrMalformed, what)
	}
	if t.signature, err = decodeB64(sig); err != nil {
		return nil, fmt.Errorf("%w: %s signature: %w", ErrMalformed, what, err)
	}
	rawPayload, err := decodeB64(p)
	if err != nil {
		return nil, fmt.Errorf("%w: %s payload: %w", ErrMalformed, what, err)
	}
	if err := jsonstrict.Unmarshal(rawPayload, &t.payload, payloadLimits); err != nil {
		return nil, fmt.Errorf("%w: %s payload: %w", ErrMalformed, what, err)
	}
	if t.payload == nil {
		return nil, fmt.Errorf("%w: %s payload is not a json object", ErrMalformed, what)
	}
	return t, nil
}

// decodeB64 decodes unpadded base64url, refusing any other character (standard
// base64, padding, white space).
func decodeB64(s string) ([]byte, error) {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return nil, errors.New("not unpadded base64url")
		}
	}
	return b64.DecodeString(s)
}

// header is the protected header this package writes, in a fixed member order.
type header struct {
	Alg string `json:"alg"`
	Typ string `json:"typ"`
	Kid string `json:"kid,omitempty"`
}

// signCompact returns the compact JWS of headerJSON and payloadJSON signed by key
// (keys.SignRaw: the JWS algorithm of key's type, which headerJSON must name).
func signCompact(headerJSON, payloadJSON []byte, key crypto.Signer) (string, error) {
	out := make([]byte, 0, b64.EncodedLen(len(headerJSON))+b64.EncodedLen(len(payloadJSON))+b64.EncodedLen(keys.RawSignatureSize)+2)
	out = b64.AppendEncode(out, headerJSON)
	out = append(out, '.')
	out = b64.AppendEncode(out, payloadJSON)
	sig, err := keys.SignRaw(key, out)
	if err != nil {
		return "", fmt.Errorf("sign jws: %w", err)
	}
	out = append(out, '.')
	return string(b64.AppendEncode(out, sig)), nil
}

// marshalJSON encodes v without HTML escaping and without a trailing newline.
func marshalJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte{'\n'}), nil
}

// numericDate reads the JWT NumericDate claim name (see jose.NumericDate). An absent
// claim gives the zero time.
func numericDate(m map[string]any, name, what string) (time.Time, error) {
	v, present := m[name]
	if !present {
		return time.Time{}, nil
	}
	t, err := jose.NumericDate(v)
	if err != nil {
		return time.Time{}, fmt.Errorf("%w: %s %s: %w", ErrMalformed, what, name, err)
	}
	return t, nil
}

// maxValueDepth bounds the nesting checkValue walks; it is above payloadLimits.MaxDepth,
// so only values built in Go (at issuance) can reach it.
const maxValueDepth = 64

// checkValue refuses a claim value that holds, at any depth, an object member named
// "_sd" or "..." (a recursive or array-element disclosure this package does not
// process), or that is nested deeper than maxValueDepth (or cyclic).
func checkValue(v any, depth int) error {
	if depth > maxValueDepth {
		return fmt.Errorf("%w: value nested deeper than %d", ErrMalformed, maxValueDepth)
	}
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if k == "_sd" || k == "..." {
				return fmt.Errorf("%w: value holds %q (recursive disclosure is not supported)", ErrMalformed, k)
			}
			if err := checkValue(e, depth+1); err != nil {
				return err
			}
		}
	case []any:
		for _, e := range x {
			if err := checkValue(e, depth+1); err != nil {
				return err
			}
		}
	}
	return nil
}

// cloneJSON deep-copies a decoded JSON value.
func cloneJSON(v any) any {
	switch x := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[k] = cloneJSON(e)
		}
		return m
	case []any:
		a := make([]any, len(x))
		for i, e := range x {
			a[i] = cloneJSON(e)
		}
		return a
	}
	return v
}

func truncate(s string) string { return clip.String(s, 80) }
