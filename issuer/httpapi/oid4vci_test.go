package httpapi_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/civitas-net/civitas/credential/jose"
	"github.com/civitas-net/civitas/did"
	"github.com/civitas-net/civitas/keys"
	"github.com/civitas-net/civitas/schemas"
	"github.com/civitas-net/civitas/verifier"
	"github.com/civitas-net/civitas/verifier/statushttp"
	"github.com/civitas-net/civitas/wallet"
)

// doorVerifier is a verifier as an app or a door would run it: the library, resolving the
// issuer's did:web and fetching its status lists over HTTP (plain HTTP on loopback, the
// test server's, allowed by the test-only options).
func (e *env) doorVerifier(t *testing.T) *verifier.Verifier {
	t.Helper()
	resolver := did.NewResolver(did.WithWebResolver(did.NewWebResolver(did.WithTestInsecureHTTP())))
	lists, err := verifier.New(verifier.WithResolver(resolver), verifier.WithClock(e.clock.now))
	if err != nil {
		t.Fatal(err)
	}
	checker := statushttp.New(lists, statushttp.WithTestInsecureHTTP(), statushttp.WithClock(e.clock.now), statushttp.WithMaxAge(time.Nanosecond))
	v, err := verifier.New(verifier.WithResolver(resolver), verifier.WithClock(e.clock.now), verifier.WithStatusChecker(checker))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// offer makes an offer for holder and returns the API's answer.
func (e *env) offer(t *testing.T, holder *wallet.Holder, format string, txCode bool) map[string]any {
	t.Helper()
	r := e.must(201, e.do("POST", "/admin/offers", e.admin, map[string]any{
		"type": schemas.Membership, "subject": subject(t, schemas.Membership, holder.DID), "format": format, "txCode": txCode,
	}))
	return r.body
}

// TestOpenID4VCIJourney: an admin registers a member and makes an offer; the member's
// wallet receives the credential in each format, presents it bound to a challenge, and
// the verifier library accepts it; revoking it makes the next presentation fail.
func TestOpenID4VCIJourney(t *testing.T) {
	e := newEnv(t)
	key, _ := keys.Generate(keys.Ed25519)
	holder, _ := wallet.NewKeyHolder(key)
	e.must(201, e.do("POST", "/admin/members", e.admin, map[string]any{"id": holder.DID, "name": "Ada"}))
	v := e.doorVerifier(t)
	policy := verifier.DefaultPolicy(e.svc.DID())
	policy.Audience = "did:web:alfama-house.example"

	for _, format := range []string{"jwt_vc_json", "ldp_vc", "dc+sd-jwt"} {
		t.Run(format, func(t *testing.T) {
			o := e.offer(t, holder, format, false)
			uri := o["offerUri"].(string)
			if !strings.HasPrefix(uri, "openid-credential-offer://?credential_offer=") {
				t.Fatalf("offer URI %s", uri)
			}
			qr := e.must(200, e.do("GET", "/admin/offers/"+o["id"].(string)+"/qr.png", e.admin, nil))
			if qr.header.Get("Content-Type") != "image/png" || len(qr.raw) < 100 {
				t.Fatal("no QR code")
			}
			got, err := holder.Receive(context.Background(), uri, wallet.ReceiveOptions{Now: e.clock.now})
			if err != nil {
				t.Fatal(err)
			}
			if got.Format != format {
				t.Fatalf("received %s", got.Format)
			}
			d, err := wallet.Describe(got.Raw)
			if err != nil {
				t.Fatal(err)
			}
			if d.Issuer != e.svc.DID() {
				t.Fatalf("description %+v", d)
			}
			policy.Challenge = "challenge-" + format
			var vp []byte
			if format == "dc+sd-jwt" {
				vp, err = holder.PresentSDJWT(got.Raw, []string{"role"}, wallet.Request{Challenge: policy.Challenge, Audience: policy.Audience, Now: e.clock.now()})
			} else {
				vp, err = holder.Present(context.Background(), [][]byte{got.Raw}, wallet.Request{Challenge: policy.Challenge, Audience: policy.Audience, Now: e.clock.now()})
			}
			if err != nil {
				t.Fatal(err)
			}
			res, err := v.Verify(context.Background(), vp, policy)
			if err != nil {
				t.Fatalf("presentation: %v\n%s", err, dump(res))
			}
			subjectShown := res.Credentials[0].Subject
			if format == "dc+sd-jwt" {
				if subjectShown["role"] != "member" || subjectShown["community"] == nil {
					t.Fatalf("disclosed claims %v", subjectShown)
				}
				for _, hidden := range []string{"membershipLevel", "memberSince", "sub"} {
					if _, ok := subjectShown[hidden]; ok {
						t.Fatalf("%s shown without being disclosed: %v", hidden, subjectShown)
					}
				}
			} else if subjectShown["id"] != holder.DID {
				t.Fatalf("subject %v", subjectShown)
			}
			if _, err := v.Verify(context.Background(), vp, policy); !errors.Is(err, verifier.ErrReplayed) {
				t.Fatalf("replay: %v", err)
			}
			// Revoke it: the next presentation is refused by status.
			e.must(200, e.do("POST", "/credentials/status", e.admin, map[string]any{
				"credentialId": credentialIDFor(t, e, format), "credentialStatus": map[string]any{"statusPurpose": "revocation"}, "status": true,
			}))
			e.clock.advance(time.Second) // past the door's status cache age
			policy.Challenge += "-again"
			if format == "dc+sd-jwt" {
				vp, _ = holder.PresentSDJWT(got.Raw, nil, wallet.Request{Challenge: policy.Challenge, Audience: policy.Audience, Now: e.clock.now()})
			} else {
				vp, _ = holder.Present(context.Background(), [][]byte{got.Raw}, wallet.Request{Challenge: policy.Challenge, Audience: policy.Audience, Now: e.clock.now()})
			}
			if _, err := v.Verify(context.Background(), vp, policy); !errors.Is(err, verifier.ErrRevoked) {
				t.Fatalf("after revocation: %v", err)
			}
		})
	}
}

// credentialIDFor finds the newest credential of a format in the admin API.
func credentialIDFor(t *testing.T, e *env, format string) string {
	t.Helper()
	want := map[string]string{"jwt_vc_json": "jwt", "ldp_vc": "di-eddsa-rdfc", "dc+sd-jwt": "dc+sd-jwt"}[format]
	list := e.must(200, e.do("GET", "/admin/credentials", e.admin, nil)).body["credentials"].([]any)
	for i := len(list) - 1; i >= 0; i-- {
		c := list[i].(map[string]any)
		if c["format"] == want {
			return c["id"].(string)
		}
	}
	t.Fatalf("no %s credential", want)
	return ""
}

// flow drives the protocol by hand, to send what a correct wallet would not.
type flow struct {
	t      *testing.T
	e      *env
	holder *wallet.Holder
	code   string
	txCode bool
}

func (e *env) newFlow(t *testing.T, holder *wallet.Holder, txCode bool) (*flow, map[string]any) {
	o := e.offer(t, holder, "jwt_vc_json", txCode)
	offer, err := wallet.ParseOffer(o["offerUri"].(string))
	if err != nil {
		t.Fatal(err)
	}
	return &flow{t: t, e: e, holder: holder, code: offer.Grants.PreAuthorized.Code, txCode: txCode}, o
}

func (f *flow) post(path, contentType, bearer, body string) (int, map[string]any) {
	f.t.Helper()
	req, _ := http.NewRequest("POST", f.e.srv.URL+path, strings.NewReader(body))
	req.Header.Set("Content-Type", contentType)
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := f.e.srv.Client().Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	json.Unmarshal(raw, &out)
	return resp.StatusCode, out
}

func (f *flow) token(code, tx string) (int, map[string]any) {
	form := url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:pre-authorized_code"}, "pre-authorized_code": {code}}
	if tx != "" {
		form.Set("tx_code", tx)
	}
	return f.post("/oid4vci/token", "application/x-www-form-urlencoded", "", form.Encode())
}

func (f *flow) nonce() string {
	_, out := f.post("/oid4vci/nonce", "application/json", "", "")
	return out["c_nonce"].(string)
}

// proof signs a proof of possession with key (as kid) over nonce for audience.
func (f *flow) proof(h *wallet.Holder, nonce, aud string, iat time.Time) string {
	claims, _ := json.Marshal(map[string]any{"aud": aud, "iat": iat.Unix(), "nonce": nonce})
	p, err := jose.SignJWS(claims, "openid4vci-proof+jwt", h.KeyID, h.Key)
	if err != nil {
		f.t.Fatal(err)
	}
	return p
}

func (f *flow) credential(token, proof string) (int, map[string]any) {
	body, _ := json.Marshal(map[string]any{"credential_configuration_id": "MembershipCredential_jwt_vc_json", "proofs": map[string]any{"jwt": []string{proof}}})
	return f.post("/oid4vci/credential", "application/json", token, string(body))
}

// TestOpenID4VCIRejections: each misuse is refused with its OAuth error code, and
// nothing is issued.
func TestOpenID4VCIRejections(t *testing.T) {
	e := newEnv(t)
	key, _ := keys.Generate(keys.Ed25519)
	holder, _ := wallet.NewKeyHolder(key)
	otherKey, _ := keys.Generate(keys.Ed25519)
	stranger, _ := wallet.NewKeyHolder(otherKey)
	e.must(201, e.do("POST", "/admin/members", e.admin, map[string]any{"id": holder.DID, "name": "Ada"}))
	aud := e.svc.PublicURL()
	expect := func(status int, out map[string]any, wantStatus int, code string) {
		t.Helper()
		if status != wantStatus || out["error"] != code {
			t.Fatalf("got %d %v, want %d %s", status, out, wantStatus, code)
		}
	}

	t.Run("second redemption of a code", func(t *testing.T) {
		f, _ := e.newFlow(t, holder, false)
		if s, out := f.token(f.code, ""); s != 200 || out["access_token"] == nil {
			t.Fatalf("first redemption: %d %v", s, out)
		}
		s, out := f.token(f.code, "")
		expect(s, out, 400, "invalid_grant")
	})
	t.Run("unknown code", func(t *testing.T) {
		f, _ := e.newFlow(t, holder, false)
		s, out := f.token(f.code+"x", "")
		expect(s, out, 400, "invalid_grant")
	})
	t.Run("wrong grant type", func(t *testing.T) {
		f, _ := e.newFlow(t, holder, false)
		s, out := f.post("/oid4vci/token", "application/x-www-form-urlencoded", "", "grant_type=authorization_code&code=x")
		expect(s, out, 400, "unsupported_grant_type")
		_ = f
	})
	t.Run("expired offer", func(t *testing.T) {
		f, _ := e.newFlow(t, holder, false)
		e.clock.advance(16 * time.Minute)
		defer e.clock.advance(-16 * time.Minute)
		s, out := f.token(f.code, "")
		expect(s, out, 400, "invalid_grant")
	})
	t.Run("transaction code", func(t *testing.T) {
		f, o := e.newFlow(t, holder, true)
		tx := o["txCode"].(string)
		if len(tx) != 6 {
			t.Fatalf("tx code %q", tx)
		}
		s, out := f.token(f.code, "")
		expect(s, out, 400, "invalid_request")
		s, out = f.token(f.code, "000000x")
		expect(s, out, 400, "invalid_grant")
		if s, _ := f.token(f.code, tx); s != 200 {
			t.Fatalf("right tx code refused: %d", s)
		}
		// Five wrong codes burn an offer.
		g, _ := e.newFlow(t, holder, true)
		for range 5 {
			g.token(g.code, "999999x")
		}
		s, out = g.token(g.code, "whatever")
		expect(s, out, 400, "invalid_grant")
	})
	t.Run("wrong, reused and invented nonces", func(t *testing.T) {
		f, _ := e.newFlow(t, holder, false)
		_, tok := f.token(f.code, "")
		token := tok["access_token"].(string)
		s, out := f.credential(token, f.proof(holder, "invented-nonce", aud, e.clock.now()))
		expect(s, out, 400, "invalid_nonce")
		n := f.nonce()
		if s, _ := f.credential(token, f.proof(holder, n, aud, e.clock.now())); s != 200 {
			t.Fatalf("good request refused: %d", s)
		}
		// The nonce is used up, and so is the token.
		g, _ := e.newFlow(t, holder, false)
		_, tok = g.token(g.code, "")
		s, out = g.credential(tok["access_token"].(string), g.proof(holder, n, aud, e.clock.now()))
		expect(s, out, 400, "invalid_nonce")
		s, out = f.credential(token, f.proof(holder, f.nonce(), aud, e.clock.now()))
		expect(s, out, 401, "invalid_token")
	})
	before := e.credentialCount()
	t.Run("proof signed by another key", func(t *testing.T) {
		f, _ := e.newFlow(t, holder, false)
		_, tok := f.token(f.code, "")
		s, out := f.credential(tok["access_token"].(string), f.proof(stranger, f.nonce(), aud, e.clock.now()))
		expect(s, out, 400, "invalid_proof")
	})
	t.Run("proof for another audience, stale, or forged", func(t *testing.T) {
		f, _ := e.newFlow(t, holder, false)
		_, tok := f.token(f.code, "")
		token := tok["access_token"].(string)
		s, out := f.credential(token, f.proof(holder, f.nonce(), "https://another-issuer.example", e.clock.now()))
		expect(s, out, 400, "invalid_proof")
		s, out = f.credential(token, f.proof(holder, f.nonce(), aud, e.clock.now().Add(-time.Hour)))
		expect(s, out, 400, "invalid_proof")
		forged := f.proof(holder, f.nonce(), aud, e.clock.now())
		forged = forged[:len(forged)-4] + "AAAA"
		s, out = f.credential(token, forged)
		expect(s, out, 400, "invalid_proof")
		s, out = f.credential("not-a-token", f.proof(holder, f.nonce(), aud, e.clock.now()))
		expect(s, out, 401, "invalid_token")
	})
	if e.credentialCount() != before {
		t.Fatal("a refused request issued a credential")
	}
	// Offers for unregistered members and approval types are refused at creation.
	if r := e.do("POST", "/admin/offers", e.admin, map[string]any{"type": schemas.Membership, "subject": subject(t, schemas.Membership, stranger.DID)}); r.code() != "unknown_member" {
		t.Fatalf("offer to a stranger: %s", r.raw)
	}
	if r := e.do("POST", "/admin/offers", e.admin, map[string]any{"type": schemas.Residency, "subject": subject(t, schemas.Residency, holder.DID)}); r.code() != "approval_required" {
		t.Fatalf("offer of a residency: %s", r.raw)
	}
	// A wallet refuses an offer it cannot redeem.
	if _, err := holder.Receive(context.Background(), "https://example.org/not-an-offer", wallet.ReceiveOptions{}); !errors.Is(err, wallet.ErrReceive) {
		t.Fatalf("not an offer: %v", err)
	}
	f, o := e.newFlow(t, holder, true)
	_ = f
	if _, err := holder.Receive(context.Background(), o["offerUri"].(string), wallet.ReceiveOptions{}); err == nil || !strings.Contains(err.Error(), "transaction code") {
		t.Fatalf("offer with a tx code, none given: %v", err)
	}
	if _, err := stranger.Receive(context.Background(), o["offerUri"].(string), wallet.ReceiveOptions{TxCode: o["txCode"].(string)}); err == nil {
		t.Fatal("a stranger redeemed a member's offer")
	}
}
