package interop_test

import (
	"context"
	"crypto"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"maps"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	josejwt "github.com/go-jose/go-jose/v3/jwt"
	"github.com/trustbloc/kms-go/doc/jose"
	"github.com/trustbloc/kms-go/doc/jose/jwk"
	"github.com/trustbloc/kms-go/doc/jose/jwk/jwksupport"
	vcjwt "github.com/trustbloc/vc-go/jwt"
	"github.com/trustbloc/vc-go/proof/creator"
	"github.com/trustbloc/vc-go/proof/jwtproofs/eddsa"
	"github.com/trustbloc/vc-go/sdjwt/common"
	sdholder "github.com/trustbloc/vc-go/sdjwt/holder"
	sdissuer "github.com/trustbloc/vc-go/sdjwt/issuer"
	sdverifier "github.com/trustbloc/vc-go/sdjwt/verifier"

	"github.com/civitas-net/civitas/credential/sdjwt"
	"github.com/civitas-net/civitas/did"
	"github.com/civitas-net/civitas/keys"
	"github.com/civitas-net/civitas/schemas"
)

// SD-JWT VC between the two. Civitas speaks the Civitas profile of SD-JWT VC (package
// credential/sdjwt: RFC 9901 with a Key Binding JWT, typ dc+sd-jwt, vct, cnf.jwk, flat
// top-level disclosures). vc-go's sdjwt packages implement generic SD-JWT from the IETF
// drafts (its "v5" is draft -05 and later: typ kb+jwt Key Binding JWTs); vc-go's
// verifiable.Credential SD-JWT support is VC Data Model shaped (the credential, or its
// "vc" claim, with _sd inside credentialSubject, typ vc+sd-jwt) and is not SD-JWT VC, so
// the rows use vc-go's generic sdjwt/issuer, sdjwt/holder and sdjwt/verifier, which can
// produce and read SD-JWT VC payloads. What meets and what does not:
//
//   - Civitas → vc-go: a Civitas presentation (issuer-signed JWT, the disclosures the
//     holder chose, Key Binding JWT) verifies in vc-go's sdjwt/verifier with vc-go's
//     did:key resolution for the issuer key (it requires the kid to be a key of iss),
//     the expected typ, nonce and audience; vc-go returns exactly the disclosed claims.
//     Tampered disclosures, signatures, or a wrong nonce fail there.
//   - vc-go → Civitas: an SD-JWT VC issued by vc-go's sdjwt/issuer (typ dc+sd-jwt, vct,
//     cnf.jwk, iss a did:key) verifies in Civitas, and a Civitas holder can present it
//     with its own Key Binding JWT, which Civitas verifies. Two things stand in the way
//     and are worked around in vc-go's own terms: vc-go serializes the issued SD-JWT
//     without the final '~' (the earlier drafts' "combined format for issuance"; RFC
//     9901 §4 ends an SD-JWT without Key Binding with '~', so Civitas reads the last
//     disclosure as a Key Binding JWT and refuses it; vc-go's sdjwt/holder writes the RFC
//     form, which the rows use). vc-go's WithIssuedAt and WithExpiry options write
//     NumericDates in exponent form, which Civitas reads (TestNumericDateForms).
//   - vc-go's Key Binding JWT does not meet Civitas: vc-go never writes nor checks
//     sd_hash, which RFC 9901 §4.3 requires in a Key Binding JWT and §7.3 requires the
//     verifier to check against the presentation. Civitas refuses vc-go's presentations
//     for it, and vc-go accepts a Key Binding JWT moved onto another presentation of the
//     same credential (TestVCGoIgnoresSDHash). Civitas is right.
func TestSDJWTCivitasToVCGo(t *testing.T) {
	for _, typ := range civitasTypes {
		for _, alg := range []keys.Algorithm{keys.Ed25519, keys.P256} {
			t.Run(typ+"/"+string(alg), func(t *testing.T) {
				w := sharedWorld(t)
				h := newSDHolder(t)
				iss := w.civitasSDKey(alg)
				issued := w.civitasSDJWT(t, typ, iss, h)
				ct, _ := schemas.Lookup(typ)
				shown := disclosableNames(t, issued)[:1]
				pres := h.present(t, issued, shown, "nonce-1", "https://verifier.example")

				claims, err := w.vcgoSDVerify(pres, "nonce-1", "https://verifier.example")
				if err != nil {
					t.Fatalf("vc-go refuses a Civitas SD-JWT VC presentation: %v", err)
				}
				if claims["iss"] != iss.did || claims["vct"] != ct.VCT {
					t.Errorf("vc-go read iss %v, vct %v", claims["iss"], claims["vct"])
				}
				for _, name := range ct.AlwaysDisclosed {
					if _, ok := claims[name]; !ok {
						t.Errorf("vc-go lacks the always-disclosed claim %s", name)
					}
				}
				for _, name := range disclosableNames(t, issued) {
					_, got := claims[name]
					if want := slices.Contains(shown, name); got != want {
						t.Errorf("vc-go claim %s present=%v, want %v", name, got, want)
					}
				}

				for _, bad := range []struct{ name, pres, nonce string }{
					{"disclosure changed", tamperDisclosure(t, pres), "nonce-1"},
					{"issuer signature", tamperPart(pres, 0), "nonce-1"},
					{"key binding signature", tamperPart(pres, -1), "nonce-1"},
					{"wrong nonce", pres, "nonce-2"},
				} {
					if _, err := w.vcgoSDVerify(bad.pres, bad.nonce, "https://verifier.example"); err == nil {
						t.Errorf("%s: vc-go accepts it", bad.name)
					}
				}
			})
		}
	}
}

// TestSDJWTVCGoToCivitas issues SD-JWT VCs of the Civitas types with vc-go's
// sdjwt/issuer in the Civitas profile (see TestSDJWTCivitasToVCGo) and verifies them in
// Civitas: as issued (what a wallet checks on receipt), and presented by a Civitas holder
// with a Key Binding JWT. A changed disclosure or issuer signature fails.
func TestSDJWTVCGoToCivitas(t *testing.T) {
	for _, typ := range civitasTypes {
		for _, f := range []string{"EdDSA", "ES256"} {
			t.Run(typ+"/"+f, func(t *testing.T) {
				w := sharedWorld(t)
				h := newSDHolder(t)
				k := w.vgEd
				if f == "ES256" {
					k = w.vgP256
				}
				issued := w.vcgoSDJWT(t, typ, k, h)
				ct, _ := schemas.Lookup(typ)
				opts := sdjwt.Options{Now: w.now, Leeway: time.Minute}
				// vc-go's issuance form has no final '~' (see the comment on
				// TestSDJWTCivitasToVCGo); its holder package writes the RFC 9901 form.
				if _, err := sdjwt.Verify(context.Background(), issued, did.NewResolver(), opts); !errors.Is(err, sdjwt.ErrMalformed) {
					t.Errorf("Civitas on vc-go's issuance form: %v, want ErrMalformed (known difference)", err)
				}
				issued, err := sdholder.CreatePresentation(issued, vcgoDisclosures(issued))
				must(t, err)
				v, err := sdjwt.Verify(context.Background(), issued, did.NewResolver(), opts)
				if err != nil {
					t.Fatalf("Civitas refuses a vc-go SD-JWT VC: %v", err)
				}
				if v.Issuer != k.did || v.VCT != ct.VCT || v.Claims["sub"] != w.holderDID {
					t.Errorf("Civitas read iss %s, vct %s, sub %v", v.Issuer, v.VCT, v.Claims["sub"])
				}

				pres := h.present(t, issued, []string{"sub"}, "nonce-1", "https://verifier.example")
				opts.Nonce, opts.Audience, opts.RequireKeyBinding = "nonce-1", "https://verifier.example", true
				v, err = sdjwt.Verify(context.Background(), pres, did.NewResolver(), opts)
				if err != nil {
					t.Fatalf("Civitas refuses its holder's presentation of a vc-go SD-JWT VC: %v", err)
				}
				if !v.KeyBound || !slices.Equal(v.Disclosed, []string{"sub"}) {
					t.Errorf("key bound %v, disclosed %v", v.KeyBound, v.Disclosed)
				}
				for name, bad := range map[string]string{
					"disclosure changed": tamperDisclosure(t, pres),
					"issuer signature":   tamperPart(pres, 0),
				} {
					if _, err := sdjwt.Verify(context.Background(), bad, did.NewResolver(), opts); err == nil {
						t.Errorf("%s: Civitas accepts it", name)
					}
				}
			})
		}
	}
}

// TestVCGoIgnoresSDHash records the Key Binding difference (see TestSDJWTCivitasToVCGo):
// vc-go's holder writes no sd_hash, so Civitas refuses its presentations; and vc-go's
// verifier does not check sd_hash, so it accepts a Key Binding JWT taken from one
// presentation and attached to another (here: other disclosures of the same credential),
// which Civitas refuses. RFC 9901 §4.3 and §7.3 side with Civitas.
func TestVCGoIgnoresSDHash(t *testing.T) {
	w := sharedWorld(t)
	h := newSDHolder(t)
	const nonce, aud = "nonce-1", "https://verifier.example"

	// vc-go's own presentation, with vc-go's Key Binding JWT.
	issued := w.vcgoSDJWT(t, schemas.Membership, w.vgEd, h)
	kbSigner, err := vcjwt.NewJOSESigner(vcjwt.SignParameters{JWTAlg: "EdDSA"}, h.vcgoCreator())
	must(t, err)
	pres, err := vcgoPresent(issued, vcgoDisclosures(issued)[:1], nonce, aud, w.now, kbSigner)
	must(t, err)
	if _, err := w.vcgoSDVerify(pres, nonce, aud); err != nil {
		t.Fatalf("vc-go refuses its own presentation: %v", err)
	}
	kb := jwtPart(t, strings.Split(pres[strings.LastIndexByte(pres, '~')+1:], ".")[1])
	if _, ok := kb["sd_hash"]; ok {
		t.Fatal("vc-go now writes sd_hash: update this test and the notes")
	}
	_, err = sdjwt.Verify(context.Background(), pres, did.NewResolver(),
		sdjwt.Options{Now: w.now, Leeway: time.Minute, Nonce: nonce, Audience: aud, RequireKeyBinding: true})
	if !errors.Is(err, sdjwt.ErrMalformed) || !strings.Contains(err.Error(), "sd_hash") {
		t.Fatalf("Civitas on vc-go's Key Binding JWT without sd_hash: %v, want a malformed sd_hash refusal", err)
	}
	t.Logf("known difference: vc-go's Key Binding JWT has no sd_hash; Civitas: %v", err)

	// A Civitas presentation whose Key Binding JWT is moved to other disclosures.
	civ := w.civitasSDJWT(t, schemas.Membership, w.civitasSDKey(keys.Ed25519), h)
	names := disclosableNames(t, civ)
	a := h.present(t, civ, names[:1], nonce, aud)
	b := h.present(t, civ, names[1:2], nonce, aud)
	moved := b[:strings.LastIndexByte(b, '~')+1] + a[strings.LastIndexByte(a, '~')+1:]
	_, err = sdjwt.Verify(context.Background(), moved, did.NewResolver(),
		sdjwt.Options{Now: w.now, Leeway: time.Minute, Nonce: nonce, Audience: aud, RequireKeyBinding: true})
	if !errors.Is(err, sdjwt.ErrKeyBinding) {
		t.Errorf("Civitas on a moved Key Binding JWT: %v, want ErrKeyBinding", err)
	}
	if _, err := w.vcgoSDVerify(moved, nonce, aud); err != nil {
		t.Fatalf("vc-go now refuses a moved Key Binding JWT (%v): update this test and the notes", err)
	}
	t.Log("known difference: vc-go accepts a Key Binding JWT moved onto another presentation")
}

// sdHolder is a holder with an Ed25519 key, in the forms both libraries want.
type sdHolder struct {
	key  ed25519.PrivateKey
	jwk  map[string]any
	vjwk *jwk.JWK
}

func newSDHolder(t testing.TB) *sdHolder {
	t.Helper()
	key := ed25519Key(t).(ed25519.PrivateKey)
	m, err := keys.PublicJWK(key.Public())
	must(t, err)
	vj, err := jwksupport.JWKFromKey(key.Public())
	must(t, err)
	return &sdHolder{key: key, jwk: m, vjwk: vj}
}

func (h *sdHolder) vcgoCreator() *creator.ProofCreator {
	return vcgoCreatorFor(h.key)
}

// present makes a Civitas presentation of issued disclosing names.
func (h *sdHolder) present(t testing.TB, issued string, names []string, nonce, aud string) string {
	t.Helper()
	sd, err := sdjwt.Parse(issued)
	must(t, err)
	out, err := sd.Present(names, sdjwt.KeyBinding{Signer: h.key, Nonce: nonce, Audience: aud, IssuedAt: shared.now})
	must(t, err)
	return out
}

// sdKey is a Civitas issuer key for SD-JWT rows.
type sdKey struct {
	signer crypto.Signer
	did    string
	kid    string
}

func (w *world) civitasSDKey(alg keys.Algorithm) sdKey {
	k := w.civEdKey
	if alg == keys.P256 {
		k = w.civP256Key
	}
	d, _, _ := strings.Cut(k.kid, "#")
	return sdKey{signer: k.signer, did: d, kid: k.kid}
}

// splitSubject splits the example subject of typ as the Civitas profile does: the
// type's always-disclosed claims in clear, the rest and sub disclosable.
func (w *world) splitSubject(typ string) (visible, disclosable map[string]any) {
	ct, _ := schemas.Lookup(typ)
	visible, disclosable = map[string]any{}, map[string]any{"sub": w.holderDID}
	for k, v := range w.subject(typ) {
		switch {
		case k == "id":
		case slices.Contains(ct.AlwaysDisclosed, k):
			visible[k] = v
		default:
			disclosable[k] = v
		}
	}
	return visible, disclosable
}

// civitasSDJWT issues an SD-JWT VC of typ with Civitas, bound to h.
func (w *world) civitasSDJWT(t testing.TB, typ string, k sdKey, h *sdHolder) string {
	t.Helper()
	ct, _ := schemas.Lookup(typ)
	visible, disclosable := w.splitSubject(typ)
	out, err := sdjwt.Issue(sdjwt.Claims{
		Issuer: k.did, VCT: ct.VCT, IssuedAt: w.now.Add(-time.Hour), Expires: w.now.AddDate(1, 0, 0),
		HolderJWK: h.jwk, Visible: visible, Disclosable: disclosable,
	}, k.signer, k.kid)
	must(t, err)
	return out
}

// vcgoSDJWT issues an SD-JWT VC of typ with vc-go's sdjwt/issuer in the Civitas profile:
// typ dc+sd-jwt, kid the issuer's did:key URL, iss, iat, exp, vct and the always-disclosed
// claims in clear, cnf.jwk the holder's key, every other claim and sub a top-level
// disclosure.
func (w *world) vcgoSDJWT(t testing.TB, typ string, k vcgoKey, h *sdHolder) string {
	t.Helper()
	ct, _ := schemas.Lookup(typ)
	visible, disclosable := w.splitSubject(typ)
	claims := maps.Clone(disclosable)
	maps.Copy(claims, visible)
	claims["vct"] = ct.VCT
	// iat and exp go in as integer claims: vc-go's WithIssuedAt and WithExpiry options
	// write NumericDates in exponent form, which Civitas refuses (TestNumericDateForms).
	claims["iat"] = w.now.Add(-time.Hour).Unix()
	claims["exp"] = w.now.AddDate(1, 0, 0).Unix()
	clear := append([]string{"vct", "iat", "exp"}, slices.Sorted(maps.Keys(visible))...)
	signer, err := vcjwt.NewJOSESigner(vcjwt.SignParameters{KeyID: k.kid, JWTAlg: k.jwtAlg}, k.creator)
	must(t, err)
	tok, err := sdissuer.New(k.did, claims, jose.Headers{jose.HeaderType: "dc+sd-jwt"}, signer,
		sdissuer.WithSDJWTVersion(common.SDJWTVersionV5),
		sdissuer.WithHashAlgorithm(crypto.SHA256),
		sdissuer.WithHolderPublicKey(h.vjwk),
		sdissuer.WithNonSelectivelyDisclosableClaims(clear))
	must(t, err)
	out, err := tok.Serialize(false)
	must(t, err)
	return out
}

// vcgoSDVerify verifies an SD-JWT VC presentation with vc-go's sdjwt/verifier: issuer
// signature by a key of iss (did-go's key VDR through vc-go's proof checker), typ
// dc+sd-jwt, the disclosures, and a required Key Binding JWT with nonce and audience.
func (w *world) vcgoSDVerify(pres, nonce, aud string) (map[string]any, error) {
	algs := []string{"EdDSA", "ES256"}
	return sdverifier.Parse(pres,
		sdverifier.WithSignatureVerifier(w.checker),
		sdverifier.WithExpectedTypHeader("dc+sd-jwt"),
		sdverifier.WithIssuerSigningAlgorithms(algs),
		sdverifier.WithHolderSigningAlgorithms(algs),
		sdverifier.WithHolderVerificationRequired(true),
		sdverifier.WithExpectedNonceForHolderVerification(nonce),
		sdverifier.WithExpectedAudienceForHolderVerification(aud))
}

// disclosableNames returns the claim names of the disclosures of an issued SD-JWT.
func disclosableNames(t testing.TB, issued string) []string {
	t.Helper()
	sd, err := sdjwt.Parse(issued)
	must(t, err)
	var names []string
	for _, d := range sd.Disclosures() {
		names = append(names, d.Name)
	}
	slices.Sort(names)
	if len(names) < 2 {
		t.Fatalf("only %d disclosures", len(names))
	}
	return names
}

// tamperDisclosure changes the value inside the first disclosure of a presentation,
// keeping it well formed.
func tamperDisclosure(t testing.TB, pres string) string {
	t.Helper()
	parts := strings.Split(pres, "~")
	raw, err := base64URL(parts[1])
	must(t, err)
	var d []any
	must(t, json.Unmarshal(raw, &d))
	d[2] = "changed"
	b, err := json.Marshal(d)
	must(t, err)
	parts[1] = base64URLEncode(b)
	return strings.Join(parts, "~")
}

// tamperPart flips a signature character of the issuer-signed JWT (i = 0) or of the Key
// Binding JWT (i = -1, the last part).
func tamperPart(pres string, i int) string {
	parts := strings.Split(pres, "~")
	if i < 0 {
		i = len(parts) - 1
	}
	segs := strings.Split(parts[i], ".")
	segs[2] = flipSignature(segs[2])
	parts[i] = strings.Join(segs, ".")
	return strings.Join(parts, "~")
}

// vcgoCreatorFor returns a vc-go JWT proof creator signing EdDSA with key.
func vcgoCreatorFor(key ed25519.PrivateKey) *creator.ProofCreator {
	return creator.New(creator.WithJWTAlg(eddsa.New(), rawSigner{key}))
}

// vcgoPresent makes a presentation with vc-go's sdjwt/holder: the chosen disclosures
// and vc-go's Key Binding JWT (typ kb+jwt, nonce, aud, iat).
func vcgoPresent(issued string, disclosures []string, nonce, aud string, iat time.Time, signer jose.Signer) (string, error) {
	return sdholder.CreatePresentation(issued, disclosures, sdholder.WithHolderVerification(&sdholder.BindingInfo{
		Payload: sdholder.BindingPayload{Nonce: nonce, Audience: aud, IssuedAt: josejwt.NewNumericDate(iat)},
		Signer:  signer,
		Headers: jose.Headers{jose.HeaderType: "kb+jwt"},
	}))
}

// vcgoDisclosures returns the disclosures of a vc-go issuance form (<jwt>~<d>~…~<d>).
func vcgoDisclosures(issued string) []string {
	return strings.Split(issued, "~")[1:]
}

func base64URL(s string) ([]byte, error) { return base64.RawURLEncoding.DecodeString(s) }

func base64URLEncode(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// TestNumericDateForms: RFC 7519 §2 defines a NumericDate as a JSON numeric value
// (non-integer values allowed), and RFC 8259 §6 lets a JSON number have a fraction and
// an exponent: 1.795244546e+09 is the integer 1795244546. vc-go writes iat, nbf and exp
// that way whenever it sets them (go-jose formats float64 with %g). An earlier Civitas
// read NumericDates with strconv.ParseInt and refused these valid tokens; this test
// found the bug, and now checks that Civitas reads both forms (jose.NumericDate).
func TestNumericDateForms(t *testing.T) {
	w := sharedWorld(t)
	iat := w.now.Add(-time.Hour).Unix()
	for _, c := range []struct {
		name string
		iat  any
		ok   bool
	}{
		{"integer", iat, true},
		{"exponent form (vc-go's float64)", float64(iat), true},
	} {
		vc := w.vcgoCredential(schemas.Membership, w.vgEd)
		payload := vc.ToRawJSON()
		payload["iat"] = c.iat
		tok := w.vcgoJOSE(payload, w.vgEd)
		text := string(mustBase64URL(t, strings.Split(tok, ".")[1]))
		if integer := strings.Contains(text, `"iat":`+strconv.FormatInt(iat, 10)); integer != (c.name == "integer") {
			t.Fatalf("%s: payload %s: the iat is not in the form the case is about", c.name, text)
		}
		res, err := w.civitasVerify([]byte(tok), w.vgEd.did)
		switch {
		case c.ok && !res.Verified:
			t.Errorf("vc+jwt, %s iat: Civitas refuses it: %v", c.name, err)
		}
	}

	// The same in SD-JWT VC, issued with vc-go's own time options.
	h := newSDHolder(t)
	ct, _ := schemas.Lookup(schemas.Membership)
	signer, err := vcjwt.NewJOSESigner(vcjwt.SignParameters{KeyID: w.vgEd.kid, JWTAlg: w.vgEd.jwtAlg}, w.vgEd.creator)
	must(t, err)
	tok, err := sdissuer.New(w.vgEd.did, map[string]any{"vct": ct.VCT, "sub": w.holderDID},
		jose.Headers{jose.HeaderType: "dc+sd-jwt"}, signer,
		sdissuer.WithSDJWTVersion(common.SDJWTVersionV5),
		sdissuer.WithIssuedAt(josejwt.NewNumericDate(w.now.Add(-time.Hour))),
		sdissuer.WithHolderPublicKey(h.vjwk),
		sdissuer.WithNonSelectivelyDisclosableClaims([]string{"vct"}))
	must(t, err)
	issued, err := tok.Serialize(false)
	must(t, err)
	rfc, err := sdholder.CreatePresentation(issued, vcgoDisclosures(issued))
	must(t, err)
	// RFC 7519 §2 allows a NumericDate with a fraction or an exponent; Civitas reads it
	// (an earlier Civitas refused it, a bug this test found).
	if _, err = sdjwt.Verify(context.Background(), rfc, did.NewResolver(), sdjwt.Options{Now: w.now, Leeway: time.Minute}); err != nil {
		t.Errorf("SD-JWT VC with vc-go's iat: %v", err)
	}
}

func mustBase64URL(t testing.TB, s string) []byte {
	t.Helper()
	b, err := base64URL(s)
	must(t, err)
	return b
}
