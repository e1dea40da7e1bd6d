package wallet_test

import (
	"context"
	"crypto"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/civitas-net/civitas/credential"
	"github.com/civitas-net/civitas/credential/jose"
	"github.com/civitas-net/civitas/credential/sdjwt"
	"github.com/civitas-net/civitas/did"
	"github.com/civitas-net/civitas/internal/jsonstrict"
	"github.com/civitas-net/civitas/keys"
	"github.com/civitas-net/civitas/schemas"
	"github.com/civitas-net/civitas/wallet"
)

// offerURI returns an openid-credential-offer:// URI carrying offer by value.
func offerURI(offer string) string {
	return "openid-credential-offer://?credential_offer=" + url.QueryEscape(offer)
}

// offerJSON is an offer of configuration "c1" by issuer, pre-authorized code "code".
func offerJSON(issuer string) string {
	return `{"credential_issuer":"` + issuer + `","credential_configuration_ids":["c1"],` +
		`"grants":{"urn:ietf:params:oauth:grant-type:pre-authorized_code":{"pre-authorized_code":"code"}}}`
}

func TestParseOffer(t *testing.T) {
	for _, issuer := range []string{"https://issuer.example", "http://127.0.0.1:8080", "http://localhost:8080", "http://[::1]:8080"} {
		o, err := wallet.ParseOffer(offerURI(offerJSON(issuer)))
		if err != nil {
			t.Fatalf("%s: ParseOffer: %v", issuer, err)
		}
		if o.CredentialIssuer != issuer || o.ConfigurationIDs[0] != "c1" || o.Grants.PreAuthorized.Code != "code" || o.NeedsTxCode() {
			t.Fatalf("%s: ParseOffer = %+v", issuer, o)
		}
	}
}

func TestParseOfferRefuses(t *testing.T) {
	good := offerJSON("https://issuer.example")
	for name, tc := range map[string]struct {
		uri  string
		want error // besides ErrReceive, when set
	}{
		"not a URI":            {"%zz", nil},
		"another scheme":       {"https://issuer.example/?credential_offer=" + url.QueryEscape(good), nil},
		"no offer":             {"openid-credential-offer://?x=1", nil},
		"offer by reference":   {"openid-credential-offer://?credential_offer_uri=" + url.QueryEscape("https://issuer.example/o/1"), nil},
		"not JSON":             {offerURI("{"), jsonstrict.ErrSyntax},
		"duplicate keys":       {offerURI(strings.Replace(good, `{"credential_issuer"`, `{"credential_issuer":"https://evil.example","credential_issuer"`, 1)), jsonstrict.ErrDuplicateKey},
		"too large":            {offerURI(strings.Replace(good, `{`, `{"pad":"`+strings.Repeat("a", 16<<10)+`",`, 1)), jsonstrict.ErrTooLarge},
		"no pre-authorized":    {offerURI(`{"credential_issuer":"https://issuer.example","credential_configuration_ids":["c1"],"grants":{}}`), nil},
		"empty code":           {offerURI(strings.Replace(good, `"code"`, `""`, 1)), nil},
		"no configuration":     {offerURI(strings.Replace(good, `["c1"]`, `[]`, 1)), nil},
		"two configurations":   {offerURI(strings.Replace(good, `["c1"]`, `["c1","c2"]`, 1)), nil},
		"http issuer":          {offerURI(offerJSON("http://issuer.example")), nil},
		"http private address": {offerURI(offerJSON("http://10.0.0.1")), nil},
		"issuer with userinfo": {offerURI(offerJSON("https://user@issuer.example")), nil},
		"issuer not a URL":     {offerURI(offerJSON("issuer.example")), nil},
		"issuer other scheme":  {offerURI(offerJSON("ftp://issuer.example")), nil},
	} {
		o, err := wallet.ParseOffer(tc.uri)
		if !errors.Is(err, wallet.ErrReceive) || (tc.want != nil && !errors.Is(err, tc.want)) {
			t.Errorf("%s: ParseOffer = %+v, %v; want ErrReceive %v", name, o, err, tc.want)
		}
	}
}

func FuzzParseOffer(f *testing.F) {
	f.Add(offerURI(offerJSON("https://issuer.example")))
	f.Add(offerURI(offerJSON("http://127.0.0.1:1")))
	f.Add(offerURI(`{"credential_issuer":"https://a","credential_issuer":"https://b"}`))
	f.Add("openid-credential-offer://?credential_offer_uri=https%3A%2F%2Fa")
	f.Add("")
	f.Fuzz(func(t *testing.T, uri string) {
		o, err := wallet.ParseOffer(uri)
		if err != nil {
			if !errors.Is(err, wallet.ErrReceive) {
				t.Fatalf("ParseOffer = %v, want ErrReceive", err)
			}
			return
		}
		if len(o.ConfigurationIDs) != 1 || o.Grants.PreAuthorized == nil || o.Grants.PreAuthorized.Code == "" {
			t.Fatalf("ParseOffer accepted %+v", o)
		}
		u, err := url.Parse(o.CredentialIssuer)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.User != nil {
			t.Fatalf("ParseOffer accepted issuer %q", o.CredentialIssuer)
		}
	})
}

// fakeIssuer is an OpenID4VCI issuer that answers what its fields say, so that each case
// of TestReceiveRefuses misbehaves in one way.
type fakeIssuer struct {
	srv *httptest.Server

	metaIssuer   string         // credential_issuer in the metadata (default: the base URL)
	credEndpoint string         // credential_endpoint (default: base + "/credential")
	configs      map[string]any // credential_configurations_supported
	rawMeta      string         // when set, the metadata body as it is
	redirectMeta bool           // the metadata answers 302 to /elsewhere
	tokenStatus  int            // when set, the token endpoint's status, with tokenBody
	tokenBody    string
	credentials  []any  // the credential response's credentials
	rawCredResp  string // when set, the credential response body as it is

	mu   sync.Mutex
	hits map[string]int
}

func newFakeIssuer(t *testing.T) *fakeIssuer {
	t.Helper()
	fi := &fakeIssuer{hits: map[string]int{}}
	fi.srv = httptest.NewServer(http.HandlerFunc(fi.serve))
	t.Cleanup(fi.srv.Close)
	fi.configs = map[string]any{"c1": map[string]any{"format": "jwt_vc_json"}}
	return fi
}

func (fi *fakeIssuer) serve(w http.ResponseWriter, r *http.Request) {
	fi.mu.Lock()
	fi.hits[r.URL.Path]++
	fi.mu.Unlock()
	base := fi.srv.URL
	answer := func(status int, body string) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	}
	js := func(v any) string { b, _ := json.Marshal(v); return string(b) }
	switch r.URL.Path {
	case "/.well-known/openid-credential-issuer":
		switch {
		case fi.redirectMeta:
			http.Redirect(w, r, base+"/elsewhere", http.StatusFound)
		case fi.rawMeta != "":
			answer(200, fi.rawMeta)
		default:
			iss, ep := base, base+"/credential"
			if fi.metaIssuer != "" {
				iss = fi.metaIssuer
			}
			if fi.credEndpoint != "" {
				ep = fi.credEndpoint
			}
			answer(200, js(map[string]any{"credential_issuer": iss, "credential_endpoint": ep, "nonce_endpoint": base + "/nonce", "credential_configurations_supported": fi.configs}))
		}
	case "/.well-known/oauth-authorization-server":
		answer(200, js(map[string]any{"issuer": base, "token_endpoint": base + "/token"}))
	case "/token":
		if fi.tokenStatus != 0 {
			answer(fi.tokenStatus, fi.tokenBody)
			return
		}
		answer(200, `{"access_token":"at","token_type":"Bearer"}`)
	case "/nonce":
		answer(200, `{"c_nonce":"n-1"}`)
	case "/credential":
		if r.Header.Get("Authorization") != "Bearer at" {
			answer(401, `{"error":"invalid_token"}`)
			return
		}
		if fi.rawCredResp != "" {
			answer(200, fi.rawCredResp)
			return
		}
		answer(200, js(map[string]any{"credentials": fi.credentials}))
	default:
		answer(404, `{"error":"not_found"}`)
	}
}

func (fi *fakeIssuer) hit(path string) int {
	fi.mu.Lock()
	defer fi.mu.Unlock()
	return fi.hits[path]
}

// issuerKey is a did:key issuer that signs test credentials.
type issuerKey struct {
	key crypto.Signer
	did string
	kid string
}

func newIssuerKey(t *testing.T) issuerKey {
	t.Helper()
	key, err := keys.Generate(keys.Ed25519)
	if err != nil {
		t.Fatal(err)
	}
	kid, err := did.KeyURL(key.Public())
	if err != nil {
		t.Fatal(err)
	}
	id, _, _ := strings.Cut(kid, "#")
	return issuerKey{key: key, did: id, kid: kid}
}

// vcJWT returns a vc+jwt of ik about subject.
func (ik issuerKey) vcJWT(t *testing.T, subject string) string {
	t.Helper()
	tok, err := jose.SignCredential(map[string]any{
		"@context":          []any{credential.ContextV2},
		"type":              []any{"VerifiableCredential", schemas.Membership},
		"issuer":            ik.did,
		"credentialSubject": map[string]any{"id": subject},
	}, ik.key, ik.kid)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// sdJWT returns an SD-JWT VC of ik bound to holder's key, about subject.
func (ik issuerKey) sdJWT(t *testing.T, holder crypto.PublicKey, subject string) string {
	t.Helper()
	jwk, err := keys.PublicJWK(holder)
	if err != nil {
		t.Fatal(err)
	}
	ct, _ := schemas.Lookup(schemas.Membership)
	out, err := sdjwt.Issue(sdjwt.Claims{Issuer: ik.did, VCT: ct.VCT, IssuedAt: t0, HolderJWK: jwk, Disclosable: map[string]any{"sub": subject}}, ik.key, ik.kid)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestReceive checks the cases of TestReceiveRefuses against a well-behaved issuer,
// so that each refusal there has one cause.
func TestReceive(t *testing.T) {
	holder := newHolder(t, keys.Ed25519)
	ik := newIssuerKey(t)
	for _, format := range []string{"jwt_vc_json", "dc+sd-jwt"} {
		fi := newFakeIssuer(t)
		fi.configs = map[string]any{"c1": map[string]any{"format": format}}
		want := ik.vcJWT(t, holder.DID)
		if format == "dc+sd-jwt" {
			want = ik.sdJWT(t, holder.Key.Public(), holder.DID)
		}
		fi.credentials = []any{map[string]any{"credential": want}}
		got, err := holder.Receive(context.Background(), offerURI(offerJSON(fi.srv.URL)), wallet.ReceiveOptions{Now: func() time.Time { return t0 }})
		if err != nil {
			t.Fatalf("%s: Receive: %v", format, err)
		}
		if got.Format != format || got.ConfigurationID != "c1" || string(got.Raw) != want {
			t.Fatalf("%s: Receive = %+v", format, got)
		}
		if d, err := wallet.Describe(got.Raw); err != nil || !reflect.DeepEqual(d, got.Description) {
			t.Fatalf("%s: Description %+v, Describe %+v %v", format, got.Description, d, err)
		}
	}
}

func TestReceiveRefuses(t *testing.T) {
	holder := newHolder(t, keys.Ed25519)
	stranger := newHolder(t, keys.Ed25519)
	ik := newIssuerKey(t)
	good := ik.vcJWT(t, holder.DID)
	for name, tc := range map[string]struct {
		setup func(fi *fakeIssuer)
		want  error  // besides ErrReceive, when set
		text  string // in the error, when set
	}{
		"redirect not followed": {func(fi *fakeIssuer) { fi.redirectMeta = true }, nil, "302"},
		"oversized answer": {func(fi *fakeIssuer) {
			fi.rawMeta = `{"pad":"` + strings.Repeat("a", 1<<20) + `"}`
		}, nil, "oversized"},
		"duplicate keys in metadata": {func(fi *fakeIssuer) {
			fi.rawMeta = `{"credential_issuer":"` + fi.srv.URL + `","credential_issuer":"` + fi.srv.URL + `"}`
		}, jsonstrict.ErrDuplicateKey, ""},
		"metadata names another issuer": {func(fi *fakeIssuer) { fi.metaIssuer = "https://evil.example" }, nil, "another issuer"},
		"endpoint on another origin": {func(fi *fakeIssuer) {
			fi.credEndpoint = "https://evil.example/credential"
		}, nil, "not on the issuer's origin"},
		"unknown configuration": {func(fi *fakeIssuer) {
			fi.configs = map[string]any{"c2": map[string]any{"format": "jwt_vc_json"}}
		}, nil, "does not describe configuration"},
		"code refused": {func(fi *fakeIssuer) {
			fi.tokenStatus, fi.tokenBody = 400, `{"error":"invalid_grant","error_description":"used"}`
		}, nil, "invalid_grant"},
		"no credential": {func(fi *fakeIssuer) { fi.credentials = []any{} }, nil, "no credential"},
		"two credentials": {func(fi *fakeIssuer) {
			fi.credentials = []any{map[string]any{"credential": good}, map[string]any{"credential": good}}
		}, nil, "no credential"},
		"duplicate keys in credential response": {func(fi *fakeIssuer) {
			fi.rawCredResp = `{"credentials":[{"credential":"` + good + `","credential":"` + good + `"}]}`
		}, jsonstrict.ErrDuplicateKey, ""},
		"not a credential": {func(fi *fakeIssuer) {
			fi.credentials = []any{map[string]any{"credential": "hello"}}
		}, jose.ErrMalformed, ""},
		"credential about another DID": {func(fi *fakeIssuer) {
			fi.credentials = []any{map[string]any{"credential": ik.vcJWT(t, stranger.DID)}}
		}, nil, "not this wallet's DID"},
		"SD-JWT bound to another key": {func(fi *fakeIssuer) {
			fi.configs = map[string]any{"c1": map[string]any{"format": "dc+sd-jwt"}}
			fi.credentials = []any{map[string]any{"credential": ik.sdJWT(t, stranger.Key.Public(), holder.DID)}}
		}, nil, "bound to another key"},
	} {
		fi := newFakeIssuer(t)
		fi.credentials = []any{map[string]any{"credential": good}}
		tc.setup(fi)
		_, err := holder.Receive(context.Background(), offerURI(offerJSON(fi.srv.URL)), wallet.ReceiveOptions{Now: func() time.Time { return t0 }})
		if !errors.Is(err, wallet.ErrReceive) || (tc.want != nil && !errors.Is(err, tc.want)) || !strings.Contains(err.Error(), tc.text) {
			t.Errorf("%s: Receive = %v; want ErrReceive %v %q", name, err, tc.want, tc.text)
		}
		if fi.hit("/elsewhere") != 0 {
			t.Errorf("%s: Receive followed a redirect", name)
		}
	}
	// The issuer's OAuth error reaches the caller.
	fi := newFakeIssuer(t)
	fi.tokenStatus, fi.tokenBody = 400, `{"error":"invalid_grant"}`
	_, err := holder.Receive(context.Background(), offerURI(offerJSON(fi.srv.URL)), wallet.ReceiveOptions{})
	var ie *wallet.IssuerError
	if !errors.As(err, &ie) || ie.Status != 400 || ie.Code != "invalid_grant" {
		t.Fatalf("Receive = %v, want an IssuerError 400 invalid_grant", err)
	}
}
