package node

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/civitas-net/civitas/credential/jose"
	"github.com/civitas-net/civitas/did"
	"github.com/civitas-net/civitas/keys"
	"github.com/civitas-net/civitas/schemas"
	"github.com/civitas-net/civitas/wallet"
)

func randomID() string {
	var b [16]byte
	rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

func want(t *testing.T, name string, d Decision, decision string, codes ...string) {
	t.Helper()
	if d.Decision != decision || !slices.Equal(d.Codes, codes) || d.Admitted != (decision != Refused) {
		t.Fatalf("%s: %s %v, want %s %v", name, d.Decision, d.Codes, decision, codes)
	}
}

// TestBundleRefused feeds Init bad bundles: each is refused with ErrBundle (or
// ErrBundleExpired) and leaves nothing behind.
func TestBundleRefused(t *testing.T) {
	c := newCommunity(t)
	stranger := newCommunity(t)
	stranger.clock = c.clock
	good := c.sign(c.bundleFor(hereID))

	cases := map[string]struct {
		raw     func() []byte
		expired bool
	}{
		"tampered payload": {raw: func() []byte {
			parts := bytes.Split(slices.Clone(good), []byte("."))
			payload, _ := base64.RawURLEncoding.DecodeString(string(parts[1]))
			payload = bytes.Replace(payload, []byte(`"refuse"`), []byte(`"admit-and-flag"`), 1)
			parts[1] = []byte(base64.RawURLEncoding.EncodeToString(payload))
			return bytes.Join(parts, []byte("."))
		}},
		"tampered signature": {raw: func() []byte {
			raw := slices.Clone(good)
			raw[len(raw)-5] ^= 'A' ^ 'B'
			if raw[len(raw)-5] == good[len(good)-5] {
				raw[len(raw)-5] = 'Q'
			}
			return raw
		}},
		"foreign issuer": {raw: func() []byte { b := stranger.bundleFor(hereID); return stranger.sign(b) }},
		"claims our issuer, other key": {raw: func() []byte {
			b := c.bundleFor(hereID)
			payload, _ := json.Marshal(b)
			raw, _ := jose.SignJWS(payload, BundleTyp, c.kid, stranger.key)
			return []byte(raw)
		}},
		"expired": {expired: true, raw: func() []byte {
			b := c.bundleFor(hereID)
			b.IssuedAt, b.ExpiresAt = b.IssuedAt.Add(-8*24*time.Hour), b.IssuedAt.Add(-time.Hour)
			return c.sign(b)
		}},
		"issued in the future": {raw: func() []byte {
			b := c.bundleFor(hereID)
			b.IssuedAt = b.IssuedAt.Add(time.Hour)
			return c.sign(b)
		}},
		"not a bundle typ": {raw: func() []byte {
			payload, _ := json.Marshal(c.bundleFor(hereID))
			raw, _ := jose.SignJWS(payload, "JWT", c.kid, c.key)
			return []byte(raw)
		}},
		"policy without rules": {raw: func() []byte {
			b := c.bundleFor(hereID)
			b.Policy.Rules = nil
			return c.sign(b)
		}},
		"unknown fallback": {raw: func() []byte {
			b := c.bundleFor(hereID)
			b.Policy.StaleFallback = "admit"
			return c.sign(b)
		}},
		"trusts nobody": {raw: func() []byte {
			b := c.bundleFor(hereID)
			b.Trust = nil
			return c.sign(b)
		}},
		"status list of a stranger": {raw: func() []byte {
			b := c.bundleFor(hereID)
			b.StatusLists = []string{stranger.statusList()}
			return c.sign(b)
		}},
		"status list too short": {raw: func() []byte {
			b := c.bundleFor(hereID)
			b.StatusLists = []string{c.statusListOf(make([]byte, 1024))}
			return c.sign(b)
		}},
		"gzip bomb in a status list": {raw: func() []byte {
			b := c.bundleFor(hereID)
			b.StatusLists = []string{c.statusListOf(make([]byte, 4<<20))}
			return c.sign(b)
		}},
		"forged status list": {raw: func() []byte {
			b := c.bundleFor(hereID)
			list := b.StatusLists[0]
			b.StatusLists = []string{list[:len(list)-4] + "AAAA"}
			return c.sign(b)
		}},
		"no pseudonym key": {raw: func() []byte {
			b := c.bundleFor(hereID)
			b.PseudonymKey = ""
			return c.sign(b)
		}},
		"not a JWS": {raw: func() []byte { return []byte("hello") }},
		"empty":     {raw: func() []byte { return nil }},
		"huge":      {raw: func() []byte { return bytes.Repeat([]byte("a"), MaxBundleSize+1) }},
		"unsigned":  {raw: func() []byte { p := bytes.Split(good, []byte(".")); return append(append(p[0], '.'), p[1]...) }},
		"extra field": {raw: func() []byte {
			return signRaw(c, strings.Replace(string(payloadOf(t, good)), `{"type"`, `{"admitAll":true,"type"`, 1))
		}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "node")
			_, err := Init(context.Background(), dir, tc.raw(), c.doc, c.options())
			wantErr := ErrBundle
			if tc.expired {
				wantErr = ErrBundleExpired
			}
			if !errors.Is(err, wantErr) {
				t.Fatalf("got %v, want %v", err, wantErr)
			}
			if _, serr := os.Stat(dir); !errors.Is(serr, os.ErrNotExist) {
				t.Fatalf("a refused bundle left %s behind", dir)
			}
		})
	}
	if _, err := Init(context.Background(), filepath.Join(t.TempDir(), "node"), good, c.doc, c.options()); err != nil {
		t.Fatalf("the good bundle: %v", err)
	}
}

func payloadOf(t *testing.T, compact []byte) []byte {
	tok, err := jose.ParseJWS(compact)
	if err != nil {
		t.Fatal(err)
	}
	return tok.Payload
}

func signRaw(c *community, payload string) []byte {
	raw, err := jose.SignJWS([]byte(payload), BundleTyp, c.kid, c.key)
	if err != nil {
		c.t.Fatal(err)
	}
	return []byte(raw)
}

// TestDoorDecisions covers the decisions a door makes offline, in every presentation
// format, and what the ledger keeps of them.
func TestDoorDecisions(t *testing.T) {
	c := newCommunity(t)
	ada, bo := c.member(), c.member()
	member, _ := c.issue(schemas.Membership, ada, nil)
	revoked, idx := c.issue(schemas.Membership, bo, nil)
	c.list.Set(idx, true)
	here, elsewhere := c.resident(ada, hereID), c.resident(bo, otherID)
	past, _ := c.issue(schemas.Residency, ada, func(s, _ map[string]any) {
		s["node"].(map[string]any)["id"] = hereID
		s["residencePeriod"] = map[string]any{"from": "2020-01-01", "until": "2020-12-31"}
	})
	badge, _ := c.issue(schemas.Contribution, ada, nil)
	n := c.door(c.sign(c.bundleFor(hereID)))

	for _, format := range []string{wallet.FormatJWT, wallet.FormatEdDSARDFC, wallet.FormatEdDSAJCS} {
		want(t, format+" member", c.checkIn(n, c.present(n, ada, format, member)), Admitted)
	}
	d := c.checkIn(n, c.present(n, ada, "", here))
	want(t, "resident", d, Admitted)
	if d.Type != schemas.Residency || d.Seq == 0 || d.At.IsZero() {
		t.Fatalf("decision %+v", d)
	}
	want(t, "revoked", c.checkIn(n, c.present(n, bo, "", revoked)), Refused, "revoked")
	want(t, "resident elsewhere", c.checkIn(n, c.present(n, bo, "", elsewhere)), Refused, CodeNotResidentHere)
	want(t, "past residency", c.checkIn(n, c.present(n, ada, "", past)), Refused, CodeResidencyNotCurrent)
	want(t, "badge only", c.checkIn(n, c.present(n, ada, "", badge)), Refused, CodeNoAdmittingCredential)
	want(t, "badge and membership", c.checkIn(n, c.present(n, ada, "", badge, member)), Admitted)
	want(t, "someone else's credential", c.checkIn(n, c.present(n, bo, "", member)), Refused, "holder_mismatch")
	want(t, "garbage", c.checkIn(n, []byte("not a presentation")), Refused, "malformed")
	want(t, "empty", c.checkIn(n, nil), Refused, "malformed")

	// Challenges: unknown, expired, answered twice.
	vp, _ := ada.Present(context.Background(), [][]byte{member}, wallet.Request{Challenge: "made-up", Audience: n.DID()})
	want(t, "made-up challenge", c.checkIn(n, vp), Refused, CodeUnknownChallenge)
	vp = c.present(n, ada, "", member)
	want(t, "first use", c.checkIn(n, vp), Admitted)
	want(t, "replayed", c.checkIn(n, vp), Refused, "replayed")
	vp = c.present(n, ada, "", member)
	c.clock.advance(3 * time.Minute)
	want(t, "expired challenge", c.checkIn(n, vp), Refused, CodeUnknownChallenge)

	// Credentials from issuers the bundle does not trust.
	stranger := newCommunity(t)
	stranger.clock = c.clock
	foreign, _ := stranger.issue(schemas.Membership, ada, nil)
	d = c.checkIn(n, c.present(n, ada, "", foreign))
	if d.Admitted || !slices.Contains(d.Codes, "issuer_untrusted") && !slices.Contains(d.Codes, "issuer_unresolvable") {
		t.Fatalf("a stranger's credential: %+v", d)
	}
	for _, r := range d.Reasons {
		if strings.Contains(r, "_") {
			t.Fatalf("reason %q is not in words", r)
		}
	}

	entries := n.Ledger().Since(time.Time{})
	if len(entries) != 17 {
		t.Fatalf("%d ledger entries", len(entries))
	}
	pub, _ := did.NewResolver().Resolve(context.Background(), n.DID())
	key, _ := pub.VerificationMethod[0].PublicKey()
	if err := VerifyChain(entries, key, 0, ""); err != nil {
		t.Fatal(err)
	}
	refs := map[string]bool{}
	for _, e := range entries[:3] {
		refs[e.SubjectRef] = true
	}
	if len(refs) != 1 || entries[0].SubjectRef == "" {
		t.Fatalf("one credential should have one subject reference: %v", refs)
	}
	raw, _ := os.ReadFile(filepath.Join(n.dir, ledgerFile))
	for _, secret := range []string{ada.DID, bo.DID, "Alfama", string(member[:40])} {
		if bytes.Contains(raw, []byte(secret)) {
			t.Fatalf("the ledger holds %q", secret)
		}
	}
}

// TestStaleBundle checks the policy's fallback for a bundle older than its maximum
// staleness, and that an expired bundle admits nobody.
func TestStaleBundle(t *testing.T) {
	for _, fallback := range []string{FallbackRefuse, FallbackAdmitAndFlag} {
		t.Run(fallback, func(t *testing.T) {
			c := newCommunity(t)
			ada := c.member()
			member, _ := c.issue(schemas.Membership, ada, func(_, doc map[string]any) { delete(doc, "validUntil") })
			b := c.bundleFor(hereID)
			b.Policy.MaxStaleness, b.Policy.StaleFallback = 3600, fallback
			n := c.door(c.sign(b))
			want(t, "fresh", c.checkIn(n, c.present(n, ada, "", member)), Admitted)
			c.clock.advance(2 * time.Hour)
			d := c.checkIn(n, c.present(n, ada, "", member))
			if fallback == FallbackRefuse {
				want(t, "stale", d, Refused, CodeBundleStale)
			} else {
				want(t, "stale", d, AdmittedFlagged, CodeBundleStale)
			}
			c.clock.advance(8 * 24 * time.Hour)
			want(t, "expired bundle", c.checkIn(n, c.present(n, ada, "", member)), Refused, CodeBundleExpired)
			// A node with an expired bundle still opens, to say why it refuses.
			n.Close()
			again, err := Open(n.dir, c.options())
			if err != nil {
				t.Fatal(err)
			}
			defer again.Close()
			want(t, "expired bundle, reopened", c.checkIn(again, c.present(again, ada, "", member)), Refused, CodeBundleExpired)
		})
	}
}

// TestReopen checks what survives a restart: the key, the ledger, the challenges handed
// out, and the presentations already used.
func TestReopen(t *testing.T) {
	c := newCommunity(t)
	ada := c.member()
	member, _ := c.issue(schemas.Membership, ada, nil)
	n := c.door(c.sign(c.bundleFor(hereID)))
	used := c.present(n, ada, "", member)
	want(t, "admitted", c.checkIn(n, used), Admitted)
	pending := c.present(n, ada, "", member)
	id := n.DID()
	n.Close()

	if _, err := Open(n.dir, Options{Now: c.clock.now, Passphrase: []byte("wrong")}); err == nil {
		t.Fatal("opened with the wrong passphrase")
	}
	again, err := Open(n.dir, c.options())
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	if again.DID() != id {
		t.Fatal("the node's DID changed")
	}
	if _, err := Open(n.dir, c.options()); !errors.Is(err, ErrLocked) {
		t.Fatalf("a second process opened the node: %v", err)
	}
	want(t, "used before the restart", c.checkIn(again, used), Refused, "replayed")
	want(t, "challenge from before the restart", c.checkIn(again, pending), Admitted)
	if head, _ := again.Ledger().Head(); head != 3 {
		t.Fatalf("ledger head %d", head)
	}
	if _, err := Init(context.Background(), n.dir, c.sign(c.bundleFor(hereID)), c.doc, c.options()); !errors.Is(err, ErrExists) {
		t.Fatalf("init over a node: %v", err)
	}

	// The key is sealed: no private key material in clear, files private.
	for _, name := range []string{keyFile, configFile, bundleFile, ledgerFile} {
		info, err := os.Stat(filepath.Join(n.dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if info.Mode().Perm() != 0o600 {
			t.Fatalf("%s has mode %v", name, info.Mode().Perm())
		}
	}
	sealed, _ := os.ReadFile(filepath.Join(n.dir, keyFile))
	priv, _ := keys.MarshalPrivateJWK(again.key)
	var jwk map[string]any
	json.Unmarshal(priv, &jwk)
	if bytes.Contains(sealed, []byte(jwk["d"].(string))) || bytes.Contains(sealed, []byte(`"d"`)) {
		t.Fatal("the node key is stored in clear")
	}
}

// TestRefresh runs a node against a stand-in issuer endpoint: a newer bundle is
// adopted, and one that is older, another node's, expired or signed by a stranger is
// refused, leaving the current one in place; requests carry the node's signature.
func TestRefresh(t *testing.T) {
	c := newCommunity(t)
	stranger := newCommunity(t)
	stranger.clock = c.clock
	var serve atomic.Value // []byte
	var gotAuth atomic.Value
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotAuth.Store(r.Header.Get("Authorization"))
		if r.URL.EscapedPath() != "/nodes/"+url.PathEscape(hereID)+"/bundle" {
			http.NotFound(w, r)
			return
		}
		w.Write(serve.Load().([]byte))
	}))
	defer srv.Close()
	first := c.bundleFor(hereID)
	first.Service, first.Node.DID = srv.URL, "" // enrolled below by hand
	n := c.door(c.sign(first))
	n.cfg.Enrolled = true
	v1 := n.Bundle().Version

	bundle := func(change func(*Bundle)) []byte {
		c.clock.advance(time.Second)
		b := c.bundleFor(hereID)
		b.Service = srv.URL
		if change != nil {
			change(b)
		}
		return c.sign(b)
	}
	older := bundle(func(b *Bundle) { b.Version = v1 - 1 })
	for name, raw := range map[string][]byte{
		"another node's": bundle(func(b *Bundle) { b.Node.ID = otherID }),
		"expired":        bundle(func(b *Bundle) { b.ExpiresAt = b.IssuedAt.Add(-time.Second) }),
		"a stranger's":   func() []byte { b := stranger.bundleFor(hereID); return stranger.sign(b) }(),
		"garbage":        []byte("<html>"),
	} {
		serve.Store(raw)
		if _, err := n.Refresh(context.Background(), Client{}); err == nil {
			t.Fatalf("%s bundle adopted", name)
		}
		if n.Bundle().Version != v1 {
			t.Fatalf("%s bundle replaced the current one", name)
		}
	}
	serve.Store(older)
	if changed, err := n.Refresh(context.Background(), Client{}); err != nil || changed {
		t.Fatalf("older bundle: %v %v", changed, err)
	}
	auth, _ := gotAuth.Load().(string)
	tok, ok := strings.CutPrefix(auth, AuthScheme+" ")
	if !ok {
		t.Fatalf("unsigned request: %q", auth)
	}
	if _, err := VerifyRequest(context.Background(), tok, n.DID(), "GET", srv.URL+"/nodes/"+url.PathEscape(hereID)+"/bundle", c.clock.now()); err != nil {
		t.Fatalf("request token: %v", err)
	}

	// A newer bundle, with a revocation made since, is adopted and kept on disk.
	ada := c.member()
	member, idx := c.issue(schemas.Membership, ada, nil)
	want(t, "before revocation", c.checkIn(n, c.present(n, ada, "", member)), Admitted)
	c.list.Set(idx, true)
	serve.Store(bundle(nil))
	if changed, err := n.Refresh(context.Background(), Client{}); err != nil || !changed {
		t.Fatalf("newer bundle: %v %v", changed, err)
	}
	want(t, "after refresh", c.checkIn(n, c.present(n, ada, "", member)), Refused, "revoked")
	n.Close()
	again, err := Open(n.dir, c.options())
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	if again.Bundle().Version == v1 {
		t.Fatal("the refreshed bundle was not kept")
	}
}

// TestSlowClock sets a door up whose clock is three minutes behind the issuer's: the
// bundle (which allows five minutes of skew) and its status lists, valid from a minute
// before the bundle was made, are accepted, and members are admitted.
func TestSlowClock(t *testing.T) {
	c := newCommunity(t)
	ada := c.member()
	member, _ := c.issue(schemas.Membership, ada, nil)
	bundle := c.sign(c.bundleFor(hereID))
	behind := func() time.Time { return c.clock.now().Add(-3 * time.Minute) }
	o := c.options()
	o.Now = behind
	n, err := Init(context.Background(), filepath.Join(t.TempDir(), "node"), bundle, c.doc, o)
	if err != nil {
		t.Fatalf("a door three minutes slow refused a fresh bundle: %v", err)
	}
	defer n.Close()
	// The member's phone agrees with the door (skew between them is the policy's
	// leeway, tested elsewhere).
	ch, err := n.Challenge(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	vp, err := ada.Present(context.Background(), [][]byte{member}, wallet.Request{Challenge: ch.Nonce, Audience: ch.Audience, Now: behind()})
	if err != nil {
		t.Fatal(err)
	}
	want(t, "member at a slow door", c.checkIn(n, vp), Admitted)
}
