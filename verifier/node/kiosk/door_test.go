package kiosk_test

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/civitas-net/civitas/did"
	"github.com/civitas-net/civitas/issuer"
	"github.com/civitas-net/civitas/keys"
	"github.com/civitas-net/civitas/schemas"
	"github.com/civitas-net/civitas/verifier"
	"github.com/civitas-net/civitas/verifier/node"
	"github.com/civitas-net/civitas/wallet"
)

// world is a door made of real parts: an issuer with a did:key, a member whose wallet
// holds a membership credential (vc+jwt) from it, and memberDoor, which hands out
// challenges and decides with the real verifier under a policy trusting that issuer.
type world struct {
	t       testing.TB
	now     func() time.Time
	nodeDID string
	member  *wallet.Holder
	cred    []byte
	door    *memberDoor
}

func newWorld(t testing.TB, now func() time.Time) *world {
	t.Helper()
	w := &world{t: t, now: now}
	issuerKey, err := keys.Generate(keys.Ed25519)
	if err != nil {
		t.Fatal(err)
	}
	issuerKID, err := did.KeyURL(issuerKey.Public())
	if err != nil {
		t.Fatal(err)
	}
	iss, err := issuer.New(issuer.Key{Signer: issuerKey, KeyID: issuerKID},
		issuer.WithClock(func() time.Time { return now().Add(-24 * time.Hour) }))
	if err != nil {
		t.Fatal(err)
	}
	memberKey, err := keys.Generate(keys.Ed25519)
	if err != nil {
		t.Fatal(err)
	}
	if w.member, err = wallet.NewKeyHolder(memberKey); err != nil {
		t.Fatal(err)
	}
	var subject map[string]any
	if err := json.Unmarshal(schemas.ExampleSubject("MembershipCredential"), &subject); err != nil {
		t.Fatal(err)
	}
	subject["id"] = w.member.DID
	sec, err := iss.Issue(context.Background(), issuer.Request{Type: "MembershipCredential", Subject: subject}, issuer.FormatJWT)
	if err != nil {
		t.Fatal(err)
	}
	if w.cred, err = sec.Bytes(); err != nil {
		t.Fatal(err)
	}
	nodeKey, err := keys.Generate(keys.Ed25519)
	if err != nil {
		t.Fatal(err)
	}
	if w.nodeDID, err = did.KeyDID(nodeKey.Public()); err != nil {
		t.Fatal(err)
	}
	v, err := verifier.New(verifier.WithClock(now))
	if err != nil {
		t.Fatal(err)
	}
	p := verifier.DefaultPolicy()
	p.Trust = []verifier.TrustedIssuer{{DID: iss.DID(), Types: []string{"MembershipCredential"}}}
	w.door = &memberDoor{
		audience: w.nodeDID, v: v, policy: p, now: now, ttl: 2 * time.Minute,
		issued: map[string]time.Time{},
	}
	return w
}

// present makes the member's vp+jwt for a challenge.
func (w *world) present(nonce, audience string) []byte {
	w.t.Helper()
	vp, err := w.member.Present(context.Background(), [][]byte{w.cred}, wallet.Request{
		Challenge: nonce, Audience: audience, Now: w.now(),
	})
	if err != nil {
		w.t.Fatal(err)
	}
	return vp
}

// memberDoor is a node.Door for tests: it hands out challenges for its node DID and
// decides with verifier.Verify, against the challenge the presentation answers if the
// door issued it, and its own DID as the audience. The verifier's nonce store refuses
// replays.
type memberDoor struct {
	audience string
	v        *verifier.Verifier
	policy   verifier.Policy
	now      func() time.Time
	ttl      time.Duration

	mu     sync.Mutex
	issued map[string]time.Time
	seq    int64
}

var _ node.Door = (*memberDoor)(nil)

func (d *memberDoor) Challenge(context.Context) (node.Challenge, error) {
	var b [18]byte
	if _, err := rand.Read(b[:]); err != nil {
		return node.Challenge{}, err
	}
	c := node.Challenge{Nonce: base64.RawURLEncoding.EncodeToString(b[:]), Audience: d.audience, Expires: d.now().Add(d.ttl).UTC()}
	d.mu.Lock()
	d.issued[c.Nonce] = c.Expires
	d.mu.Unlock()
	return c, nil
}

func (d *memberDoor) CheckIn(ctx context.Context, raw []byte) (node.Decision, error) {
	now := d.now()
	d.mu.Lock()
	d.seq++
	dec := node.Decision{Decision: node.Refused, At: now.UTC(), Seq: d.seq}
	d.mu.Unlock()

	nonce, _ := verifier.PresentationChallenge(raw)
	d.mu.Lock()
	expires, ok := d.issued[nonce]
	d.mu.Unlock()
	if !ok || now.After(expires) {
		dec.Codes = []string{"unknown_challenge"}
		dec.Reasons = []string{words("unknown_challenge")}
		return dec, nil
	}
	p := d.policy
	p.Challenge, p.Audience = nonce, d.audience
	res, err := d.v.Verify(ctx, raw, p)
	if len(res.Credentials) > 0 {
		for _, t := range res.Credentials[0].Types {
			if t != "VerifiableCredential" {
				dec.Type = t
			}
		}
	}
	if err == nil {
		dec.Decision, dec.Admitted = node.Admitted, true
		return dec, nil
	}
	if errors.Is(err, &verifier.Error{Code: verifier.Internal}) {
		return node.Decision{}, fmt.Errorf("door: %w", err)
	}
	for _, c := range res.Codes() {
		dec.Codes = append(dec.Codes, string(c))
		dec.Reasons = append(dec.Reasons, words(string(c)))
	}
	return dec, nil
}

// Reasons in a door person's words (the real door has its own table).
var reasonWords = map[string]string{
	"unknown_challenge":                 "The code answers no challenge this door showed. Ask the member to scan the current code.",
	string(verifier.Replayed):           "This code was already used. Ask the member to scan the current code.",
	string(verifier.AudienceMismatch):   "The code was made for another door.",
	string(verifier.ChallengeMismatch):  "The code answers another challenge.",
	string(verifier.Expired):            "The membership has expired.",
	string(verifier.Revoked):            "The membership was revoked.",
	string(verifier.IssuerUntrusted):    "The credential is from an issuer this door does not trust.",
	string(verifier.SignatureInvalid):   "The code's signature is not valid.",
	string(verifier.Malformed):          "The code could not be read as a member's presentation.",
	string(verifier.UnsupportedFormat):  "The code could not be read as a member's presentation.",
	string(verifier.HolderMismatch):     "The person presenting is not the member named in the credential.",
	string(verifier.StatusUnavailable):  "The membership's status could not be checked.",
	string(verifier.HolderUnresolvable): "The member's key could not be found.",
}

func words(code string) string {
	if w, ok := reasonWords[code]; ok {
		return w
	}
	return "The code could not be checked (" + code + ")."
}
