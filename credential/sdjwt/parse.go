package sdjwt

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/civitas-net/civitas/did"
	"github.com/civitas-net/civitas/internal/jsonstrict"
	"github.com/civitas-net/civitas/keys"
)

// notDisclosable lists the claim names a disclosure must not carry: the names RFC 9901
// reserves, the claims SD-JWT VC forbids to disclose selectively, and the claims the
// Civitas profile keeps in clear.
var notDisclosable = map[string]bool{
	"_sd": true, "...": true, "_sd_alg": true,
	"iss": true, "iat": true, "nbf": true, "exp": true, "cnf": true,
	"vct": true, "vct#integrity": true, "status": true, "credentialStatus": true,
}

// Disclosure is one disclosed claim of an SD-JWT.
type Disclosure struct {
	// Name is the claim name.
	Name string
	// Value is the claim value, as decoded JSON (map[string]any, []any, string,
	// json.Number, bool or nil).
	Value any
	// Digest is base64url(SHA-256(Encoded)), the value listed in the issuer's _sd.
	Digest string
	// Encoded is the disclosure exactly as it appears in the SD-JWT.
	Encoded string
}

// disclosure is the internal, never shared form of a Disclosure.
type disclosure struct {
	encoded, digest, name string
	value                 any
}

// Holder is the key an SD-JWT is bound to (its cnf.jwk).
type Holder struct {
	// Key is the public key: ed25519.PublicKey or *ecdsa.PublicKey (P-256).
	Key crypto.PublicKey
	// JWK is the public JWK as the issuer wrote it in cnf.jwk.
	JWK map[string]any
}

// keyBindingClaims are the claims of a Key Binding JWT.
type keyBindingClaims struct {
	iat                time.Time
	aud, nonce, sdHash string
	jwt                *compactJWT
	// prefix is the presentation up to and including the '~' before the KB-JWT: the
	// bytes sd_hash covers.
	prefix string
}

// SDJWT is a parsed SD-JWT (issued or presented) whose structure and disclosures have
// been checked. Nothing about it is trusted until Verify returns: the exported fields
// are informative copies (for a wallet's display, or a verifier's trust decision before
// verification), and changing them does not change what Verify and Present use.
type SDJWT struct {
	// Issuer is the iss claim, a DID.
	Issuer string
	// KeyID is the kid header of the issuer-signed JWT.
	KeyID string
	// Algorithm is the alg header of the issuer-signed JWT.
	Algorithm string
	// VCT is the credential type (vct claim).
	VCT string
	// IssuedAt, NotBefore and Expires are the iat, nbf and exp claims (zero when absent).
	IssuedAt, NotBefore, Expires time.Time
	// Holder is the key the SD-JWT is bound to.
	Holder Holder
	// HasKeyBinding reports whether a Key Binding JWT is attached.
	HasKeyBinding bool
	// KeyBindingNonce is the Key Binding JWT's nonce claim ("" without one): what a
	// verifier looks up its challenge by before Verify checks it.
	KeyBindingNonce string

	raw         string
	issuerJWT   *compactJWT
	c           issuerClaims
	holderKey   crypto.PublicKey
	status      []map[string]any
	disclosures []disclosure
	kb          *keyBindingClaims
}

// issuerClaims are the registered claims of the issuer-signed JWT, kept apart from the
// exported copies in SDJWT.
type issuerClaims struct {
	iss, vct      string
	iat, nbf, exp time.Time
}

// Parse splits a compact SD-JWT (with or without a Key Binding JWT) and checks its
// structure: the issuer-signed JWT's header (typ dc+sd-jwt, alg EdDSA or ES256, a kid,
// no crit or b64) and claims (iss a DID, iat, vct, cnf.jwk, _sd_alg sha-256, _sd, no
// status claim, credentialStatus objects), every disclosure (strict JSON [salt, name,
// value], its digest listed exactly once in _sd, a name neither reserved nor present in
// clear), and the Key Binding JWT's header (typ kb+jwt) and claims (iat, aud, nonce,
// sd_hash). It verifies no signature and checks no time: see Verify.
func Parse(s string) (*SDJWT, error) {
	if len(s) > MaxLength {
		return nil, fmt.Errorf("%w: %w: %d bytes, limit %d", ErrMalformed, jsonstrict.ErrTooLarge, len(s), MaxLength)
	}
	first := strings.IndexByte(s, '~')
	if first < 0 {
		return nil, fmt.Errorf("%w: no '~' separator (a plain jwt is not an sd-jwt)", ErrMalformed)
	}
	last := strings.LastIndexByte(s, '~')
	var encoded []string
	if last > first {
		middle := s[first+1 : last]
		if n := strings.Count(middle, "~") + 1; n > MaxDisclosures {
			return nil, fmt.Errorf("%w: %w: %d disclosures, limit %d", ErrMalformed, jsonstrict.ErrTooLarge, n, MaxDisclosures)
		}
		encoded = strings.Split(middle, "~")
	}
	issuerJWT, err := parseJWT(s[:first], Typ, "issuer jwt")
	if err != nil {
		return nil, err
	}
	sd := &SDJWT{raw: s, issuerJWT: issuerJWT, KeyID: issuerJWT.kid, Algorithm: issuerJWT.alg}
	if issuerJWT.kid == "" {
		return nil, fmt.Errorf("%w: issuer jwt header has no kid", ErrMalformed)
	}
	digests, err := sd.readClaims(issuerJWT.payload)
	if err != nil {
		return nil, err
	}
	if err := sd.readDisclosures(encoded, digests); err != nil {
		return nil, err
	}
	sd.Issuer, sd.VCT = sd.c.iss, sd.c.vct
	sd.IssuedAt, sd.NotBefore, sd.Expires = sd.c.iat, sd.c.nbf, sd.c.exp
	sd.Holder = sd.holder()
	if kb := s[last+1:]; kb != "" {
		if sd.kb, err = parseKeyBinding(kb); err != nil {
			return nil, err
		}
		sd.kb.prefix = s[:last+1]
		sd.HasKeyBinding, sd.KeyBindingNonce = true, sd.kb.nonce
	}
	return sd, nil
}

// readClaims checks the issuer-signed claims and returns the _sd digests (each mapped
// to false: not yet used by a disclosure).
func (sd *SDJWT) readClaims(p map[string]any) (map[string]bool, error) {
	c := &sd.c
	var ok bool
	if c.iss, ok = p["iss"].(string); !ok {
		return nil, fmt.Errorf("%w: iss claim missing or not a string", ErrMalformed)
	}
	if _, err := did.Parse(c.iss); err != nil {
		return nil, fmt.Errorf("%w: iss claim is not a did: %w", ErrMalformed, err)
	}
	if c.vct, ok = p["vct"].(string); !ok || c.vct == "" {
		return nil, fmt.Errorf("%w: vct claim missing or not a string", ErrMalformed)
	}
	var err error
	if c.iat, err = numericDate(p, "iat", "issuer jwt"); err != nil {
		return nil, err
	}
	if c.iat.IsZero() {
		return nil, fmt.Errorf("%w: iat claim missing", ErrMalformed)
	}
	if c.nbf, err = numericDate(p, "nbf", "issuer jwt"); err != nil {
		return nil, err
	}
	if c.exp, err = numericDate(p, "exp", "issuer jwt"); err != nil {
		return nil, err
	}
	cnf, ok := p["cnf"].(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%w: cnf claim missing or not an object (civitas sd-jwts are holder-bound)", ErrMalformed)
	}
	jwk, ok := cnf["jwk"].(map[string]any)
	if !ok || len(cnf) != 1 {
		return nil, fmt.Errorf("%w: cnf must hold exactly a jwk object", ErrMalformed)
	}
	if sd.holderKey, err = keys.PublicKeyFromJWKMap(jwk); err != nil {
		return nil, fmt.Errorf("%w: cnf.jwk: %w", ErrMalformed, err)
	}
	switch alg := p["_sd_alg"].(type) {
	case nil:
		if _, present := p["_sd_alg"]; present {
			return nil, fmt.Errorf("%w: _sd_alg is null", ErrMalformed)
		}
	case string:
		if alg != HashAlgorithm {
			return nil, fmt.Errorf("%w: _sd_alg %q (only %s)", ErrAlgorithm, truncate(alg), HashAlgorithm)
		}
	default:
		return nil, fmt.Errorf("%w: _sd_alg is not a string", ErrMalformed)
	}
	if _, present := p["status"]; present {
		return nil, fmt.Errorf("%w: the token status list claim \"status\" is not supported (civitas uses credentialStatus)", ErrMalformed)
	}
	if sd.status, err = readStatus(p["credentialStatus"]); err != nil {
		return nil, err
	}
	digests := make(map[string]bool)
	if v, present := p["_sd"]; present {
		list, ok := v.([]any)
		if !ok {
			return nil, fmt.Errorf("%w: _sd is not an array", ErrMalformed)
		}
		if len(list) > MaxDigests {
			return nil, fmt.Errorf("%w: %w: %d digests in _sd, limit %d", ErrMalformed, jsonstrict.ErrTooLarge, len(list), MaxDigests)
		}
		for _, e := range list {
			d, ok := e.(string)
			if !ok || len(d) != digestLen {
				return nil, fmt.Errorf("%w: _sd holds something other than a sha-256 digest", ErrMalformed)
			}
			if _, err := decodeB64(d); err != nil {
				return nil, fmt.Errorf("%w: _sd digest: %w", ErrMalformed, err)
			}
			if _, dup := digests[d]; dup {
				return nil, fmt.Errorf("%w: _sd lists a digest twice", ErrMalformed)
			}
			digests[d] = false
		}
	}
	for k, v := range p {
		if k == "..." {
			return nil, fmt.Errorf("%w: claim named \"...\"", ErrMalformed)
		}
		if k != "_sd" {
			if err := checkValue(v, 0); err != nil {
				return nil, fmt.Errorf("claim %q: %w", truncate(k), err)
			}
		}
	}
	return digests, nil
}

// readStatus checks a credentialStatus value: absent, one object, or a non-empty array of
// objects, each with a string type.
func readStatus(v any) ([]map[string]any, error) {
	var items []any
	switch x := v.(type) {
	case nil:
		return nil, nil
	case map[string]any:
		items = []any{x}
	case []any:
		if len(x) == 0 {
			return nil, fmt.Errorf("%w: credentialStatus is an empty array", ErrMalformed)
		}
		items = x
	default:
		return nil, fmt.Errorf("%w: credentialStatus is not an object or an array", ErrMalformed)
	}
	out := make([]map[string]any, 0, len(items))
	for _, it := range items {
		m, ok := it.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("%w: credentialStatus entry is not an object", ErrMalformed)
		}
		if typ, _ := m["type"].(string); typ == "" {
			return nil, fmt.Errorf("%w: credentialStatus entry has no type", ErrMalformed)
		}
		out = append(out, m)
	}
	return out, nil
}

// readDisclosures decodes each disclosure and matches it against the _sd digests.
func (sd *SDJWT) readDisclosures(encoded []string, digests map[string]bool) error {
	inClear := sd.issuerJWT.payload
	sd.disclosures = make([]disclosure, 0, len(encoded))
	names := make(map[string]bool, len(encoded))
	for i, e := range encoded {
		d, err := decodeDisclosure(e)
		if err != nil {
			return fmt.Errorf("disclosure %d: %w", i+1, err)
		}
		used, listed := digests[d.digest]
		switch {
		case !listed:
			return fmt.Errorf("%w: disclosure %d is not referenced by the issuer's _sd", ErrDisclosure, i+1)
		case used:
			return fmt.Errorf("%w: disclosure %d is given twice", ErrDisclosure, i+1)
		}
		digests[d.digest] = true
		if _, present := inClear[d.name]; present {
			return fmt.Errorf("%w: disclosure %d names %q, a claim already present in clear", ErrDisclosure, i+1, truncate(d.name))
		}
		if names[d.name] {
			return fmt.Errorf("%w: two disclosures name %q", ErrDisclosure, truncate(d.name))
		}
		names[d.name] = true
		sd.disclosures = append(sd.disclosures, d)
	}
	return nil
}

// decodeDisclosure decodes one disclosure and computes its digest.
func decodeDisclosure(e string) (disclosure, error) {
	if e == "" {
		return disclosure{}, fmt.Errorf("%w: empty disclosure", ErrMalformed)
	}
	raw, err := decodeB64(e)
	if err != nil {
		return disclosure{}, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	var arr []any
	if err := jsonstrict.Unmarshal(raw, &arr, payloadLimits); err != nil {
		return disclosure{}, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	switch len(arr) {
	case 3:
	case 2:
		return disclosure{}, fmt.Errorf("%w: array element disclosures are not supported", ErrMalformed)
	default:
		return disclosure{}, fmt.Errorf("%w: a disclosure is a json array [salt, name, value]", ErrMalformed)
	}
	salt, ok := arr[0].(string)
	if !ok || salt == "" {
		return disclosure{}, fmt.Errorf("%w: disclosure salt is not a non-empty string", ErrMalformed)
	}
	name, ok := arr[1].(string)
	if !ok {
		return disclosure{}, fmt.Errorf("%w: disclosure claim name is not a string", ErrMalformed)
	}
	if notDisclosable[name] {
		return disclosure{}, fmt.Errorf("%w: claim %q must not be selectively disclosed", ErrDisclosure, name)
	}
	if err := checkValue(arr[2], 0); err != nil {
		return disclosure{}, err
	}
	return disclosure{encoded: e, digest: digestOf(e), name: name, value: arr[2]}, nil
}

// parseKeyBinding checks a Key Binding JWT's structure and reads its claims.
func parseKeyBinding(raw string) (*keyBindingClaims, error) {
	t, err := parseJWT(raw, TypKeyBinding, "key binding jwt")
	if err != nil {
		return nil, err
	}
	kb := &keyBindingClaims{jwt: t}
	if kb.iat, err = numericDate(t.payload, "iat", "key binding jwt"); err != nil {
		return nil, err
	}
	if kb.iat.IsZero() {
		return nil, fmt.Errorf("%w: key binding jwt has no iat", ErrMalformed)
	}
	for name, dst := range map[string]*string{"aud": &kb.aud, "nonce": &kb.nonce, "sd_hash": &kb.sdHash} {
		v, ok := t.payload[name].(string)
		if !ok || v == "" {
			return nil, fmt.Errorf("%w: key binding jwt %s missing or not a string", ErrMalformed, name)
		}
		*dst = v
	}
	return kb, nil
}

// String returns the compact SD-JWT exactly as it was parsed.
func (sd *SDJWT) String() string { return sd.raw }

// Disclosures returns the disclosures the SD-JWT carries, in their order (deep copies).
func (sd *SDJWT) Disclosures() []Disclosure {
	out := make([]Disclosure, len(sd.disclosures))
	for i, d := range sd.disclosures {
		out[i] = Disclosure{Name: d.name, Value: cloneJSON(d.value), Digest: d.digest, Encoded: d.encoded}
	}
	return out
}

// Claims returns the claims the SD-JWT shows: its clear claims and every disclosure it
// carries, without _sd, _sd_alg and cnf (a deep copy). Nothing is verified.
func (sd *SDJWT) Claims() map[string]any {
	return sd.claims()
}

func (sd *SDJWT) claims() map[string]any {
	out := make(map[string]any, len(sd.issuerJWT.payload)+len(sd.disclosures))
	for k, v := range sd.issuerJWT.payload {
		switch k {
		case "_sd", "_sd_alg", "cnf":
		default:
			out[k] = cloneJSON(v)
		}
	}
	for _, d := range sd.disclosures {
		out[d.name] = cloneJSON(d.value)
	}
	return out
}

// holder returns a copy of the holder's key and of cnf.jwk.
func (sd *SDJWT) holder() Holder {
	var key crypto.PublicKey
	switch k := sd.holderKey.(type) {
	case ed25519.PublicKey:
		key = slices.Clone(k)
	case *ecdsa.PublicKey:
		if b, err := k.Bytes(); err == nil {
			key, _ = ecdsa.ParseUncompressedPublicKey(k.Curve, b)
		}
	}
	return Holder{Key: key, JWK: cloneJSON(sd.issuerJWT.payload["cnf"].(map[string]any)["jwk"]).(map[string]any)}
}

// disclosedNames returns the names of the carried disclosures, sorted.
func (sd *SDJWT) disclosedNames() []string {
	names := make([]string, len(sd.disclosures))
	for i, d := range sd.disclosures {
		names[i] = d.name
	}
	slices.Sort(names)
	return names
}

// cloneStatus deep-copies the credentialStatus entries.
func (sd *SDJWT) cloneStatus() []map[string]any {
	if sd.status == nil {
		return nil
	}
	out := make([]map[string]any, len(sd.status))
	for i, m := range sd.status {
		out[i] = cloneJSON(m).(map[string]any)
	}
	return out
}
