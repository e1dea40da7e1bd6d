package node

import (
	"context"
	"crypto"
	"encoding/base64"
	"encoding/json"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/civitas-net/civitas/credential"
	"github.com/civitas-net/civitas/credential/jose"
	"github.com/civitas-net/civitas/did"
	"github.com/civitas-net/civitas/internal/keystore"
	"github.com/civitas-net/civitas/keys"
	"github.com/civitas-net/civitas/schemas"
	"github.com/civitas-net/civitas/statuslist"
	"github.com/civitas-net/civitas/verifier"
	"github.com/civitas-net/civitas/wallet"
)

// Nodes of the test community.
const (
	hereID  = "https://harbourcommons.example/nodes/alfama-house"
	otherID = "https://harbourcommons.example/nodes/graca-hub"
	listURL = "https://harbourcommons.example/status/1"
)

// testClock is a settable clock.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// community is a small issuer made by hand for node tests: a did:key issuer, vc+jwt
// credentials with revocation entries in one status list, and signed bundles.
type community struct {
	t     testing.TB
	clock *testClock
	key   crypto.Signer
	kid   string
	doc   *did.Document
	list  *statuslist.List
	next  int
}

func newCommunity(t testing.TB) *community {
	t.Helper()
	key, err := keys.Generate(keys.Ed25519)
	if err != nil {
		t.Fatal(err)
	}
	kid, _ := did.KeyURL(key.Public())
	id, _ := did.KeyDID(key.Public())
	doc, err := did.NewResolver().Resolve(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	list, _ := statuslist.New(statuslist.MinSize)
	return &community{t: t, clock: &testClock{t: time.Now().UTC().Truncate(time.Second)}, key: key, kid: kid, doc: doc, list: list}
}

// issuer is the community's DID.
func (c *community) issuer() string { return c.doc.ID }

// member is a new wallet holder.
func (c *community) member() *wallet.Holder {
	c.t.Helper()
	key, err := keys.Generate(keys.Ed25519)
	if err != nil {
		c.t.Fatal(err)
	}
	h, err := wallet.NewKeyHolder(key)
	if err != nil {
		c.t.Fatal(err)
	}
	return h
}

// issue signs a credential of typ for holder (its subject the type's example with
// change applied) and returns it with its status index.
func (c *community) issue(typ string, holder *wallet.Holder, change func(subject, doc map[string]any)) ([]byte, int) {
	c.t.Helper()
	var subject map[string]any
	if err := json.Unmarshal(schemas.ExampleSubject(typ), &subject); err != nil {
		c.t.Fatal(err)
	}
	subject["id"] = holder.DID
	t, _ := schemas.Lookup(typ)
	types := []any{}
	for _, s := range t.Types {
		types = append(types, s)
	}
	index := c.next
	c.next++
	entry, err := statuslist.NewEntry(listURL, statuslist.PurposeRevocation, index)
	if err != nil {
		c.t.Fatal(err)
	}
	doc := map[string]any{
		"@context":          []any{credential.ContextV2, schemas.ContextURL},
		"id":                "urn:uuid:" + randomID(),
		"type":              types,
		"issuer":            c.issuer(),
		"validFrom":         credential.FormatDateTime(c.clock.now().Add(-time.Hour)),
		"credentialSubject": subject,
		"credentialSchema":  map[string]any{"id": t.SchemaID, "type": "JsonSchema"},
		"credentialStatus":  []any{entry.Map()},
	}
	if change != nil {
		change(subject, doc)
	}
	raw, err := jose.SignCredential(doc, c.key, c.kid)
	if err != nil {
		c.t.Fatal(err)
	}
	return []byte(raw), index
}

// resident issues a residency at nodeID covering today.
func (c *community) resident(holder *wallet.Holder, nodeID string) []byte {
	raw, _ := c.issue(schemas.Residency, holder, func(s, _ map[string]any) {
		s["node"].(map[string]any)["id"] = nodeID
		today := c.clock.now()
		s["residencePeriod"] = map[string]any{"from": today.AddDate(0, 0, -3).Format(time.DateOnly), "until": today.AddDate(0, 0, 3).Format(time.DateOnly)}
	})
	return raw
}

// statusList returns the signed status list credential as it is now.
func (c *community) statusList() string {
	c.t.Helper()
	doc, err := statuslist.Credential(listURL, c.issuer(), statuslist.PurposeRevocation, c.list, c.clock.now().Add(-time.Minute), time.Time{})
	if err != nil {
		c.t.Fatal(err)
	}
	raw, err := jose.SignCredential(doc, c.key, c.kid)
	if err != nil {
		c.t.Fatal(err)
	}
	return raw
}

// bundleFor returns the bundle for nodeID as it is now, before signing.
func (c *community) bundleFor(nodeID string) *Bundle {
	now := c.clock.now()
	var types []string
	for _, t := range schemas.Types() {
		types = append(types, t.Name)
	}
	return &Bundle{
		Type: "CivitasNodeBundle", Version: now.UnixMicro(), Issuer: c.issuer(), Service: "https://harbourcommons.example",
		Node: NodeInfo{ID: nodeID, Name: "Alfama House"}, IssuedAt: now, ExpiresAt: now.Add(7 * 24 * time.Hour),
		Trust:        []verifier.TrustedIssuer{{DID: c.issuer(), Types: types}},
		DIDDocuments: []*did.Document{c.doc}, StatusLists: []string{c.statusList()},
		Policy: Policy{
			Rules:        []Rule{{Type: schemas.Membership}, {Type: schemas.Residency, ResidentHere: true, CurrentResidency: true}},
			MaxStaleness: 86400, StaleFallback: FallbackRefuse, ChallengeTTL: 120, Leeway: 60,
		},
		PseudonymKey: base64.RawURLEncoding.EncodeToString([]byte("a community pseudonym key, 32 b!")),
	}
}

// sign signs b with the community's key.
func (c *community) sign(b *Bundle) []byte {
	c.t.Helper()
	raw, err := SignBundle(b, c.key, c.kid)
	if err != nil {
		c.t.Fatal(err)
	}
	return []byte(raw)
}

// door sets up a node from a bundle in a new folder.
func (c *community) door(bundle []byte) *Node {
	c.t.Helper()
	n, err := Init(context.Background(), filepath.Join(c.t.TempDir(), "node"), bundle, c.doc, c.options())
	if err != nil {
		c.t.Fatal(err)
	}
	c.t.Cleanup(func() { n.Close() })
	return n
}

func (c *community) options() Options {
	return Options{Now: c.clock.now, Passphrase: []byte("test passphrase"), Params: keystore.MinParams}
}

// present answers a fresh challenge of n with creds, in format.
func (c *community) present(n *Node, h *wallet.Holder, format string, creds ...[]byte) []byte {
	c.t.Helper()
	ch, err := n.Challenge(context.Background())
	if err != nil {
		c.t.Fatal(err)
	}
	vp, err := h.Present(context.Background(), creds, wallet.Request{Challenge: ch.Nonce, Audience: ch.Audience, Format: format, Now: c.clock.now()})
	if err != nil {
		c.t.Fatal(err)
	}
	return vp
}

// checkIn decides on vp at n, failing the test on a door error.
func (c *community) checkIn(n *Node, vp []byte) Decision {
	c.t.Helper()
	d, err := n.CheckIn(context.Background(), vp)
	if err != nil {
		c.t.Fatal(err)
	}
	return d
}
