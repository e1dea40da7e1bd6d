package issuer

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"net/url"
	"strings"
	"time"

	"github.com/civitas-net/civitas/credential/jose"
	"github.com/civitas-net/civitas/did"
	"github.com/civitas-net/civitas/internal/jsonstrict"
	"github.com/civitas-net/civitas/issuer/store"
	"github.com/civitas-net/civitas/keys"
	"github.com/civitas-net/civitas/schemas"
)

// OpenID for Verifiable Credential Issuance 1.0, pre-authorized code flow: an admin makes
// an offer for a registered member; the member's wallet exchanges the offer's
// pre-authorized code for an access token, fetches a nonce, and requests the credential
// with a proof of possession of its key; the credential is bound to that key's DID.

// OpenID4VCI credential formats.
const (
	OfferFormatJWT   = "jwt_vc_json" // a vc+jwt
	OfferFormatLDP   = "ldp_vc"      // a Data Integrity credential
	OfferFormatSDJWT = "dc+sd-jwt"   // an SD-JWT VC
)

// Grant type and proof type of the pre-authorized code flow.
const (
	GrantPreAuthorized = "urn:ietf:params:oauth:grant-type:pre-authorized_code"
	proofTyp           = "openid4vci-proof+jwt"
)

// Lifetimes in the flow.
const (
	defaultOfferTTL = 15 * time.Minute
	tokenTTL        = 5 * time.Minute
	nonceTTL        = 5 * time.Minute
	proofMaxAge     = 5 * time.Minute
	maxTxAttempts   = 5
)

// OAuthError is an OAuth 2.0 / OpenID4VCI error response.
type OAuthError struct {
	// Code is the OAuth error code (invalid_grant, invalid_proof, …).
	Code string `json:"error"`
	// Description explains it to a developer; it holds no secrets.
	Description string `json:"error_description,omitempty"`
	// Status is the HTTP status to answer with.
	Status int `json:"-"`
}

func (e *OAuthError) Error() string { return e.Code + ": " + e.Description }

func oauthErr(status int, code, format string, args ...any) *OAuthError {
	return &OAuthError{Code: code, Description: fmt.Sprintf(format, args...), Status: status}
}

// configurationID names a credential configuration: type and format.
func configurationID(typ, format string) string { return typ + "_" + format }

// OfferRequest is an admin's request for a credential offer.
type OfferRequest struct {
	// Type is the Civitas credential type.
	Type string
	// Subject is the credentialSubject; its id is the registered member's DID.
	Subject map[string]any
	// Format is jwt_vc_json (default), ldp_vc or dc+sd-jwt.
	Format string
	// TxCode asks for a transaction code the member must type in the wallet.
	TxCode bool
	// ValidUntil is the credential's end of validity, when set.
	ValidUntil string
}

// OfferView is an offer as the admin API shows it.
type OfferView struct {
	ID        string    `json:"id"`
	Type      string    `json:"type"`
	Format    string    `json:"format"`
	State     string    `json:"state"`
	Subject   string    `json:"subject"`
	ExpiresAt time.Time `json:"expiresAt"`
	// URI is the openid-credential-offer:// URI to give the member (a link or a QR code).
	// It is shown while the offer can be redeemed.
	URI string `json:"offerUri,omitempty"`
	// TxCode is the transaction code, shown once, when the offer is made. Give it to the
	// member by another channel than the URI.
	TxCode       string `json:"txCode,omitempty"`
	CredentialID string `json:"credentialId,omitempty"`
}

// codeKeySetting keeps the key that derives pre-authorized codes from offer IDs, sealed
// with the key-encryption key, so that every replica derives the same codes and an
// offer's URI (and QR code) can be shown again without storing the code itself.
const codeKeySetting = "oid4vci.code-key"

// loadCodeKey unseals (creating on first start) the key deriving pre-authorized codes.
func (s *Service) loadCodeKey(ctx context.Context) error {
	var fresh [32]byte
	rand.Read(fresh[:])
	sealed := base64.StdEncoding.EncodeToString(s.kek.Seal(fresh[:], []byte(codeKeySetting)))
	stored, err := s.store.InitSetting(ctx, codeKeySetting, sealed)
	if err != nil {
		return fmt.Errorf("offer code key: %w", err)
	}
	raw, err := base64.StdEncoding.DecodeString(stored)
	if err != nil {
		return fmt.Errorf("offer code key: %w", err)
	}
	if s.codeKey, err = s.kek.Open(raw, []byte(codeKeySetting)); err != nil {
		return fmt.Errorf("offer code key: %w", err)
	}
	return nil
}

// preAuthorizedCode derives an offer's code.
func (s *Service) preAuthorizedCode(offerID string) string {
	m := hmac.New(sha256.New, s.codeKey)
	m.Write([]byte("pre-authorized-code:" + offerID))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

func sha(b string) []byte {
	h := sha256.Sum256([]byte(b))
	return h[:]
}

// CreateOffer makes a credential offer for a registered member. Types that need
// approvals cannot be offered directly.
func (s *Service) CreateOffer(ctx context.Context, p Principal, r OfferRequest) (OfferView, error) {
	format := r.Format
	if format == "" {
		format = OfferFormatJWT
	}
	var f Format
	switch format {
	case OfferFormatJWT:
		f = FormatJWT
	case OfferFormatLDP:
		f = FormatEdDSARDFC
		if s.activeKeyAlgorithm() == string(keys.P256) {
			f = FormatECDSARDFC
		}
	case OfferFormatSDJWT:
		f = FormatSDJWT
	default:
		return OfferView{}, errorf(CodeUnsupportedFormat, "format must be jwt_vc_json, ldp_vc or dc+sd-jwt")
	}
	t, ok := schemas.Lookup(r.Type)
	if !ok {
		return OfferView{}, errorf(CodeUnknownType, "type must be one of %s", strings.Join(typeNames(), ", "))
	}
	cred := map[string]any{"type": toAny(t.Types), "credentialSubject": r.Subject}
	if r.ValidUntil != "" {
		cred["validUntil"] = r.ValidUntil
	}
	sp, err := s.parseIssue(IssueRequest{Credential: cred})
	if err != nil {
		return OfferView{}, err
	}
	sp.Format = f
	if ok, why := p.mayIssue(sp.Type, sp.node()); !ok {
		return OfferView{}, s.forbid(ctx, p, "offer "+sp.Type, why)
	}
	if s.approvals[sp.Type] > 0 {
		return OfferView{}, errorf(CodeApprovalRequired, "%s needs %d approvals: request it with POST /credentials/issue", sp.Type, s.approvals[sp.Type])
	}
	if err := s.requireMember(ctx, sp.subjectID()); err != nil {
		return OfferView{}, err
	}
	if f != FormatSDJWT {
		if err := s.checkFormat(f); err != nil {
			return OfferView{}, err
		}
	}
	req, err := json.Marshal(sp)
	if err != nil {
		return OfferView{}, internal("encode offer", err)
	}
	var id [12]byte
	rand.Read(id[:])
	now := s.now()
	o := store.Offer{
		ID: "ofr_" + hex.EncodeToString(id[:]), Type: sp.Type, Node: sp.node(), Format: format, Subject: sp.subjectID(),
		Request: req, CreatedBy: p.TokenID, CreatedAt: now, ExpiresAt: now.Add(s.offerTTL), State: store.OfferOffered,
	}
	o.CodeHash = sha(s.preAuthorizedCode(o.ID))
	var txCode string
	if r.TxCode {
		n, _ := rand.Int(rand.Reader, big.NewInt(1_000_000))
		txCode = fmt.Sprintf("%06d", n)
		o.TxCodeHash = sha(o.ID + ":" + txCode)
	}
	if err := s.store.CreateOffer(ctx, o, s.entry(p.TokenID, "offer.create", o.ID, map[string]any{"type": o.Type, "format": format, "txCode": r.TxCode})); err != nil {
		return OfferView{}, internal("store offer", err)
	}
	v := s.offerView(o)
	v.TxCode = txCode
	return v, nil
}

func (s *Service) offerView(o store.Offer) OfferView {
	v := OfferView{ID: o.ID, Type: o.Type, Format: o.Format, State: o.State, Subject: o.Subject, ExpiresAt: o.ExpiresAt, CredentialID: o.CredentialID}
	if o.State == store.OfferOffered && s.now().Before(o.ExpiresAt) {
		v.URI = s.offerURI(o)
	} else if o.State == store.OfferOffered {
		v.State = "expired"
	}
	return v
}

// offerURI is the openid-credential-offer:// URI of an offer (by value).
func (s *Service) offerURI(o store.Offer) string {
	grant := map[string]any{"pre-authorized_code": s.preAuthorizedCode(o.ID)}
	if o.TxCodeHash != nil {
		grant["tx_code"] = map[string]any{"input_mode": "numeric", "length": 6, "description": "The code the community gave you with this offer"}
	}
	offer, _ := json.Marshal(map[string]any{
		"credential_issuer":            s.publicURL,
		"credential_configuration_ids": []string{configurationID(o.Type, o.Format)},
		"grants":                       map[string]any{GrantPreAuthorized: grant},
	})
	return "openid-credential-offer://?credential_offer=" + url.QueryEscape(string(offer))
}

// Offer returns an offer to an admin or the token that made it.
func (s *Service) Offer(ctx context.Context, p Principal, id string) (OfferView, error) {
	o, err := s.store.Offer(ctx, id)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return OfferView{}, errorf(CodeNotFound, "no offer %s", truncate(id))
	case err != nil:
		return OfferView{}, internal("read offer", err)
	}
	if p.Role != store.RoleAdmin && p.TokenID != o.CreatedBy {
		return OfferView{}, s.forbid(ctx, p, "read offer "+id, "the token may not see this offer")
	}
	return s.offerView(o), nil
}

// IssuerMetadata is the Credential Issuer Metadata (/.well-known/openid-credential-issuer).
func (s *Service) IssuerMetadata() map[string]any {
	algs := []string{jose.AlgEdDSA, jose.AlgES256}
	configs := map[string]any{}
	for _, t := range schemas.Types() {
		binding := []string{"did:key", "did:jwk"}
		proofs := map[string]any{"jwt": map[string]any{"proof_signing_alg_values_supported": algs}}
		display := []any{map[string]any{"name": t.Name, "locale": "en"}}
		configs[configurationID(t.Name, OfferFormatJWT)] = map[string]any{
			"format": OfferFormatJWT, "credential_definition": map[string]any{"type": t.Types},
			"cryptographic_binding_methods_supported": binding, "credential_signing_alg_values_supported": algs,
			"proof_types_supported": proofs, "display": display,
		}
		configs[configurationID(t.Name, OfferFormatLDP)] = map[string]any{
			"format":                OfferFormatLDP,
			"credential_definition": map[string]any{"@context": []string{"https://www.w3.org/ns/credentials/v2", schemas.ContextURL}, "type": t.Types},
			"cryptographic_binding_methods_supported": binding, "credential_signing_alg_values_supported": []string{"eddsa-rdfc-2022", "ecdsa-rdfc-2019"},
			"proof_types_supported": proofs, "display": display,
		}
		configs[configurationID(t.Name, OfferFormatSDJWT)] = map[string]any{
			"format": OfferFormatSDJWT, "vct": t.VCT, "cryptographic_binding_methods_supported": []string{"jwk"},
			"credential_signing_alg_values_supported": algs, "proof_types_supported": proofs, "display": display,
		}
	}
	return map[string]any{
		"credential_issuer":                   s.publicURL,
		"authorization_servers":               []string{s.publicURL},
		"credential_endpoint":                 s.urlFor("/oid4vci/credential"),
		"nonce_endpoint":                      s.urlFor("/oid4vci/nonce"),
		"credential_configurations_supported": configs,
		"display":                             []any{map[string]any{"name": "Civitas issuer " + s.did, "locale": "en"}},
	}
}

// AuthorizationServerMetadata is the OAuth 2.0 Authorization Server Metadata (RFC
// 8414) the pre-authorized code flow needs.
func (s *Service) AuthorizationServerMetadata() map[string]any {
	return map[string]any{
		"issuer":                s.publicURL,
		"token_endpoint":        s.urlFor("/oid4vci/token"),
		"grant_types_supported": []string{GrantPreAuthorized},
		"pre-authorized_grant_anonymous_access_supported": true,
		"response_types_supported":                        []string{},
	}
}

// TokenResponse answers a successful token request.
type TokenResponse struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	ExpiresIn   int    `json:"expires_in"`
}

// Token exchanges a pre-authorized code (and transaction code, when the offer has one)
// for an access token. A code works once, while the offer is valid; wrong transaction
// codes count and burn the offer after a few.
func (s *Service) Token(ctx context.Context, form url.Values) (TokenResponse, *OAuthError) {
	if form.Get("grant_type") != GrantPreAuthorized {
		return TokenResponse{}, oauthErr(400, "unsupported_grant_type", "only the pre-authorized code grant is supported")
	}
	code := form.Get("pre-authorized_code")
	if code == "" || len(code) > 200 {
		return TokenResponse{}, oauthErr(400, "invalid_request", "pre-authorized_code is required")
	}
	o, err := s.store.OfferByCode(ctx, sha(code))
	switch {
	case errors.Is(err, store.ErrNotFound), errors.Is(err, store.ErrInvalid):
		s.auditDenied(ctx, "anonymous", "oid4vci.denied", "unknown pre-authorized code")
		return TokenResponse{}, oauthErr(400, "invalid_grant", "the pre-authorized code is not valid")
	case err != nil:
		return TokenResponse{}, oauthErr(500, "server_error", "could not read the offer")
	case o.State != store.OfferOffered:
		s.auditDenied(ctx, "anonymous", "oid4vci.denied", "pre-authorized code reused for "+o.ID)
		return TokenResponse{}, oauthErr(400, "invalid_grant", "the pre-authorized code has been used")
	case !s.now().Before(o.ExpiresAt):
		return TokenResponse{}, oauthErr(400, "invalid_grant", "the offer has expired")
	}
	if o.TxCodeHash != nil {
		tx := form.Get("tx_code")
		if tx == "" {
			return TokenResponse{}, oauthErr(400, "invalid_request", "this offer needs its transaction code (tx_code)")
		}
		if subtle.ConstantTimeCompare(sha(o.ID+":"+tx), o.TxCodeHash) != 1 {
			n, err := s.store.FailOfferAttempt(ctx, o.ID, maxTxAttempts, s.entry("anonymous", "oid4vci.tx-code-wrong", o.ID, nil))
			if err == nil && n >= maxTxAttempts {
				return TokenResponse{}, oauthErr(400, "invalid_grant", "too many wrong transaction codes: the offer is void")
			}
			return TokenResponse{}, oauthErr(400, "invalid_grant", "the transaction code is wrong")
		}
	}
	var raw [32]byte
	rand.Read(raw[:])
	token := base64.RawURLEncoding.EncodeToString(raw[:])
	err = s.store.RedeemOffer(ctx, o.ID, sha(token), s.now().Add(tokenTTL), s.entry("anonymous", "offer.redeem", o.ID, nil))
	switch {
	case errors.Is(err, store.ErrConflict):
		return TokenResponse{}, oauthErr(400, "invalid_grant", "the pre-authorized code has been used")
	case err != nil:
		return TokenResponse{}, oauthErr(500, "server_error", "could not redeem the offer")
	}
	return TokenResponse{AccessToken: token, TokenType: "Bearer", ExpiresIn: int(tokenTTL.Seconds())}, nil
}

// Nonce returns a fresh single-use c_nonce for a proof of possession.
func (s *Service) Nonce(ctx context.Context) (string, error) {
	if ok, _ := s.nonces.allow(time.Now()); !ok {
		return "", errorf(CodeUnavailable, "too many nonce requests; try again in a second")
	}
	var raw [24]byte
	rand.Read(raw[:])
	nonce := base64.RawURLEncoding.EncodeToString(raw[:])
	if err := s.store.CreateNonce(ctx, sha(nonce), s.now().Add(nonceTTL)); err != nil {
		return "", internal("store nonce", err)
	}
	return nonce, nil
}

// credentialRequest is the body of a credential request.
type credentialRequest struct {
	ConfigurationID string `json:"credential_configuration_id"`
	Proofs          *struct {
		JWT []string `json:"jwt"`
	} `json:"proofs"`
	// Proof is the single-proof form of earlier drafts, accepted too.
	Proof *struct {
		ProofType string `json:"proof_type"`
		JWT       string `json:"jwt"`
	} `json:"proof"`
}

// CredentialResponse answers a credential request: the credential, a compact string
// (vc+jwt, SD-JWT) or a JSON object (Data Integrity).
type CredentialResponse struct {
	Credentials []struct {
		Credential any `json:"credential"`
	} `json:"credentials"`
}

// IssueOffered issues the credential of a redeemed offer to the wallet holding the
// access token, bound to the key whose proof of possession comes with the request. The
// proof must be signed by the member's DID (the offer's subject), over a nonce this
// service issued and nobody used, for this issuer as audience.
func (s *Service) IssueOffered(ctx context.Context, authorization string, body []byte) (CredentialResponse, *OAuthError) {
	token, ok := strings.CutPrefix(authorization, "Bearer ")
	if !ok || token == "" || len(token) > 200 {
		return CredentialResponse{}, oauthErr(401, "invalid_token", "a bearer access token is required")
	}
	o, err := s.store.OfferByToken(ctx, sha(token))
	switch {
	case errors.Is(err, store.ErrNotFound), errors.Is(err, store.ErrInvalid):
		return CredentialResponse{}, oauthErr(401, "invalid_token", "the access token is not valid")
	case err != nil:
		return CredentialResponse{}, oauthErr(500, "server_error", "could not read the offer")
	case o.State != store.OfferRedeemed:
		return CredentialResponse{}, oauthErr(401, "invalid_token", "the access token has been used")
	case !s.now().Before(o.TokenExpiresAt):
		return CredentialResponse{}, oauthErr(401, "invalid_token", "the access token has expired")
	}
	var req credentialRequest
	if err := jsonstrict.Unmarshal(body, &req, jsonstrict.Limits{MaxBytes: 64 << 10}); err != nil {
		return CredentialResponse{}, oauthErr(400, "invalid_credential_request", "the request body is not valid JSON: %v", err)
	}
	if req.ConfigurationID != configurationID(o.Type, o.Format) {
		return CredentialResponse{}, oauthErr(400, "unknown_credential_configuration", "this access token is for %s", configurationID(o.Type, o.Format))
	}
	var proof string
	switch {
	case req.Proofs != nil && len(req.Proofs.JWT) == 1 && req.Proof == nil:
		proof = req.Proofs.JWT[0]
	case req.Proof != nil && req.Proofs == nil && req.Proof.ProofType == "jwt":
		proof = req.Proof.JWT
	default:
		return CredentialResponse{}, oauthErr(400, "invalid_credential_request", "exactly one jwt proof is required")
	}
	holder, holderJWK, oerr := s.checkProof(ctx, proof)
	if oerr != nil {
		s.auditDenied(ctx, "anonymous", "oid4vci.denied", oerr.Code+" for "+o.ID)
		return CredentialResponse{}, oerr
	}
	if holder != o.Subject {
		s.auditDenied(ctx, "anonymous", "oid4vci.denied", "proof by another key than the member's for "+o.ID)
		return CredentialResponse{}, oauthErr(400, "invalid_proof", "the proof is signed by another DID than the member's the offer is for")
	}
	var sp issueSpec
	if err := json.Unmarshal(o.Request, &sp); err != nil {
		return CredentialResponse{}, oauthErr(500, "server_error", "could not read the offer")
	}
	issued, err := s.issueNow(ctx, o.CreatedBy, sp, issueLink{offerID: o.ID, holderJWK: holderJWK}, nil)
	if err != nil {
		if CodeOf(err) == CodeApprovalClosed {
			return CredentialResponse{}, oauthErr(401, "invalid_token", "the access token has been used")
		}
		return CredentialResponse{}, oauthErr(500, "server_error", "could not issue the credential")
	}
	var out CredentialResponse
	out.Credentials = make([]struct {
		Credential any `json:"credential"`
	}, 1)
	if sp.Format == FormatJWT || sp.Format == FormatSDJWT {
		out.Credentials[0].Credential = string(issued.Record.Body)
	} else {
		out.Credentials[0].Credential = issued.VerifiableCredential
	}
	return out, nil
}

// checkProof verifies an OpenID4VCI proof of possession JWT and consumes its nonce. It
// returns the holder's DID and public JWK.
func (s *Service) checkProof(ctx context.Context, proof string) (string, map[string]any, *OAuthError) {
	t, err := jose.ParseJWS([]byte(proof))
	if err != nil {
		return "", nil, oauthErr(400, "invalid_proof", "the proof is not a compact JWS: %v", err)
	}
	if t.Typ != proofTyp {
		return "", nil, oauthErr(400, "invalid_proof", "the proof's typ must be %s", proofTyp)
	}
	holder, _, ok := strings.Cut(t.Kid, "#")
	if !ok || !(strings.HasPrefix(holder, "did:key:") || strings.HasPrefix(holder, "did:jwk:")) {
		return "", nil, oauthErr(400, "invalid_proof", "the proof's kid must be a did:key or did:jwk URL")
	}
	if _, err := did.Parse(holder); err != nil {
		return "", nil, oauthErr(400, "invalid_proof", "the proof's kid is not a DID URL")
	}
	_, pub, err := s.resolver.ResolveVerificationMethod(ctx, t.Kid, did.Authentication)
	if err != nil {
		return "", nil, oauthErr(400, "invalid_proof", "the proof's key cannot be resolved: %v", err)
	}
	if err := t.Verify(pub); err != nil {
		return "", nil, oauthErr(400, "invalid_proof", "the proof's signature does not verify")
	}
	var claims map[string]any
	if err := jsonstrict.Unmarshal(t.Payload, &claims, jsonstrict.Limits{MaxBytes: 8 << 10}); err != nil {
		return "", nil, oauthErr(400, "invalid_proof", "the proof's payload is not valid JSON")
	}
	switch aud := claims["aud"].(type) {
	case string:
		if aud != s.publicURL {
			return "", nil, oauthErr(400, "invalid_proof", "the proof's audience is not this issuer")
		}
	default:
		return "", nil, oauthErr(400, "invalid_proof", "the proof's aud must be this issuer's URL")
	}
	c, err := jose.ReadClaims(claims)
	if err != nil || c.IssuedAt.IsZero() {
		return "", nil, oauthErr(400, "invalid_proof", "the proof needs an iat")
	}
	if now := s.now(); c.IssuedAt.After(now.Add(time.Minute)) || now.Sub(c.IssuedAt) > proofMaxAge {
		return "", nil, oauthErr(400, "invalid_proof", "the proof's iat is not recent")
	}
	nonce, _ := claims["nonce"].(string)
	if nonce == "" {
		return "", nil, oauthErr(400, "invalid_nonce", "the proof carries no nonce; get one from the nonce endpoint")
	}
	if err := s.store.ConsumeNonce(ctx, sha(nonce), s.now()); err != nil {
		return "", nil, oauthErr(400, "invalid_nonce", "the nonce is unknown, used or expired; get a new one from the nonce endpoint")
	}
	jwk, err := keys.PublicJWK(pub)
	if err != nil {
		return "", nil, oauthErr(400, "invalid_proof", "unsupported key")
	}
	return holder, jwk, nil
}

func toAny(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}
