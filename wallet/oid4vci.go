package wallet

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/civitas-net/civitas/credential/jose"
	"github.com/civitas-net/civitas/internal/jsonstrict"
)

// OpenID for Verifiable Credential Issuance 1.0, pre-authorized code flow, wallet side.

// ErrReceive reports an offer that could not be redeemed. Errors from the issuer carry
// its OAuth error code (see *IssuerError).
var ErrReceive = errors.New("cannot receive credential")

// IssuerError is an OAuth / OpenID4VCI error answered by the issuer.
type IssuerError struct {
	Status      int
	Code        string `json:"error"`
	Description string `json:"error_description"`
}

func (e *IssuerError) Error() string {
	return fmt.Sprintf("issuer answered %d %s: %s", e.Status, e.Code, e.Description)
}

// Unwrap returns ErrReceive.
func (e *IssuerError) Unwrap() error { return ErrReceive }

// Offer is a parsed credential offer.
type Offer struct {
	// CredentialIssuer is the issuer's URL.
	CredentialIssuer string `json:"credential_issuer"`
	// ConfigurationIDs names the offered credential configurations.
	ConfigurationIDs []string `json:"credential_configuration_ids"`
	Grants           struct {
		PreAuthorized *struct {
			Code   string `json:"pre-authorized_code"`
			TxCode *struct {
				InputMode   string `json:"input_mode"`
				Length      int    `json:"length"`
				Description string `json:"description"`
			} `json:"tx_code"`
		} `json:"urn:ietf:params:oauth:grant-type:pre-authorized_code"`
	} `json:"grants"`
}

// NeedsTxCode reports whether the offer asks for a transaction code.
func (o *Offer) NeedsTxCode() bool {
	return o.Grants.PreAuthorized != nil && o.Grants.PreAuthorized.TxCode != nil
}

// ParseOffer reads an openid-credential-offer:// URI carrying the offer by value.
func ParseOffer(uri string) (*Offer, error) {
	u, err := url.Parse(strings.TrimSpace(uri))
	if err != nil || u.Scheme != "openid-credential-offer" {
		return nil, fmt.Errorf("%w: not an openid-credential-offer:// URI", ErrReceive)
	}
	raw := u.Query().Get("credential_offer")
	if raw == "" {
		if u.Query().Get("credential_offer_uri") != "" {
			return nil, fmt.Errorf("%w: offers by reference (credential_offer_uri) are not supported", ErrReceive)
		}
		return nil, fmt.Errorf("%w: the URI carries no credential_offer", ErrReceive)
	}
	var o Offer
	if err := jsonstrict.Unmarshal([]byte(raw), &o, jsonstrict.Limits{MaxBytes: 16 << 10}); err != nil {
		return nil, fmt.Errorf("%w: credential_offer: %w", ErrReceive, err)
	}
	if o.Grants.PreAuthorized == nil || o.Grants.PreAuthorized.Code == "" {
		return nil, fmt.Errorf("%w: only the pre-authorized code flow is supported", ErrReceive)
	}
	if len(o.ConfigurationIDs) != 1 {
		return nil, fmt.Errorf("%w: the offer must name exactly one credential configuration", ErrReceive)
	}
	if err := checkIssuerURL(o.CredentialIssuer); err != nil {
		return nil, err
	}
	return &o, nil
}

// checkIssuerURL accepts https URLs, and http only on loopback (a local issuer).
func checkIssuerURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || u.User != nil {
		return fmt.Errorf("%w: credential_issuer %q is not a URL", ErrReceive, s)
	}
	if u.Scheme == "https" {
		return nil
	}
	if u.Scheme == "http" {
		if ip := net.ParseIP(u.Hostname()); (ip != nil && ip.IsLoopback()) || u.Hostname() == "localhost" {
			return nil
		}
	}
	return fmt.Errorf("%w: credential_issuer %q must be https (or http on loopback)", ErrReceive, s)
}

// ReceiveOptions tune Receive.
type ReceiveOptions struct {
	// TxCode is the transaction code, when the offer asks for one.
	TxCode string
	// Client makes the HTTP requests (default: 10 s timeout, no redirects).
	Client *http.Client
	// Now is the time put in the proof (default time.Now).
	Now func() time.Time
}

// Received is a credential obtained from an issuer.
type Received struct {
	// Format is the OpenID4VCI format: jwt_vc_json, ldp_vc or dc+sd-jwt.
	Format string
	// ConfigurationID is the credential configuration received.
	ConfigurationID string
	// Raw is the credential as the issuer sent it: a compact JWT or SD-JWT, or JSON.
	Raw []byte
	// Description is what Describe says of Raw.
	Description Description
}

// maxResponse caps every response read from an issuer.
const maxResponse = 1 << 20

// Receive redeems a credential offer: it reads the issuer's metadata, exchanges the
// pre-authorized code for an access token, gets a nonce, and requests the credential
// with a proof of possession of the holder's key, to which the credential is bound.
func (h *Holder) Receive(ctx context.Context, offerURI string, o ReceiveOptions) (Received, error) {
	offer, err := ParseOffer(offerURI)
	if err != nil {
		return Received{}, err
	}
	if offer.NeedsTxCode() && o.TxCode == "" {
		return Received{}, fmt.Errorf("%w: this offer needs the transaction code the community gave you", ErrReceive)
	}
	client := o.Client
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	now := time.Now
	if o.Now != nil {
		now = o.Now
	}
	base := strings.TrimSuffix(offer.CredentialIssuer, "/")
	var meta struct {
		CredentialIssuer     string                     `json:"credential_issuer"`
		AuthorizationServers []string                   `json:"authorization_servers"`
		CredentialEndpoint   string                     `json:"credential_endpoint"`
		NonceEndpoint        string                     `json:"nonce_endpoint"`
		Configurations       map[string]json.RawMessage `json:"credential_configurations_supported"`
	}
	if err := getJSON(ctx, client, base+"/.well-known/openid-credential-issuer", &meta); err != nil {
		return Received{}, err
	}
	configID := offer.ConfigurationIDs[0]
	var config struct {
		Format string `json:"format"`
	}
	if meta.CredentialIssuer != offer.CredentialIssuer {
		return Received{}, fmt.Errorf("%w: the metadata names another issuer (%s)", ErrReceive, meta.CredentialIssuer)
	}
	if raw, ok := meta.Configurations[configID]; !ok || json.Unmarshal(raw, &config) != nil {
		return Received{}, fmt.Errorf("%w: the issuer does not describe configuration %q", ErrReceive, configID)
	}
	authServer := base
	if len(meta.AuthorizationServers) > 0 {
		authServer = strings.TrimSuffix(meta.AuthorizationServers[0], "/")
	}
	var as struct {
		TokenEndpoint string `json:"token_endpoint"`
	}
	if err := getJSON(ctx, client, authServer+"/.well-known/oauth-authorization-server", &as); err != nil {
		return Received{}, err
	}
	for _, ep := range []string{meta.CredentialEndpoint, meta.NonceEndpoint, as.TokenEndpoint} {
		if !sameOrigin(ep, base) {
			return Received{}, fmt.Errorf("%w: endpoint %q is not on the issuer's origin", ErrReceive, ep)
		}
	}

	form := url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:pre-authorized_code"}, "pre-authorized_code": {offer.Grants.PreAuthorized.Code}}
	if o.TxCode != "" {
		form.Set("tx_code", o.TxCode)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := post(ctx, client, as.TokenEndpoint, "application/x-www-form-urlencoded", []byte(form.Encode()), "", &tok); err != nil {
		return Received{}, err
	}
	var nonce struct {
		CNonce string `json:"c_nonce"`
	}
	if err := post(ctx, client, meta.NonceEndpoint, "application/json", nil, "", &nonce); err != nil {
		return Received{}, err
	}
	claims, _ := json.Marshal(map[string]any{"aud": offer.CredentialIssuer, "iat": now().Unix(), "nonce": nonce.CNonce})
	proof, err := jose.SignJWS(claims, "openid4vci-proof+jwt", h.KeyID, h.Key)
	if err != nil {
		return Received{}, fmt.Errorf("%w: sign proof: %w", ErrReceive, err)
	}
	req, _ := json.Marshal(map[string]any{"credential_configuration_id": configID, "proofs": map[string]any{"jwt": []string{proof}}})
	var resp struct {
		Credentials []struct {
			Credential json.RawMessage `json:"credential"`
		} `json:"credentials"`
	}
	if err := post(ctx, client, meta.CredentialEndpoint, "application/json", req, tok.AccessToken, &resp); err != nil {
		return Received{}, err
	}
	if len(resp.Credentials) != 1 || len(resp.Credentials[0].Credential) == 0 {
		return Received{}, fmt.Errorf("%w: the issuer sent no credential", ErrReceive)
	}
	raw := []byte(resp.Credentials[0].Credential)
	if raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return Received{}, fmt.Errorf("%w: credential: %w", ErrReceive, err)
		}
		raw = []byte(s)
	}
	r := Received{Format: config.Format, ConfigurationID: configID, Raw: raw}
	if r.Description, err = h.checkBinding(r); err != nil {
		return Received{}, err
	}
	return r, nil
}

// sameOrigin reports whether endpoint has the scheme and host of base.
func sameOrigin(endpoint, base string) bool {
	e, err1 := url.Parse(endpoint)
	b, err2 := url.Parse(base)
	return err1 == nil && err2 == nil && e.Scheme == b.Scheme && e.Host == b.Host
}

func getJSON(ctx context.Context, client *http.Client, u string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrReceive, err)
	}
	return do(client, req, v)
}

func post(ctx context.Context, client *http.Client, u, contentType string, body []byte, bearer string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("%w: %w", ErrReceive, err)
	}
	req.Header.Set("Content-Type", contentType)
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	return do(client, req, v)
}

// do sends req, reads at most maxResponse bytes, and decodes a 200 answer into v or an
// OAuth error into *IssuerError.
func do(client *http.Client, req *http.Request, v any) error {
	req.Header.Set("Accept", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("%w: %s %s: %w", ErrReceive, req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse+1))
	if err != nil || len(body) > maxResponse {
		return fmt.Errorf("%w: %s: unreadable or oversized answer", ErrReceive, req.URL.Path)
	}
	if resp.StatusCode != http.StatusOK {
		e := &IssuerError{Status: resp.StatusCode}
		if json.Unmarshal(body, e) != nil || e.Code == "" {
			e.Code, e.Description = "http_error", http.StatusText(resp.StatusCode)
		}
		return e
	}
	if err := jsonstrict.Unmarshal(body, v, jsonstrict.Limits{MaxBytes: maxResponse}); err != nil {
		return fmt.Errorf("%w: %s: %w", ErrReceive, req.URL.Path, err)
	}
	return nil
}
