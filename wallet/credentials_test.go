package wallet_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/civitas-net/civitas/credential"
	"github.com/civitas-net/civitas/credential/jose"
	"github.com/civitas-net/civitas/credential/sdjwt"
	"github.com/civitas-net/civitas/did"
	"github.com/civitas-net/civitas/internal/jsonstrict"
	"github.com/civitas-net/civitas/keys"
	"github.com/civitas-net/civitas/schemas"
	"github.com/civitas-net/civitas/wallet"
)

func TestDescribe(t *testing.T) {
	holder := newHolder(t, keys.Ed25519)
	ik := newIssuerKey(t)
	d, err := wallet.Describe([]byte(ik.vcJWT(t, holder.DID)))
	if err != nil || d.Format != wallet.FormatVCJWT || d.Issuer != ik.did || d.Subject != holder.DID {
		t.Fatalf("vc+jwt: Describe = %+v, %v", d, err)
	}
	d, err = wallet.Describe([]byte(ik.sdJWT(t, holder.Key.Public(), holder.DID)))
	ct, _ := schemas.Lookup(schemas.Membership)
	if err != nil || d.Format != wallet.FormatSDJWTVC || d.Issuer != ik.did || d.Subject != holder.DID || !strings.HasPrefix(d.ID, "urn:sd-jwt:") || strings.Join(d.Types, ",") != strings.Join(ct.Types, ",") {
		t.Fatalf("SD-JWT: Describe = %+v, %v", d, err)
	}
}

func TestDescribeRefuses(t *testing.T) {
	holder := newHolder(t, keys.Ed25519)
	ik := newIssuerKey(t)
	doc := `{"@context":["` + credential.ContextV2 + `"],"type":["VerifiableCredential"],"issuer":"` + ik.did + `","credentialSubject":{"id":"` + holder.DID + `"}`
	proof := `,"proof":{"type":"DataIntegrityProof"}}`
	sd := ik.sdJWT(t, holder.Key.Public(), holder.DID)
	for name, tc := range map[string]struct {
		raw  string
		want error
	}{
		"empty":                     {"", jose.ErrMalformed},
		"not a credential":          {"hello", jose.ErrMalformed},
		"a presentation token":      {presentation(t, holder), jose.ErrMalformed},
		"JSON not a credential":     {`{"a":1}`, credential.ErrMalformed},
		"JSON without a proof":      {doc + "}", credential.ErrMalformed},
		"JSON with duplicate key":   {strings.Replace(doc, `"issuer"`, `"issuer":"did:web:evil.example","issuer"`, 1) + proof, jsonstrict.ErrDuplicateKey},
		"JSON too large":            {strings.Replace(doc, `{`, `{"pad":"`+strings.Repeat("a", credential.MaxCredentialSize)+`",`, 1) + proof, jsonstrict.ErrTooLarge},
		"SD-JWT not a JWS":          {strings.Replace(sd, ".", "", 1), sdjwt.ErrMalformed},
		"SD-JWT foreign disclosure": {sd + strings.Split(ik.sdJWT(t, holder.Key.Public(), holder.DID), "~")[1] + "~", sdjwt.ErrDisclosure},
	} {
		if d, err := wallet.Describe([]byte(tc.raw)); !errors.Is(err, tc.want) {
			t.Errorf("%s: Describe = %+v, %v; want %v", name, d, err, tc.want)
		}
	}
}

func FuzzDescribe(f *testing.F) {
	f.Add([]byte("eyJhbGciOiJFZERTQSJ9.e30.c2ln"))
	f.Add([]byte(`{"@context":["https://www.w3.org/ns/credentials/v2"],"type":["VerifiableCredential"],"issuer":"did:example:i","credentialSubject":{"id":"did:example:s"},"proof":{}}`))
	f.Add([]byte("eyJhbGciOiJFZERTQSJ9.e30.c2ln~WyJzIiwibiIsInYiXQ~"))
	f.Add([]byte(`{"a":1,"a":2}`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		d, err := wallet.Describe(raw)
		if err == nil && d.Format != wallet.FormatVCJWT && d.Format != wallet.FormatLDPVC && d.Format != wallet.FormatSDJWTVC {
			t.Fatalf("Describe = %+v", d)
		}
	})
}

func TestPresentSDJWT(t *testing.T) {
	holder := newHolder(t, keys.Ed25519)
	ik := newIssuerKey(t)
	sd := ik.sdJWT(t, holder.Key.Public(), holder.DID)
	names, err := wallet.Disclosable([]byte(sd))
	if err != nil || strings.Join(names, ",") != "sub" {
		t.Fatalf("Disclosable = %v, %v; want [sub]", names, err)
	}
	req := wallet.Request{Challenge: "n-1", Audience: "did:web:door.example", Now: t0}
	for _, disclose := range [][]string{nil, {"sub"}} {
		vp, err := holder.PresentSDJWT([]byte(sd), disclose, req)
		if err != nil {
			t.Fatal(err)
		}
		v, err := sdjwt.Verify(context.Background(), string(vp), did.NewResolver(), sdjwt.Options{Now: t0, Nonce: req.Challenge, Audience: req.Audience, RequireKeyBinding: true})
		if err != nil || !v.KeyBound || strings.Join(v.Disclosed, ",") != strings.Join(disclose, ",") {
			t.Fatalf("disclosing %v: Verify = %+v, %v", disclose, v, err)
		}
	}
}

func TestPresentSDJWTRefuses(t *testing.T) {
	holder := newHolder(t, keys.Ed25519)
	stranger := newHolder(t, keys.Ed25519)
	ik := newIssuerKey(t)
	sd := ik.sdJWT(t, holder.Key.Public(), holder.DID)
	req := wallet.Request{Challenge: "n-1", Audience: "did:web:door.example", Now: t0}
	presented, err := holder.PresentSDJWT([]byte(sd), nil, req)
	if err != nil {
		t.Fatal(err)
	}
	for name, tc := range map[string]struct {
		raw      string
		disclose []string
		req      wallet.Request
		want     error // besides ErrPresent, when set
	}{
		"no challenge":           {sd, nil, wallet.Request{Audience: req.Audience}, nil},
		"no audience":            {sd, nil, wallet.Request{Challenge: req.Challenge}, nil},
		"not an SD-JWT":          {"hello", nil, req, sdjwt.ErrMalformed},
		"unknown claim":          {sd, []string{"email"}, req, sdjwt.ErrDisclosure},
		"bound to another key":   {ik.sdJWT(t, stranger.Key.Public(), holder.DID), nil, req, nil},
		"already a presentation": {string(presented), nil, req, nil},
	} {
		if _, err := holder.PresentSDJWT([]byte(tc.raw), tc.disclose, tc.req); !errors.Is(err, wallet.ErrPresent) || (tc.want != nil && !errors.Is(err, tc.want)) {
			t.Errorf("%s: PresentSDJWT = %v, want ErrPresent %v", name, err, tc.want)
		}
	}
	if _, err := wallet.Disclosable([]byte("hello")); !errors.Is(err, sdjwt.ErrMalformed) {
		t.Errorf("Disclosable(hello) = %v, want sdjwt.ErrMalformed", err)
	}
}
