package node

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"encoding/base64"
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
	"github.com/civitas-net/civitas/did"
	"github.com/civitas-net/civitas/internal/jsonstrict"
)

// RequestTyp is the typ of the JWT a node signs to authenticate a request to its
// issuer (in the Authorization header, scheme "CivitasNode").
const RequestTyp = "civitas-node-request+jwt"

// AuthScheme is the Authorization scheme of node requests.
const AuthScheme = "CivitasNode"

// ErrNodeAuth reports a node request whose token does not verify.
var ErrNodeAuth = errors.New("node request not authenticated")

// RequestToken signs a node request: method and URL (htm, htu, as in DPoP), the time,
// and a random jti, with the node's key (kid its DID URL).
func RequestToken(key crypto.Signer, kid, method, u string, now time.Time) (string, error) {
	var jti [12]byte
	rand.Read(jti[:])
	payload, _ := json.Marshal(map[string]any{"htm": method, "htu": u, "iat": now.Unix(), "jti": base64.RawURLEncoding.EncodeToString(jti[:])})
	return jose.SignJWS(payload, RequestTyp, kid, key)
}

// VerifyRequest checks a node request token for the node whose DID is nodeDID: signed
// by that DID's key, for this method and URL, made within five minutes of now. It
// returns the node's public key, which also signs its ledger entries.
func VerifyRequest(ctx context.Context, token, nodeDID, method, u string, now time.Time) (crypto.PublicKey, error) {
	pub, err := verifyRequest(ctx, token, nodeDID, method, u, now)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrNodeAuth, err)
	}
	return pub, nil
}

func verifyRequest(ctx context.Context, token, nodeDID, method, u string, now time.Time) (crypto.PublicKey, error) {
	t, err := jose.ParseJWS([]byte(token))
	if err != nil {
		return nil, err
	}
	if t.Typ != RequestTyp || nodeDID == "" || !strings.HasPrefix(t.Kid, nodeDID+"#") {
		return nil, errors.New("not a request of this node")
	}
	if !strings.HasPrefix(nodeDID, "did:key:") {
		return nil, errors.New("node DIDs are did:key")
	}
	_, pub, err := keyResolver.ResolveVerificationMethod(ctx, t.Kid, did.Authentication)
	if err != nil {
		return nil, err
	}
	if err := t.Verify(pub); err != nil {
		return nil, err
	}
	var claims map[string]any
	if err := jsonstrict.Unmarshal(t.Payload, &claims, jsonstrict.Limits{MaxBytes: 4 << 10}); err != nil {
		return nil, err
	}
	c, err := jose.ReadClaims(claims)
	if err != nil {
		return nil, err
	}
	switch {
	case claims["htm"] != method || claims["htu"] != u:
		return nil, errors.New("made for another request")
	case c.IssuedAt.IsZero() || c.IssuedAt.After(now.Add(5*time.Minute)) || now.Sub(c.IssuedAt) > 5*time.Minute:
		return nil, errors.New("not made now")
	}
	return pub, nil
}

// Client talks to the node's issuer service.
type Client struct {
	// HTTP makes the requests (default: 10 s timeout, no redirects).
	HTTP *http.Client
}

func (c Client) http() *http.Client {
	if c.HTTP != nil {
		return c.HTTP
	}
	return &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// checkService accepts https URLs, and http only on loopback (a local issuer).
func checkService(s string) error {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return fmt.Errorf("the issuer service URL %q is not a URL", s)
	}
	if u.Scheme == "https" {
		return nil
	}
	if ip := net.ParseIP(u.Hostname()); u.Scheme == "http" && ((ip != nil && ip.IsLoopback()) || u.Hostname() == "localhost") {
		return nil
	}
	return fmt.Errorf("the issuer service URL %q must be https", s)
}

// maxAnswer caps answers read from the issuer: a bundle is the largest.
const maxAnswer = MaxBundleSize

// do sends a request (signed by the node when n is not nil) and reads the answer.
func (c Client) do(ctx context.Context, n *Node, method, u string, body []byte) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, method, u, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if n != nil {
		tok, err := RequestToken(n.key, n.kid, method, u, n.now())
		if err != nil {
			return nil, err
		}
		req.Header.Set("Authorization", AuthScheme+" "+tok)
	}
	resp, err := c.http().Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, u, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer+1))
	if err != nil || len(raw) > maxAnswer {
		return nil, fmt.Errorf("%s %s: unreadable or oversized answer", method, u)
	}
	if resp.StatusCode/100 != 2 {
		var p struct {
			Code   string `json:"code"`
			Detail string `json:"detail"`
		}
		json.Unmarshal(raw, &p)
		return nil, fmt.Errorf("%s %s: the issuer answered %d %s %s", method, u, resp.StatusCode, p.Code, p.Detail)
	}
	return raw, nil
}

// nodeURL is the issuer's URL of one of the node's resources.
func (n *Node) nodeURL(path string) string {
	return strings.TrimSuffix(n.cfg.Service, "/") + "/nodes/" + url.PathEscape(n.cfg.NodeID) + path
}

// Enroll registers the node's DID with its issuer, using the one-time code of its first
// bundle. It does nothing when already enrolled.
func (n *Node) Enroll(ctx context.Context, c Client) error {
	if n.cfg.Enrolled {
		return nil
	}
	if n.cfg.PendingEnrollment == nil {
		return errors.New("the node has no enrollment code: ask for a new first bundle")
	}
	if err := checkService(n.cfg.Service); err != nil {
		return err
	}
	body, _ := json.Marshal(map[string]string{"did": n.cfg.DID, "code": n.cfg.PendingEnrollment.Code})
	if _, err := c.do(ctx, nil, http.MethodPost, n.nodeURL("/enroll"), body); err != nil {
		return fmt.Errorf("enroll: %w", err)
	}
	n.cfg.Enrolled, n.cfg.PendingEnrollment = true, nil
	return writeConfig(n.dir, n.cfg)
}

// Refresh fetches a new bundle from the issuer and adopts it when it verifies against
// the pinned issuer document, is for this node and is newer than the current one. A
// newer issuer DID document in the bundle (after a key rotation) becomes the pinned one.
func (n *Node) Refresh(ctx context.Context, c Client) (bool, error) {
	if err := n.Enroll(ctx, c); err != nil {
		return false, err
	}
	if err := checkService(n.cfg.Service); err != nil {
		return false, err
	}
	raw, err := c.do(ctx, n, http.MethodGet, n.nodeURL("/bundle"), nil)
	if err != nil {
		return false, err
	}
	b, lists, err := verifyBundle(ctx, raw, n.cfg.IssuerDocument, n.cfg.NodeID, n.now())
	if err != nil {
		return false, err
	}
	if cur := n.Bundle(); cur != nil && b.Version <= cur.Version {
		return false, nil
	}
	if err := n.install(raw, b, lists, true); err != nil {
		return false, err
	}
	if doc := b.document(b.Issuer); doc != nil {
		n.cfg.IssuerDocument = doc
		if err := writeConfig(n.dir, n.cfg); err != nil {
			return true, err
		}
	}
	return true, nil
}

// SyncResult says what a sync did.
type SyncResult struct {
	// Sent is how many entries were uploaded; Stored how many the issuer had not seen.
	Sent, Stored int
	// Flagged counts entries the issuer flagged (the same credential admitted at two
	// nodes within its window).
	Flagged int
}

// Sync uploads the ledger entries the issuer has not seen.
func (n *Node) Sync(ctx context.Context, c Client) (SyncResult, error) {
	if err := n.Enroll(ctx, c); err != nil {
		return SyncResult{}, err
	}
	if err := checkService(n.cfg.Service); err != nil {
		return SyncResult{}, err
	}
	raw, err := c.do(ctx, n, http.MethodGet, n.nodeURL("/checkins/head"), nil)
	if err != nil {
		return SyncResult{}, err
	}
	var head struct {
		Seq int64 `json:"seq"`
	}
	if err := jsonstrict.Unmarshal(raw, &head, jsonstrict.Limits{MaxBytes: 4 << 10}); err != nil {
		return SyncResult{}, err
	}
	var res SyncResult
	const batch = 500
	for {
		entries := n.ledger.After(head.Seq)
		if len(entries) == 0 {
			return res, nil
		}
		if len(entries) > batch {
			entries = entries[:batch]
		}
		body, _ := json.Marshal(map[string]any{"entries": entries})
		out, err := c.do(ctx, n, http.MethodPost, n.nodeURL("/checkins"), body)
		if err != nil {
			return res, err
		}
		var ans struct {
			Stored  int   `json:"stored"`
			LastSeq int64 `json:"lastSeq"`
			Flagged int   `json:"flagged"`
		}
		if err := jsonstrict.Unmarshal(out, &ans, jsonstrict.Limits{MaxBytes: 64 << 10}); err != nil {
			return res, err
		}
		res.Sent += len(entries)
		res.Stored += ans.Stored
		res.Flagged += ans.Flagged
		if ans.LastSeq <= head.Seq {
			return res, errors.New("the issuer did not take the entries")
		}
		head.Seq = ans.LastSeq
	}
}
