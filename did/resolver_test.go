package did

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/civitas-net/civitas/keys"
)

// staticMethod serves fixed documents, keyed by DID.
type staticMethod map[string]string

func (m staticMethod) Resolve(_ context.Context, d DID) (*Document, error) {
	data, ok := m[d.String()]
	if !ok {
		return nil, fmt.Errorf("%w: %s", ErrNotFound, d)
	}
	return ParseDocument([]byte(data))
}

func TestResolveVerificationMethod(t *testing.T) {
	key, err := keys.Generate(keys.Ed25519)
	if err != nil {
		t.Fatal(err)
	}
	mb, err := keys.EncodeMultikey(key.Public())
	if err != nil {
		t.Fatal(err)
	}
	other, err := keys.Generate(keys.Ed25519)
	if err != nil {
		t.Fatal(err)
	}
	otherURL, err := KeyURL(other.Public())
	if err != nil {
		t.Fatal(err)
	}
	keyURL, err := KeyURL(key.Public())
	if err != nil {
		t.Fatal(err)
	}
	keyDID := strings.Split(keyURL, "#")[0]
	otherMB := strings.Split(otherURL, "#")[1]

	vm := func(id, ctl string) string {
		return fmt.Sprintf(`{"id":%q,"type":"Multikey","controller":%q,"publicKeyMultibase":%q}`, id, ctl, mb)
	}
	alice := `{"id":"did:example:alice",
	  "verificationMethod":[` + vm("#key-1", "did:example:alice") + `,` + vm("#key-2", "did:example:alice") + `,` +
		vm("#foreign-ctl", "did:example:mallory") + `,` + vm("did:example:mallory#k", "did:example:alice") + `,` +
		`{"id":"#legacy","type":"Ed25519VerificationKey2018","controller":"did:example:alice","publicKeyBase58":"x"}],
	  "authentication":["#key-2"],
	  "assertionMethod":["#key-1",` + vm("#emb", "did:example:alice") + `,"#foreign-ctl","did:example:mallory#k",
	    "did:example:alice#legacy","did:example:mallory#key-1"]}`
	methods := staticMethod{
		"did:example:alice":   alice,
		"did:example:mallory": `{"id":"did:example:mallory","verificationMethod":[` + vm("#key-1", "did:example:mallory") + `],"authentication":["#key-1"]}`,
		"did:example:bob":     alice, // wrong id
		"did:example:broken":  `{"id":"did:example:broken","assertionMethod":["key-1"]}`,
	}
	r := NewResolver(WithMethod("example", methods))
	ctx := context.Background()

	tests := []struct {
		name    string
		url     string
		rel     Relationship
		wantErr error
	}{
		{"relative reference", "did:example:alice#key-1", AssertionMethod, nil},
		{"embedded", "did:example:alice#emb", AssertionMethod, nil},
		{"other relationship", "did:example:alice#key-2", Authentication, nil},
		{"did:key", keyURL, AssertionMethod, nil},
		{"wrong relationship", "did:example:alice#key-2", AssertionMethod, ErrRelationship},
		{"embedded elsewhere only", "did:example:alice#emb", Authentication, ErrRelationship},
		{"did:key keyAgreement", keyURL, KeyAgreement, ErrRelationship},
		{"unknown relationship", "did:example:alice#key-1", "assertion", ErrRelationship},
		{"foreign controller", "did:example:alice#foreign-ctl", AssertionMethod, ErrRelationship},
		{"foreign did in method id", "did:example:alice#k", AssertionMethod, ErrNoVerificationMethod},
		{"foreign did listed by alice", "did:example:mallory#k", AssertionMethod, ErrNoVerificationMethod},
		{"foreign method alice lists", "did:example:mallory#key-1", AssertionMethod, ErrRelationship},
		{"unknown fragment", "did:example:alice#nope", AssertionMethod, ErrNoVerificationMethod},
		{"fragment path trick", "did:example:alice#../key-1", AssertionMethod, ErrNoVerificationMethod},
		{"fragment query trick", "did:example:alice#key-1?x", AssertionMethod, ErrNoVerificationMethod},
		{"percent-encoded fragment", "did:example:alice#%6Bey-1", AssertionMethod, ErrNoVerificationMethod},
		{"did:key path trick", keyDID + "#../x", AssertionMethod, ErrNoVerificationMethod},
		{"did:key foreign key fragment", keyDID + "#" + otherMB, AssertionMethod, ErrNoVerificationMethod},
		{"did:key fragment of other did", otherURL[:strings.Index(otherURL, "#")] + "#" + strings.TrimPrefix(keyDID, "did:key:"), AssertionMethod, ErrNoVerificationMethod},
		{"path", "did:example:alice/../alice#key-1", AssertionMethod, ErrInvalidDID},
		{"did:key path", keyDID + "/x#" + strings.TrimPrefix(keyDID, "did:key:"), AssertionMethod, ErrInvalidDID},
		{"query", "did:example:alice?versionId=1#key-1", AssertionMethod, ErrInvalidDID},
		{"no fragment", "did:example:alice", AssertionMethod, ErrInvalidDID},
		{"empty fragment", "did:example:alice#", AssertionMethod, ErrInvalidDID},
		{"two fragments", "did:example:alice#key-1#key-1", AssertionMethod, ErrInvalidDID},
		{"relative url", "#key-1", AssertionMethod, ErrInvalidDID},
		{"https url", "https://example.com/#key-1", AssertionMethod, ErrInvalidDID},
		{"unsupported key type", "did:example:alice#legacy", AssertionMethod, ErrUnsupportedKey},
		{"document id mismatch", "did:example:bob#key-1", AssertionMethod, ErrInvalidDocument},
		{"invalid document", "did:example:broken#key-1", AssertionMethod, ErrInvalidDocument},
		{"unknown did", "did:example:carol#key-1", AssertionMethod, ErrNotFound},
		{"unsupported method", "did:ion:abc#key-1", AssertionMethod, ErrMethodNotSupported},
		{"method case", "did:Example:alice#key-1", AssertionMethod, ErrInvalidDID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, pub, err := r.ResolveVerificationMethod(ctx, tt.url, tt.rel)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) || got != nil || pub != nil {
					t.Fatalf("ResolveVerificationMethod = %+v, %v, %v; want %v", got, pub, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.ID != tt.url {
				t.Fatalf("method id %q, want the absolute %q", got.ID, tt.url)
			}
			if !keyEqual(key.Public(), pub) {
				t.Fatal("wrong key")
			}
		})
	}
}

func TestResolverOptions(t *testing.T) {
	ctx := context.Background()
	r := NewResolver(WithMethod("web", nil))
	if _, err := r.Resolve(ctx, "did:web:example.com"); !errors.Is(err, ErrMethodNotSupported) {
		t.Fatalf("removed method: %v", err)
	}
	if _, err := r.Resolve(ctx, "not a did"); !errors.Is(err, ErrInvalidDID) {
		t.Fatalf("bad did: %v", err)
	}
	nilDoc := NewResolver(WithMethod("example", methodFunc(func(context.Context, DID) (*Document, error) { return nil, nil })))
	if _, err := nilDoc.Resolve(ctx, "did:example:a"); !errors.Is(err, ErrResolution) {
		t.Fatalf("nil document: %v", err)
	}
}

type methodFunc func(context.Context, DID) (*Document, error)

func (f methodFunc) Resolve(ctx context.Context, d DID) (*Document, error) { return f(ctx, d) }

// TestVerificationMethodCache: pure methods are cached, the cache hands out copies, and
// non-pure methods are not cached.
func TestVerificationMethodCache(t *testing.T) {
	ctx := context.Background()
	key, err := keys.Generate(keys.P256)
	if err != nil {
		t.Fatal(err)
	}
	did, err := JWKDID(key.Public())
	if err != nil {
		t.Fatal(err)
	}
	r := NewResolver()
	vm, _, err := r.ResolveVerificationMethod(ctx, did+"#0", AssertionMethod)
	if err != nil {
		t.Fatal(err)
	}
	vm.PublicKeyJwk["x"] = "tampered"
	vm.ID = "tampered"
	again, pub, err := r.ResolveVerificationMethod(ctx, did+"#0", AssertionMethod)
	if err != nil {
		t.Fatal(err)
	}
	if again.ID != did+"#0" || again.PublicKeyJwk["x"] == "tampered" || !keyEqual(key.Public(), pub) {
		t.Fatal("a caller's change reached the cache")
	}
	if r.vmCache.len() != 1 {
		t.Fatalf("cache holds %d entries, want 1", r.vmCache.len())
	}
	// The cache is per relationship: a cached success for one does not authorize another.
	ed, err := keys.Generate(keys.Ed25519)
	if err != nil {
		t.Fatal(err)
	}
	edURL, err := KeyURL(ed.Public())
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := r.ResolveVerificationMethod(ctx, edURL, AssertionMethod); err != nil {
		t.Fatal(err)
	}
	if _, _, err := r.ResolveVerificationMethod(ctx, edURL, KeyAgreement); !errors.Is(err, ErrRelationship) {
		t.Fatalf("keyAgreement after a cached assertionMethod: %v", err)
	}

	calls := 0
	doc := func(context.Context, DID) (*Document, error) {
		calls++
		return &Document{ID: "did:example:a", VerificationMethod: []VerificationMethod{{ID: "#k", Type: TypeMultikey, Controller: "did:example:a", PublicKeyMultibase: "z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2"}},
			AssertionMethod: []VerificationRelationship{{Reference: "#k"}}}, nil
	}
	r = NewResolver(WithMethod("example", methodFunc(doc)))
	for range 2 {
		if _, _, err := r.ResolveVerificationMethod(ctx, "did:example:a#k", AssertionMethod); err != nil {
			t.Fatal(err)
		}
	}
	if calls != 2 {
		t.Fatalf("non-pure method resolved %d times, want 2 (not cached)", calls)
	}

	small := NewResolver(WithVerificationMethodCacheSize(2))
	for range 4 {
		k, err := keys.Generate(keys.Ed25519)
		if err != nil {
			t.Fatal(err)
		}
		u, err := KeyURL(k.Public())
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := small.ResolveVerificationMethod(ctx, u, AssertionMethod); err != nil {
			t.Fatal(err)
		}
	}
	if n := small.vmCache.len(); n > 2 {
		t.Fatalf("cache holds %d entries, bound 2", n)
	}
}

func BenchmarkResolveVerificationMethodKey(b *testing.B) {
	pub, priv, err := ed25519.GenerateKey(nil)
	if err != nil {
		b.Fatal(err)
	}
	url, err := KeyURL(pub)
	if err != nil {
		b.Fatal(err)
	}
	msg := []byte("a credential's signing input of a typical size ......................")
	sig := ed25519.Sign(priv, msg)
	for _, size := range []int{DefaultVerificationMethodCacheSize, 0} {
		name := "cached"
		if size == 0 {
			name = "uncached"
		}
		r := NewResolver(WithVerificationMethodCacheSize(size))
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, _, err := r.ResolveVerificationMethod(context.Background(), url, AssertionMethod); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	// The anchor: one raw Ed25519 verification, the work the lookup is added to.
	b.Run("ed25519.Verify", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if !ed25519.Verify(pub, msg, sig) {
				b.Fatal("bad signature")
			}
		}
	})
}

func BenchmarkKeyDID(b *testing.B) {
	key, err := keys.Generate(keys.P256)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := KeyDID(key.Public()); err != nil {
			b.Fatal(err)
		}
	}
}
