package did

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/civitas-net/civitas/keys"
)

func TestWebDocumentURL(t *testing.T) {
	valid := []struct{ did, url string }{
		{"did:web:w3c-ccg.github.io", "https://w3c-ccg.github.io/.well-known/did.json"},
		{"did:web:w3c-ccg.github.io:user:alice", "https://w3c-ccg.github.io/user/alice/did.json"},
		{"did:web:example.com%3A3000:user:alice", "https://example.com:3000/user/alice/did.json"},
		{"did:web:example.com%3a8443", "https://example.com:8443/.well-known/did.json"},
		{"did:web:127.0.0.1%3A8443", "https://127.0.0.1:8443/.well-known/did.json"},
		{"did:web:example.com:a%40b", "https://example.com/a@b/did.json"},
	}
	for _, tt := range valid {
		got, err := WebDocumentURL(tt.did)
		if err != nil || got != tt.url {
			t.Errorf("WebDocumentURL(%q) = %q, %v; want %q", tt.did, got, err, tt.url)
		}
	}
	invalid := []string{
		"did:key:z6Mk",
		"did:web:",
		"did:web:example.com%2Fevil",
		"did:web:example.com%40evil.com",
		"did:web:user%40example.com",
		"did:web:example.com%3A",
		"did:web:example.com%3A0",
		"did:web:example.com%3A65536",
		"did:web:example.com%3A080",
		"did:web:example.com%3A80%3A1",
		"did:web:example.com%3Ahttp",
		"did:web:-example.com",
		"did:web:example..com",
		"did:web:example.com::a",
		"did:web:example.com:..",
		"did:web:example.com:.",
		"did:web:example.com:a%2F..%2F..",
		"did:web:example.com:a%2Fb",
		"did:web:example.com:a%3Fb",
		"did:web:example.com:a%23b",
		"did:web:example.com:a%5Cb",
		"did:web:example.com:a%25b",
		"did:web:example.com:a%20b",
		"did:web:example.com:a%00",
		"did:web:%5B%3A%3A1%5D",
	}
	for _, did := range invalid {
		if got, err := WebDocumentURL(did); !errors.Is(err, ErrInvalidDID) {
			t.Errorf("WebDocumentURL(%q) = %q, %v; want ErrInvalidDID", did, got, err)
		}
	}
}

func TestWebDIDFromURL(t *testing.T) {
	valid := []struct{ url, did string }{
		{"https://example.com", "did:web:example.com"},
		{"https://example.com/", "did:web:example.com"},
		{"https://Example.COM:8443/path", "did:web:example.com%3A8443:path"},
		{"https://host:8443/path/x/", "did:web:host%3A8443:path:x"},
		{"https://example.com/a@b", "did:web:example.com:a%40b"},
		{"https://example.com/a~b", "did:web:example.com:a%7Eb"},
		{"http://localhost:8080", "did:web:localhost%3A8080"},
		{"http://127.0.0.1:8080/x", "did:web:127.0.0.1%3A8080:x"},
	}
	for _, tt := range valid {
		got, err := WebDIDFromURL(tt.url)
		if err != nil || got != tt.did {
			t.Errorf("WebDIDFromURL(%q) = %q, %v; want %q", tt.url, got, err, tt.did)
			continue
		}
		// Inverse: the document URL lives under the public URL.
		docURL, err := WebDocumentURL(got)
		if err != nil {
			t.Errorf("WebDocumentURL(%q): %v", got, err)
			continue
		}
		base := strings.TrimSuffix(strings.Replace(strings.ToLower(tt.url), "http://", "https://", 1), "/")
		if !strings.EqualFold(strings.TrimSuffix(strings.TrimSuffix(docURL, "/did.json"), "/.well-known"), base) {
			t.Errorf("WebDocumentURL(WebDIDFromURL(%q)) = %q", tt.url, docURL)
		}
	}
	invalid := []string{
		"http://example.com",
		"ftp://example.com",
		"https://user:pw@example.com",
		"https://example.com/?q=1",
		"https://example.com/?",
		"https://example.com/#f",
		"https://example.com//a",
		"https://example.com/a/../b",
		"https://example.com/a%2Fb",
		"https://[::1]:8443",
		"https://exa_mple.com",
		"https://example.com:0",
		"example.com",
		"https://",
		"%",
	}
	for _, u := range invalid {
		if got, err := WebDIDFromURL(u); !errors.Is(err, ErrInvalidDID) {
			t.Errorf("WebDIDFromURL(%q) = %q, %v; want ErrInvalidDID", u, got, err)
		}
	}
}

func TestCheckPublicAddress(t *testing.T) {
	tests := []struct {
		ip   string
		safe bool
	}{
		{"93.184.216.34", true},
		{"8.8.8.8", true},
		{"2606:4700::1111", true},
		{"127.0.0.1", false},
		{"127.1.2.3", false},
		{"::1", false},
		{"::ffff:127.0.0.1", false},
		{"10.0.0.1", false},
		{"::ffff:10.1.2.3", false},
		{"172.16.0.1", false},
		{"172.31.255.255", false},
		{"192.168.1.1", false},
		{"169.254.169.254", false},
		{"::ffff:169.254.169.254", false},
		{"100.64.0.1", false},
		{"100.127.255.255", false},
		{"0.0.0.0", false},
		{"::", false},
		{"224.0.0.1", false},
		{"239.255.255.250", false},
		{"255.255.255.255", false},
		{"fc00::1", false},
		{"fd12:3456::1", false},
		{"fe80::1", false},
		{"fe80::1%eth0", false},
		{"ff02::1", false},
		{"64:ff9b::7f00:1", false}, // NAT64 of 127.0.0.1
		{"64:ff9b::808:808", true}, // NAT64 of 8.8.8.8
		{"::127.0.0.1", false},     // IPv4-compatible
		{"192.0.2.1", false},
		{"2001:db8::1", false},
		{"172.32.0.1", true},
		{"100.128.0.1", true},
	}
	for _, tt := range tests {
		ip := netip.MustParseAddr(tt.ip)
		err := CheckPublicAddress(ip)
		if tt.safe && err != nil {
			t.Errorf("CheckPublicAddress(%s) = %v, want nil", tt.ip, err)
		}
		if !tt.safe && !errors.Is(err, ErrUnsafeAddress) {
			t.Errorf("CheckPublicAddress(%s) = %v, want ErrUnsafeAddress", tt.ip, err)
		}
	}
	if err := CheckPublicAddress(netip.Addr{}); !errors.Is(err, ErrUnsafeAddress) {
		t.Errorf("zero address: %v", err)
	}
}

// fakeClock is an injected clock that tests move by hand.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{t: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// didServer is an httptest TLS server that serves valid did:web documents for its own
// host (at /.well-known/did.json and at /<path>/did.json), unless handler is set.
type didServer struct {
	srv     *httptest.Server
	did     string
	hits    atomic.Int64
	key     string // multibase of the served key
	handler http.HandlerFunc
}

func newDIDServer(t *testing.T, tlsServer bool) *didServer {
	t.Helper()
	key, err := keys.Generate(keys.Ed25519)
	if err != nil {
		t.Fatal(err)
	}
	mb, err := keys.EncodeMultikey(key.Public())
	if err != nil {
		t.Fatal(err)
	}
	s := &didServer{key: mb}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.hits.Add(1)
		if s.handler != nil {
			s.handler(w, r)
			return
		}
		did := s.did
		if p := strings.TrimSuffix(r.URL.Path, "/did.json"); p != "/.well-known" && p != r.URL.Path {
			did += strings.ReplaceAll(p, "/", ":")
		} else if p != "/.well-known" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/did+json")
		_, _ = w.Write(s.document(did))
	})
	if tlsServer {
		s.srv = httptest.NewTLSServer(h)
	} else {
		s.srv = httptest.NewServer(h)
	}
	t.Cleanup(s.srv.Close)
	s.did, err = WebDIDFromURL(strings.Replace(s.srv.URL, "http://", "https://", 1))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// document returns a valid DID document for did with one Multikey assertion method.
func (s *didServer) document(did string) []byte {
	return []byte(fmt.Sprintf(`{"@context":["https://www.w3.org/ns/did/v1","https://w3id.org/security/multikey/v1"],
"id":%q,"verificationMethod":[{"id":"#key-1","type":"Multikey","controller":%q,"publicKeyMultibase":%q}],
"assertionMethod":["#key-1"]}`, did, did, s.key))
}

// resolver returns a WebResolver that trusts the server's certificate.
func (s *didServer) resolver(opts ...WebOption) *WebResolver {
	tlsConf := s.srv.Client().Transport.(*http.Transport).TLSClientConfig
	return NewWebResolver(append([]WebOption{WithTLSConfig(tlsConf)}, opts...)...)
}

func TestWebResolveHappyPath(t *testing.T) {
	s := newDIDServer(t, true)
	w := s.resolver(WithTestLoopback())
	for _, did := range []string{s.did, s.did + ":user:alice"} {
		doc, err := w.Resolve(context.Background(), mustParse(t, did))
		if err != nil {
			t.Fatalf("%s: %v", did, err)
		}
		if doc.ID != did || len(doc.VerificationMethod) != 1 {
			t.Fatalf("unexpected document %+v", doc)
		}
	}
	r := NewResolver(WithWebResolver(w))
	vm, pub, err := r.ResolveVerificationMethod(context.Background(), s.did+"#key-1", AssertionMethod)
	if err != nil {
		t.Fatal(err)
	}
	if vm.ID != s.did+"#key-1" || pub == nil {
		t.Fatalf("vm = %+v", vm)
	}
	if _, err := w.Resolve(context.Background(), mustParse(t, "did:key:z6Mk")); !errors.Is(err, ErrMethodNotSupported) {
		t.Fatalf("did:key through WebResolver: %v", err)
	}
}

func TestWebInsecureHTTPForTests(t *testing.T) {
	s := newDIDServer(t, false)
	doc, err := NewWebResolver(WithTestInsecureHTTP()).Resolve(context.Background(), mustParse(t, s.did))
	if err != nil {
		t.Fatal(err)
	}
	if doc.ID != s.did {
		t.Fatalf("id %q", doc.ID)
	}
}

func TestWebResolveRejects(t *testing.T) {
	big := `{"id":"x","alsoKnownAs":["` + strings.Repeat("a", DefaultWebMaxBody) + `"]}`
	tests := []struct {
		name     string
		handler  func(s *didServer) http.HandlerFunc
		wantErr  error
		wantText string
	}{
		{"redirect refused", func(s *didServer) http.HandlerFunc {
			return func(w http.ResponseWriter, r *http.Request) {
				http.Redirect(w, r, "/elsewhere/did.json", http.StatusFound)
			}
		}, ErrResolution, "redirect"},
		{"permanent redirect refused", func(s *didServer) http.HandlerFunc {
			return func(w http.ResponseWriter, r *http.Request) {
				http.Redirect(w, r, "https://169.254.169.254/latest", http.StatusPermanentRedirect)
			}
		}, ErrResolution, "redirect"},
		{"huge body with length", func(s *didServer) http.HandlerFunc {
			return func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Length", fmt.Sprint(len(big)))
				_, _ = w.Write([]byte(big))
			}
		}, ErrTooLarge, "announced"},
		{"huge body streamed", func(s *didServer) http.HandlerFunc {
			return func(w http.ResponseWriter, r *http.Request) {
				chunk := []byte(strings.Repeat(" ", 32<<10))
				for range 16 {
					if _, err := w.Write(chunk); err != nil {
						return
					}
					w.(http.Flusher).Flush()
				}
			}
		}, ErrTooLarge, ""},
		{"id mismatch", func(s *didServer) http.HandlerFunc {
			return func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write(s.document("did:web:evil.example")) }
		}, ErrInvalidDocument, "does not match"},
		{"duplicate keys", func(s *didServer) http.HandlerFunc {
			return func(w http.ResponseWriter, r *http.Request) {
				_, _ = w.Write([]byte(`{"id":"` + s.did + `","id":"` + s.did + `"}`))
			}
		}, ErrInvalidDocument, ""},
		{"not json", func(s *didServer) http.HandlerFunc {
			return func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("<html>")) }
		}, ErrInvalidDocument, ""},
		{"invalid document", func(s *didServer) http.HandlerFunc {
			return func(w http.ResponseWriter, r *http.Request) {
				_, _ = w.Write([]byte(`{"id":"` + s.did + `","assertionMethod":["key-1"]}`))
			}
		}, ErrInvalidDocument, ""},
		{"not found", func(s *didServer) http.HandlerFunc {
			return http.NotFound
		}, ErrNotFound, ""},
		{"server error", func(s *didServer) http.HandlerFunc {
			return func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusInternalServerError) }
		}, ErrResolution, "500"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newDIDServer(t, true)
			s.handler = tt.handler(s)
			doc, err := s.resolver(WithTestLoopback()).Resolve(context.Background(), mustParse(t, s.did))
			if !errors.Is(err, tt.wantErr) || doc != nil {
				t.Fatalf("Resolve = %v, %v; want %v", doc, err, tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.wantText) {
				t.Fatalf("error %q does not mention %q", err, tt.wantText)
			}
			if n := s.hits.Load(); n != 1 {
				t.Fatalf("server saw %d requests, want 1 (no redirect followed)", n)
			}
		})
	}
}

func TestWebResolveTimeout(t *testing.T) {
	s := newDIDServer(t, true)
	release := make(chan struct{})
	t.Cleanup(func() { close(release) }) // runs before the server's Close
	s.handler = func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}
	w := s.resolver(WithTestLoopback(), WithHTTPTimeout(100*time.Millisecond))
	_, err := w.Resolve(context.Background(), mustParse(t, s.did))
	if !errors.Is(err, ErrResolution) {
		t.Fatalf("error = %v, want ErrResolution", err)
	}
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("error %v is not a timeout", err)
	}
	// The caller's context bounds the fetch too.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.resolver(WithTestLoopback()).Resolve(ctx, mustParse(t, s.did)); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled context: error = %v", err)
	}
}

func TestWebRefusesLoopbackEndToEnd(t *testing.T) {
	s := newDIDServer(t, true)
	port := s.srv.Listener.Addr().(*net.TCPAddr).Port
	for _, did := range []string{
		s.did, // 127.0.0.1 literal
		fmt.Sprintf("did:web:localhost%%3A%d", port), // a name that resolves to loopback
	} {
		doc, err := s.resolver().Resolve(context.Background(), mustParse(t, did))
		if !errors.Is(err, ErrUnsafeAddress) || !errors.Is(err, ErrResolution) || doc != nil {
			t.Fatalf("%s: Resolve = %v, %v; want ErrUnsafeAddress", did, doc, err)
		}
	}
	if n := s.hits.Load(); n != 0 {
		t.Fatalf("server saw %d requests, want 0", n)
	}
	// Plain http is refused to anything but loopback even in test mode.
	if _, err := NewWebResolver(WithTestInsecureHTTP()).Resolve(context.Background(), mustParse(t, "did:web:10.0.0.1%3A80")); !errors.Is(err, ErrUnsafeAddress) {
		t.Fatalf("insecure http to 10.0.0.1: %v", err)
	}
}

func TestWebCache(t *testing.T) {
	s := newDIDServer(t, true)
	clock := newFakeClock()
	w := s.resolver(WithTestLoopback(), WithClock(clock.Now), WithCache(time.Minute, 10*time.Second, 8))
	d := mustParse(t, s.did)

	doc, err := w.Resolve(context.Background(), d)
	if err != nil {
		t.Fatal(err)
	}
	doc.VerificationMethod[0].PublicKeyMultibase = "tampered" // the caller's copy
	doc, err = w.Resolve(context.Background(), d)
	if err != nil {
		t.Fatal(err)
	}
	if s.hits.Load() != 1 {
		t.Fatalf("%d fetches, want 1 (cached)", s.hits.Load())
	}
	if doc.VerificationMethod[0].PublicKeyMultibase != s.key {
		t.Fatal("a caller's change reached the cache")
	}
	clock.Advance(time.Minute)
	if _, err := w.Resolve(context.Background(), d); err != nil {
		t.Fatal(err)
	}
	if s.hits.Load() != 2 {
		t.Fatalf("%d fetches after expiry, want 2", s.hits.Load())
	}

	// Failures are cached for the negative TTL.
	missing := mustParse(t, s.did+":nobody")
	s.handler = http.NotFound
	for range 3 {
		if _, err := w.Resolve(context.Background(), missing); !errors.Is(err, ErrNotFound) {
			t.Fatalf("error = %v, want ErrNotFound", err)
		}
	}
	if s.hits.Load() != 3 {
		t.Fatalf("%d fetches, want 3 (failure cached)", s.hits.Load())
	}
	clock.Advance(10 * time.Second)
	if _, err := w.Resolve(context.Background(), missing); !errors.Is(err, ErrNotFound) {
		t.Fatal(err)
	}
	if s.hits.Load() != 4 {
		t.Fatalf("%d fetches after negative expiry, want 4", s.hits.Load())
	}
}

func TestWebCacheBounded(t *testing.T) {
	s := newDIDServer(t, true)
	w := s.resolver(WithTestLoopback(), WithCache(time.Hour, time.Hour, 2))
	for _, p := range []string{":a", ":b", ":c", ":d"} {
		if _, err := w.Resolve(context.Background(), mustParse(t, s.did+p)); err != nil {
			t.Fatal(err)
		}
	}
	if n := w.cache.len(); n > 2 {
		t.Fatalf("cache holds %d entries, bound 2", n)
	}
	// Caching off: every call fetches.
	s.hits.Store(0)
	off := s.resolver(WithTestLoopback(), WithCache(0, 0, 0))
	for range 2 {
		if _, err := off.Resolve(context.Background(), mustParse(t, s.did)); err != nil {
			t.Fatal(err)
		}
	}
	if s.hits.Load() != 2 {
		t.Fatalf("%d fetches with caching off, want 2", s.hits.Load())
	}
}

func BenchmarkWebResolveCached(b *testing.B) {
	key, err := keys.Generate(keys.Ed25519)
	if err != nil {
		b.Fatal(err)
	}
	mb, err := keys.EncodeMultikey(key.Public())
	if err != nil {
		b.Fatal(err)
	}
	w := NewWebResolver()
	d := mustParse(b, "did:web:example.com")
	doc := &Document{ID: d.String(), VerificationMethod: []VerificationMethod{{ID: "#k", Type: TypeMultikey, Controller: d.String(), PublicKeyMultibase: mb}},
		AssertionMethod: []VerificationRelationship{{Reference: "#k"}}}
	w.cache.put(d.String(), webResult{doc: doc}, time.Now().Add(time.Hour), time.Now())
	r := NewResolver(WithWebResolver(w))
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := r.ResolveVerificationMethod(context.Background(), "did:web:example.com#k", AssertionMethod); err != nil {
			b.Fatal(err)
		}
	}
}
