package sdjwt

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/civitas-net/civitas/did"
	"github.com/civitas-net/civitas/keys"
	"github.com/civitas-net/civitas/schemas"
)

func TestRoundTrip(t *testing.T) {
	for _, issAlg := range []keys.Algorithm{keys.Ed25519, keys.P256} {
		for _, holderAlg := range []keys.Algorithm{keys.Ed25519, keys.P256} {
			t.Run(fmt.Sprintf("issuer %s holder %s", issAlg, holderAlg), func(t *testing.T) {
				iss, holder := newParty(t, issAlg), newParty(t, holderAlg)
				c := membership(t, iss, holder)
				issued := mustIssue(t, c, iss)

				// The wallet's view: every disclosure, nothing verified yet.
				sd := mustParse(t, issued)
				var names []string
				for _, d := range sd.Disclosures() {
					names = append(names, d.Name)
					if !reflect.DeepEqual(d.Value, jsonValue(t, c.Disclosable[d.Name])) {
						t.Errorf("disclosure %s = %v, want %v", d.Name, d.Value, c.Disclosable[d.Name])
					}
				}
				if want := []string{"memberSince", "membershipLevel", "role", "sub"}; !slices.Equal(names, want) {
					t.Fatalf("disclosures %v, want %v", names, want)
				}
				wantAlg, _ := keys.JWSAlgorithm(iss.key.Public())
				if sd.Issuer != iss.did || sd.KeyID != iss.kid || sd.Algorithm != wantAlg || sd.VCT != c.VCT || sd.HasKeyBinding {
					t.Fatalf("parsed %+v", sd)
				}

				// The wallet checks what it received (no key binding yet).
				wo := verifyOptions()
				wo.RequireKeyBinding, wo.Nonce, wo.Audience = false, "", ""
				v, err := Verify(context.Background(), issued, resolver(), wo)
				if err != nil {
					t.Fatal(err)
				}
				if v.KeyBound || len(v.Disclosed) != 4 || v.Claims["sub"] != holder.did {
					t.Fatalf("issued form verified as %+v", v)
				}

				// The holder presents role only, bound to the verifier's nonce.
				presented := mustPresent(t, issued, []string{"role"}, holder)
				v, err = Verify(context.Background(), presented, resolver(), verifyOptions())
				if err != nil {
					t.Fatal(err)
				}
				if v.Issuer != iss.did || v.KeyID != iss.kid || v.VCT != c.VCT || !v.KeyBound ||
					!v.IssuedAt.Equal(t0) || !v.NotBefore.Equal(t0) || !v.Expires.Equal(c.Expires) ||
					!v.KeyBindingIssuedAt.Equal(presentAt) || !slices.Equal(v.Disclosed, []string{"role"}) {
					t.Fatalf("verified %+v", v)
				}
				if eq, ok := v.Holder.Key.(interface{ Equal(crypto.PublicKey) bool }); !ok || !eq.Equal(holder.key.Public()) {
					t.Fatal("holder key differs from the cnf key")
				}
				if !reflect.DeepEqual(v.Holder.JWK, jsonValue(t, holder.jwk)) {
					t.Fatalf("holder jwk %v", v.Holder.JWK)
				}
				if len(v.Status) != 1 || !reflect.DeepEqual(v.Status[0], jsonValue(t, c.Status[0])) {
					t.Fatalf("status %v", v.Status)
				}
				want := map[string]any{
					"iss": iss.did, "iat": t0.Unix(), "nbf": t0.Unix(), "exp": c.Expires.Unix(), "vct": c.VCT,
					"credentialStatus": c.Status,
					"type":             "Member", "community": c.Visible["community"],
					"role": "steward",
				}
				if !reflect.DeepEqual(v.Claims, jsonValue(t, want)) {
					t.Fatalf("claims\n got %v\nwant %v", v.Claims, want)
				}
			})
		}
	}
}

// TestSubsetHidesUndisclosed presents a subset and checks, by decoding every part of
// the presented string, that the withheld values are nowhere in it.
func TestSubsetHidesUndisclosed(t *testing.T) {
	iss, holder := newParty(t, keys.Ed25519), newParty(t, keys.P256)
	c := membership(t, iss, holder)
	// Values long enough never to turn up in base64 text or signatures by chance.
	c.Disclosable["role"] = "steward-of-the-solar-array"
	c.Disclosable["membershipLevel"] = "founding-member-tier"
	issued := mustIssue(t, c, iss)
	for _, tc := range []struct {
		show, hidden []string
	}{
		{[]string{"memberSince"}, []string{"role", "membershipLevel", "sub"}},
		{[]string{"sub", "role"}, []string{"membershipLevel", "memberSince"}},
		{nil, []string{"role", "membershipLevel", "memberSince", "sub"}},
		{[]string{"community", "type", "vct"}, []string{"role", "membershipLevel", "memberSince", "sub"}},
	} {
		t.Run(strings.Join(tc.show, ","), func(t *testing.T) {
			presented := mustPresent(t, issued, tc.show, holder)
			v, err := Verify(context.Background(), presented, resolver(), verifyOptions())
			if err != nil {
				t.Fatal(err)
			}
			var decoded strings.Builder
			for _, seg := range strings.FieldsFunc(presented, func(r rune) bool { return r == '~' || r == '.' }) {
				raw, err := b64.DecodeString(seg)
				if err != nil {
					t.Fatalf("segment %q: %v", seg, err)
				}
				decoded.Write(raw)
				decoded.WriteByte('\n')
			}
			for _, name := range tc.hidden {
				value := c.Disclosable[name].(string)
				if strings.Contains(decoded.String(), value) || strings.Contains(presented, value) {
					t.Errorf("withheld %s value %q appears in the presentation", name, value)
				}
				if strings.Contains(decoded.String(), `"`+name+`"`) {
					t.Errorf("withheld claim name %q appears in the presentation", name)
				}
				if _, ok := v.Claims[name]; ok {
					t.Errorf("withheld %s in the verified claims", name)
				}
			}
			wantNames := 0
			for _, n := range tc.show {
				if _, ok := c.Disclosable[n]; ok {
					wantNames++
					if v.Claims[n] != c.Disclosable[n] {
						t.Errorf("%s = %v", n, v.Claims[n])
					}
				}
			}
			// Claims are exactly the 8 clear claims (iss, iat, nbf, exp, vct,
			// credentialStatus, type, community) plus the disclosed ones.
			if len(v.Claims) != 8+wantNames || len(v.Disclosed) != wantNames {
				t.Errorf("claims %v disclosed %v", v.Claims, v.Disclosed)
			}
		})
	}
}

func TestIssueShape(t *testing.T) {
	iss, holder := newParty(t, keys.Ed25519), newParty(t, keys.Ed25519)
	c := membership(t, iss, holder)
	a, b := mustIssue(t, c, iss), mustIssue(t, c, iss)
	sdA := mustParse(t, a)
	p := sdA.issuerJWT.payload
	digests := p["_sd"].([]any)
	if n := len(digests) - 4; n < 1 || n > 4 {
		t.Fatalf("%d decoys, want 1 to 4", n)
	}
	if !slices.IsSortedFunc(digests, func(x, y any) int { return strings.Compare(x.(string), y.(string)) }) {
		t.Fatal("_sd is not sorted")
	}
	for _, d := range sdA.disclosures {
		var arr []any
		raw, _ := b64.DecodeString(d.encoded)
		if err := json.Unmarshal(raw, &arr); err != nil {
			t.Fatal(err)
		}
		salt, err := b64.DecodeString(arr[0].(string))
		if err != nil || len(salt) != 16 {
			t.Fatalf("salt %q is not 128 bits of base64url", arr[0])
		}
	}
	for _, k := range []string{"role", "membershipLevel", "memberSince", "sub"} {
		if _, clear := p[k]; clear {
			t.Errorf("disclosable %s is in clear", k)
		}
	}
	for _, k := range []string{"type", "community", "iss", "iat", "nbf", "exp", "vct", "cnf", "credentialStatus"} {
		if _, clear := p[k]; !clear {
			t.Errorf("%s is not in clear", k)
		}
	}
	hdr := strings.SplitN(a, ".", 2)[0]
	raw, _ := b64.DecodeString(hdr)
	if string(raw) != `{"alg":"EdDSA","typ":"dc+sd-jwt","kid":"`+iss.kid+`"}` {
		t.Fatalf("header %s", raw)
	}
	// Fresh salts: the same claims never give the same disclosures.
	for _, dA := range sdA.Disclosures() {
		for _, dB := range mustParse(t, b).Disclosures() {
			if dA.Encoded == dB.Encoded {
				t.Fatalf("disclosure %s repeated across issuances", dA.Name)
			}
		}
	}
}

// TestParsedCopies checks that changing what Parse and Verify hand out changes nothing
// a later Verify uses.
func TestParsedCopies(t *testing.T) {
	iss, holder := newParty(t, keys.Ed25519), newParty(t, keys.Ed25519)
	sd := mustParse(t, mustPresent(t, mustIssue(t, membership(t, iss, holder), iss), []string{"role"}, holder))
	sd.Issuer, sd.KeyID, sd.VCT = "did:key:evil", "did:key:evil#evil", "x"
	sd.IssuedAt, sd.Expires = t0.Add(1000*time.Hour), t0.Add(-time.Hour)
	sd.Holder.JWK["x"] = "AAAA"
	clear(sd.Holder.Key.(ed25519.PublicKey))
	sd.Claims()["community"].(map[string]any)["name"] = "Evil Commons"
	sd.Disclosures()[0].Value = "admin"
	for range 2 {
		v, err := sd.Verify(context.Background(), resolver(), verifyOptions())
		if err != nil {
			t.Fatal(err)
		}
		if v.Issuer != iss.did || v.KeyID != iss.kid || !v.Expires.After(t0) ||
			v.Claims["community"].(map[string]any)["name"] != "Harbour Commons" || v.Claims["role"] != "steward" {
			t.Fatalf("verified %+v", v)
		}
		v.Claims["community"].(map[string]any)["name"] = "Evil Commons"
		v.Status[0]["statusListIndex"] = "1"
		clear(v.Holder.Key.(ed25519.PublicKey))
	}
}

func TestPresentRejects(t *testing.T) {
	iss, holder, other := newParty(t, keys.Ed25519), newParty(t, keys.P256), newParty(t, keys.P256)
	issued := mustParse(t, mustIssue(t, membership(t, iss, holder), iss))
	presented := mustParse(t, mustPresent(t, issued.String(), []string{"role"}, holder))
	for _, tc := range []struct {
		name  string
		sd    *SDJWT
		names []string
		kb    func(*KeyBinding)
		want  []error
	}{
		{"unknown claim", issued, []string{"role", "shoeSize"}, nil, []error{ErrDisclosure}},
		{"cnf is no claim", issued, []string{"cnf"}, nil, []error{ErrDisclosure}},
		{"_sd is no claim", issued, []string{"_sd"}, nil, []error{ErrDisclosure}},
		{"another holder's key", issued, nil, func(kb *KeyBinding) { kb.Signer = other.key }, []error{ErrKeyBinding, ErrSignature}},
		{"no signer", issued, nil, func(kb *KeyBinding) { kb.Signer = nil }, []error{ErrKeyBinding}},
		{"no nonce", issued, nil, func(kb *KeyBinding) { kb.Nonce = "" }, []error{ErrKeyBinding, ErrNonce}},
		{"no audience", issued, nil, func(kb *KeyBinding) { kb.Audience = "" }, []error{ErrKeyBinding}},
		{"already presented", presented, []string{"role"}, nil, []error{ErrKeyBinding}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			kb := keyBinding(holder)
			if tc.kb != nil {
				tc.kb(&kb)
			}
			_, err := tc.sd.Present(tc.names, kb)
			for _, want := range tc.want {
				if !errors.Is(err, want) {
					t.Errorf("Present = %v, want %v", err, want)
				}
			}
		})
	}
}

func TestIssueRejects(t *testing.T) {
	iss, holder, other := newParty(t, keys.Ed25519), newParty(t, keys.P256), newParty(t, keys.Ed25519)
	p384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	privJWK, err := keys.MarshalPrivateJWK(holder.key)
	if err != nil {
		t.Fatal(err)
	}
	var privMap map[string]any
	if err := json.Unmarshal(privJWK, &privMap); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name     string
		mutate   func(*Claims)
		signer   crypto.Signer
		noSigner bool
		kid      string
		want     error
	}{
		{name: "control", mutate: func(*Claims) {}},
		{name: "kid of another did", kid: other.kid, want: ErrKeyID},
		{name: "kid without fragment", kid: iss.did, want: ErrKeyID},
		{name: "kid with a path", kid: iss.did + "/keys#1", want: ErrKeyID},
		{name: "issuer not a did", mutate: func(c *Claims) { c.Issuer = "https://issuer.example" }, kid: "https://issuer.example#k", want: ErrKeyID},
		{name: "no signer", noSigner: true, want: ErrAlgorithm},
		{name: "p-384 signer", signer: p384, want: ErrAlgorithm},
		{name: "unknown vct", mutate: func(c *Claims) { c.VCT = "https://civitas.network/vct/Nope" }, want: schemas.ErrUnknownType},
		{name: "no iat", mutate: func(c *Claims) { c.IssuedAt = time.Time{} }, want: ErrMalformed},
		{name: "exp before iat", mutate: func(c *Claims) { c.Expires = t0.Add(-time.Second) }, want: ErrMalformed},
		{name: "no holder jwk", mutate: func(c *Claims) { c.HolderJWK = nil }, want: ErrMalformed},
		{name: "private holder jwk", mutate: func(c *Claims) { c.HolderJWK = privMap }, want: ErrMalformed},
		{name: "status without type", mutate: func(c *Claims) { c.Status = []map[string]any{{"id": "x"}} }, want: ErrMalformed},
		{name: "visible claim not always disclosed", mutate: func(c *Claims) { c.Visible["role"] = "x"; delete(c.Disclosable, "role") }, want: ErrDisclosure},
		{name: "visible sub", mutate: func(c *Claims) { c.Visible["sub"] = holder.did; delete(c.Disclosable, "sub") }, want: ErrDisclosure},
		{name: "always disclosed claim made disclosable", mutate: func(c *Claims) { c.Disclosable["community"] = c.Visible["community"]; delete(c.Visible, "community") }, want: ErrDisclosure},
		{name: "reserved disclosable iss", mutate: func(c *Claims) { c.Disclosable["iss"] = "x" }, want: ErrDisclosure},
		{name: "reserved disclosable _sd", mutate: func(c *Claims) { c.Disclosable["_sd"] = []any{} }, want: ErrDisclosure},
		{name: "reserved disclosable ...", mutate: func(c *Claims) { c.Disclosable["..."] = "x" }, want: ErrDisclosure},
		{name: "reserved disclosable status", mutate: func(c *Claims) { c.Disclosable["status"] = map[string]any{} }, want: ErrDisclosure},
		{name: "empty claim name", mutate: func(c *Claims) { c.Disclosable[""] = "x" }, want: ErrDisclosure},
		{name: "nested _sd", mutate: func(c *Claims) { c.Disclosable["role"] = map[string]any{"_sd": []any{}} }, want: ErrMalformed},
		{name: "nested ... in visible", mutate: func(c *Claims) { c.Visible["community"] = []any{map[string]any{"...": "x"}} }, want: ErrMalformed},
		{name: "cyclic value", mutate: func(c *Claims) {
			m := map[string]any{}
			m["self"] = m
			c.Disclosable["role"] = m
		}, want: ErrMalformed},
		{name: "value json cannot encode", mutate: func(c *Claims) { c.Disclosable["role"] = func() {} }, want: ErrMalformed},
		{name: "case-variant keys in a value", mutate: func(c *Claims) { c.Disclosable["role"] = map[string]any{"a": 1, "A": 2} }, want: ErrMalformed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := membership(t, iss, holder)
			if tc.mutate != nil {
				tc.mutate(&c)
			}
			signer, kid := iss.key, iss.kid
			if tc.noSigner || tc.signer != nil {
				signer = tc.signer
			}
			if tc.kid != "" {
				kid = tc.kid
			}
			s, err := Issue(c, signer, kid)
			if tc.want == nil {
				if err != nil {
					t.Fatal(err)
				}
				mustParse(t, s)
				return
			}
			if !errors.Is(err, tc.want) {
				t.Fatalf("Issue = %v, want %v", err, tc.want)
			}
		})
	}
}

// TestResolverUse checks that the issuer's kid is resolved as an assertionMethod and
// that resolver errors come back wrapped.
func TestResolverUse(t *testing.T) {
	iss, holder := newParty(t, keys.Ed25519), newParty(t, keys.Ed25519)
	presented := mustPresent(t, mustIssue(t, membership(t, iss, holder), iss), []string{"role"}, holder)
	r := &recordingResolver{inner: resolver()}
	if _, err := Verify(context.Background(), presented, r, verifyOptions()); err != nil {
		t.Fatal(err)
	}
	if r.url != iss.kid || r.rel != did.AssertionMethod {
		t.Fatalf("resolved %q as %q", r.url, r.rel)
	}
	r.err = did.ErrNotFound
	if _, err := Verify(context.Background(), presented, r, verifyOptions()); !errors.Is(err, did.ErrNotFound) {
		t.Fatalf("Verify = %v, want did.ErrNotFound", err)
	}
	// A did:key issuer whose document does not list the key under assertionMethod.
	r.err, r.rel = nil, ""
	if _, err := Verify(context.Background(), presented, assertionlessResolver{}, verifyOptions()); !errors.Is(err, did.ErrRelationship) {
		t.Fatalf("Verify = %v, want did.ErrRelationship", err)
	}
}

type recordingResolver struct {
	inner KeyResolver
	url   string
	rel   did.Relationship
	err   error
}

func (r *recordingResolver) ResolveVerificationMethod(ctx context.Context, u string, rel did.Relationship) (*did.VerificationMethod, crypto.PublicKey, error) {
	r.url, r.rel = u, rel
	if r.err != nil {
		return nil, nil, fmt.Errorf("resolve: %w", r.err)
	}
	return r.inner.ResolveVerificationMethod(ctx, u, rel)
}

// assertionlessResolver answers like a resolver whose document lists the key only for
// authentication.
type assertionlessResolver struct{}

func (assertionlessResolver) ResolveVerificationMethod(ctx context.Context, u string, rel did.Relationship) (*did.VerificationMethod, crypto.PublicKey, error) {
	if rel != did.Authentication {
		return nil, nil, fmt.Errorf("%w: %s", did.ErrRelationship, rel)
	}
	return resolver().ResolveVerificationMethod(ctx, u, rel)
}
