package jose

import (
	"bytes"
	"context"
	"crypto"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/lestrrat-go/jwx/v3/jwa"

	"github.com/civitas-net/civitas/did"
	"github.com/civitas-net/civitas/internal/clip"
	"github.com/civitas-net/civitas/internal/jsonstrict"
	"github.com/civitas-net/civitas/keys"
)

// Media types and the matching values of the typ header.
const (
	MediaTypeCredential   = "application/vc+jwt"
	MediaTypePresentation = "application/vp+jwt"
	TypCredential         = "vc+jwt"
	TypPresentation       = "vp+jwt"
)

// Algorithms accepted, by key type.
const (
	AlgEdDSA = "EdDSA"
	AlgES256 = "ES256"
)

// maxTokenSize bounds a compact JWS before it is decoded.
const maxTokenSize = 1 << 20

// Sentinel errors. Errors from this package wrap one of these, or an error from the
// key resolver.
var (
	// ErrMalformed reports a token that is not a well-formed compact JWS of the expected
	// type, or whose payload is not a valid document.
	ErrMalformed = errors.New("malformed jwt")
	// ErrAlgorithm reports an algorithm outside the allow-list or not matching the key.
	ErrAlgorithm = errors.New("jws algorithm not allowed")
	// ErrSignature reports a signature that does not verify.
	ErrSignature = errors.New("jws signature invalid")
	// ErrKeyID reports a kid that does not name a verification method of the document's
	// issuer (or holder).
	ErrKeyID = errors.New("jws kid does not belong to the signer")
)

// KeyResolver finds the public key of a verification method, checking that the method
// may be used for the relationship (assertionMethod for issuers, authentication for
// holders). *did.Resolver implements it.
type KeyResolver interface {
	ResolveVerificationMethod(ctx context.Context, didURL string, rel did.Relationship) (*did.VerificationMethod, crypto.PublicKey, error)
}

// Token is a parsed compact JWS whose header has passed the structural checks. Its
// signature has not been verified until Verify returns nil.
type Token struct {
	// Alg, Kid and Typ are the protected header members of those names.
	Alg, Kid, Typ string
	// Header is the whole protected header.
	Header map[string]any
	// Payload is the decoded payload, exactly the bytes that were signed.
	Payload []byte

	compact   []byte
	signature []byte
}

// Parse splits a compact JWS, decodes and checks its protected header (strict JSON;
// alg, kid and typ present; typ one of vc+jwt and vp+jwt, and equal to wantTyp unless
// wantTyp is empty; no crit or b64) and decodes its payload. Token.Typ is normalized to
// TypCredential or TypPresentation. Parse verifies nothing cryptographic.
func Parse(token []byte, wantTyp string) (*Token, error) {
	t, err := ParseJWS(token)
	if err != nil {
		return nil, err
	}
	switch strings.ToLower(t.Typ) {
	case TypCredential, MediaTypeCredential:
		t.Typ = TypCredential
	case TypPresentation, MediaTypePresentation:
		t.Typ = TypPresentation
	default:
		return nil, fmt.Errorf("%w: typ %q is neither %s nor %s", ErrMalformed, truncate(t.Typ), TypCredential, TypPresentation)
	}
	if wantTyp != "" && t.Typ != wantTyp {
		return nil, fmt.Errorf("%w: typ is %q, want %q", ErrMalformed, t.Typ, wantTyp)
	}
	return t, nil
}

// ParseJWS is Parse for a compact JWS of any typ (proofs of possession, key binding
// JWTs): the same structural checks, with typ required but not interpreted. Callers
// compare Token.Typ with what they expect.
func ParseJWS(token []byte) (*Token, error) {
	token = bytes.TrimSpace(token)
	if len(token) > maxTokenSize {
		return nil, fmt.Errorf("%w: token larger than %d bytes", ErrMalformed, maxTokenSize)
	}
	if len(token) > 0 && token[0] == '{' {
		return nil, fmt.Errorf("%w: the JWS JSON serialization is not accepted", ErrMalformed)
	}
	parts := bytes.Split(token, []byte{'.'})
	if len(parts) != 3 {
		return nil, fmt.Errorf("%w: a compact JWS has exactly three parts", ErrMalformed)
	}
	for i, p := range parts {
		if len(p) == 0 {
			return nil, fmt.Errorf("%w: part %d of the JWS is empty", ErrMalformed, i+1)
		}
		if !isBase64URL(p) {
			return nil, fmt.Errorf("%w: part %d of the JWS is not unpadded base64url", ErrMalformed, i+1)
		}
	}
	rawHeader, err := base64.RawURLEncoding.Strict().DecodeString(string(parts[0]))
	if err != nil {
		return nil, fmt.Errorf("%w: header: %w", ErrMalformed, err)
	}
	var header map[string]any
	if err := jsonstrict.Unmarshal(rawHeader, &header, jsonstrict.Limits{MaxBytes: 8 << 10, MaxDepth: 8}); err != nil {
		return nil, fmt.Errorf("%w: header: %w", ErrMalformed, err)
	}
	if header == nil {
		return nil, fmt.Errorf("%w: header is not a JSON object", ErrMalformed)
	}
	t := &Token{Header: header, compact: token}
	var ok bool
	if t.Alg, ok = header["alg"].(string); !ok || t.Alg == "" {
		return nil, fmt.Errorf("%w: header has no alg", ErrMalformed)
	}
	if t.Kid, ok = header["kid"].(string); !ok || t.Kid == "" {
		return nil, fmt.Errorf("%w: header has no kid", ErrMalformed)
	}
	if t.Typ, ok = header["typ"].(string); !ok || t.Typ == "" {
		return nil, fmt.Errorf("%w: header has no typ", ErrMalformed)
	}
	if _, ok := header["crit"]; ok {
		return nil, fmt.Errorf("%w: critical header extensions are not supported", ErrMalformed)
	}
	if _, ok := header["b64"]; ok {
		return nil, fmt.Errorf("%w: unencoded payloads are not supported", ErrMalformed)
	}
	if t.Payload, err = base64.RawURLEncoding.Strict().DecodeString(string(parts[1])); err != nil {
		return nil, fmt.Errorf("%w: payload: %w", ErrMalformed, err)
	}
	if t.signature, err = base64.RawURLEncoding.Strict().DecodeString(string(parts[2])); err != nil {
		return nil, fmt.Errorf("%w: signature: %w", ErrMalformed, err)
	}
	return t, nil
}

// Verify checks the token's signature with pub. The algorithm is the one allowed for
// pub's key type; a token whose alg header names anything else is refused before any
// cryptography runs.
func (t *Token) Verify(pub crypto.PublicKey) error {
	// The signing input is the received header and payload, as sent.
	return VerifySignature(t.Alg, t.compact[:bytes.LastIndexByte(t.compact, '.')], t.signature, pub)
}

// VerifySignature checks signature, the decoded third part of a compact JWS, over input,
// the JWS signing input exactly as received (header "." payload), with pub. alg is the
// token's alg header: it must be the one algorithm AlgorithmFor allows for pub, and any
// other is refused with ErrAlgorithm before any cryptography runs. Token.Verify is this
// for a token from Parse; package sdjwt calls it for the JWTs of an SD-JWT.
func VerifySignature(alg string, input, signature []byte, pub crypto.PublicKey) error {
	want, err := AlgorithmFor(pub)
	if err != nil {
		return err
	}
	if alg != want.String() {
		return fmt.Errorf("%w: header alg %q, key requires %s", ErrAlgorithm, truncate(alg), want)
	}
	if !keys.VerifyRaw(pub, input, signature) {
		return ErrSignature
	}
	return nil
}

// AlgorithmFor returns the only JWS algorithm Civitas accepts for pub: EdDSA for Ed25519
// keys, ES256 for P-256 keys.
func AlgorithmFor(pub crypto.PublicKey) (jwa.SignatureAlgorithm, error) {
	kt, err := keys.AlgorithmOf(pub)
	if err != nil {
		return jwa.SignatureAlgorithm{}, fmt.Errorf("%w: %w", ErrAlgorithm, err)
	}
	if kt == keys.Ed25519 {
		return jwa.EdDSA(), nil
	}
	return jwa.ES256(), nil
}

// SignJWS produces a compact JWS over payload with the given typ and kid, signed with
// the algorithm of key's type (EdDSA or ES256): the protected header {"alg","kid","typ"},
// the payload, and keys.SignRaw's signature of the two. Use it for JWTs other than
// credentials and presentations (proofs of possession, node bundles); SignCredential
// and SignPresentation sign through it.
func SignJWS(payload []byte, typ, kid string, key crypto.Signer) (string, error) {
	alg, err := AlgorithmFor(key.Public())
	if err != nil {
		return "", err
	}
	var header bytes.Buffer
	enc := json.NewEncoder(&header)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(map[string]string{"alg": alg.String(), "kid": kid, "typ": typ}); err != nil {
		return "", fmt.Errorf("jws header: %w", err)
	}
	b64 := base64.RawURLEncoding
	h := bytes.TrimSuffix(header.Bytes(), []byte("\n"))
	out := make([]byte, 0, b64.EncodedLen(len(h))+b64.EncodedLen(len(payload))+b64.EncodedLen(keys.RawSignatureSize)+2)
	out = b64.AppendEncode(out, h)
	out = append(out, '.')
	out = b64.AppendEncode(out, payload)
	sig, err := keys.SignRaw(key, out)
	if err != nil {
		return "", fmt.Errorf("sign jws: %w", err)
	}
	out = append(out, '.')
	return string(b64.AppendEncode(out, sig)), nil
}

// splitKeyID returns the DID part of a kid DID URL, refusing a kid without a fragment.
func splitKeyID(kid string) (string, error) {
	d, frag, ok := strings.Cut(kid, "#")
	if !ok || frag == "" || !strings.HasPrefix(d, "did:") {
		return "", fmt.Errorf("%w: kid %q is not a DID URL with a fragment", ErrKeyID, truncate(kid))
	}
	return d, nil
}

func isBase64URL(p []byte) bool {
	for _, c := range p {
		switch {
		case c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '-', c == '_':
		default:
			return false
		}
	}
	return true
}

func truncate(s string) string { return clip.String(s, 80) }
