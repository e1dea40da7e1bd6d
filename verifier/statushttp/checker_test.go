package statushttp_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/civitas-net/civitas/credential"
	"github.com/civitas-net/civitas/did"
	"github.com/civitas-net/civitas/issuer"
	"github.com/civitas-net/civitas/keys"
	"github.com/civitas-net/civitas/schemas"
	"github.com/civitas-net/civitas/statuslist"
	"github.com/civitas-net/civitas/verifier"
	"github.com/civitas-net/civitas/verifier/statushttp"
)

// fakeClock is the injected clock; tests move it by hand.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

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

// route is what the test server answers on one path.
type route struct {
	body         []byte
	contentType  string
	etag         string
	cacheControl string
	status       int    // 0: 200
	location     string // a redirect target
	streamed     bool   // no Content-Length
	encoding     string // Content-Encoding
}

// listServer serves status list credentials and counts requests.
type listServer struct {
	srv    *httptest.Server
	mu     sync.Mutex
	routes map[string]route
	hits   map[string]int
	inm    map[string][]string // If-None-Match received, per path
	accept string
	gate   func() // when set, every request calls it before answering
}

func (s *listServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.hits[r.URL.Path]++
	s.inm[r.URL.Path] = append(s.inm[r.URL.Path], r.Header.Get("If-None-Match"))
	s.accept = r.Header.Get("Accept")
	rt, ok := s.routes[r.URL.Path]
	gate := s.gate
	s.mu.Unlock()
	if gate != nil {
		gate()
	}
	if !ok {
		http.NotFound(w, r)
		return
	}
	if rt.cacheControl != "" {
		w.Header().Set("Cache-Control", rt.cacheControl)
	}
	if rt.etag != "" {
		w.Header().Set("ETag", rt.etag)
		if r.Header.Get("If-None-Match") == rt.etag {
			w.WriteHeader(http.StatusNotModified)
			return
		}
	}
	if rt.location != "" {
		http.Redirect(w, r, rt.location, http.StatusFound)
		return
	}
	if rt.status != 0 {
		w.WriteHeader(rt.status)
		return
	}
	w.Header().Set("Content-Type", rt.contentType)
	if rt.encoding != "" {
		w.Header().Set("Content-Encoding", rt.encoding)
	}
	if !rt.streamed {
		w.Header().Set("Content-Length", fmt.Sprint(len(rt.body)))
		_, _ = w.Write(rt.body)
		return
	}
	for chunk := range slicesChunk(rt.body, 16<<10) {
		_, _ = w.Write(chunk)
		w.(http.Flusher).Flush()
	}
}

func slicesChunk(b []byte, n int) func(func([]byte) bool) {
	return func(yield func([]byte) bool) {
		for len(b) > 0 {
			k := min(n, len(b))
			if !yield(b[:k]) {
				return
			}
			b = b[k:]
		}
	}
}

func (s *listServer) hitsOf(path string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.hits[path]
}

// party is an issuer with its key.
type party struct {
	iss *issuer.Issuer
	key crypto.Signer
	kid string
}

// world is a list server, an issuer, an attacker, a clock and a list verifier.
type world struct {
	t        testing.TB
	clock    *fakeClock
	srv      *listServer
	issuer   party
	attacker party
	listV    *verifier.Verifier
}

func newWorld(t testing.TB, tlsServer bool) *world {
	t.Helper()
	w := &world{t: t, clock: &fakeClock{t: time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)}}
	w.srv = &listServer{routes: map[string]route{}, hits: map[string]int{}, inm: map[string][]string{}}
	if tlsServer {
		w.srv.srv = httptest.NewTLSServer(w.srv)
	} else {
		w.srv.srv = httptest.NewServer(w.srv)
	}
	t.Cleanup(w.srv.srv.Close)
	w.issuer, w.attacker = w.newParty(), w.newParty()
	v, err := verifier.New(verifier.WithClock(w.clock.Now))
	if err != nil {
		t.Fatal(err)
	}
	w.listV = v
	return w
}

func (w *world) newParty() party {
	w.t.Helper()
	key, err := keys.Generate(keys.Ed25519)
	if err != nil {
		w.t.Fatal(err)
	}
	kid, err := did.KeyURL(key.Public())
	if err != nil {
		w.t.Fatal(err)
	}
	iss, err := issuer.New(issuer.Key{Signer: key, KeyID: kid}, issuer.WithClock(func() time.Time { return w.clock.Now().Add(-time.Hour) }))
	if err != nil {
		w.t.Fatal(err)
	}
	return party{iss: iss, key: key, kid: kid}
}

func (w *world) url(path string) string { return w.srv.srv.URL + path }

// listDoc is an unsigned list credential of the issuer for path with bits set.
func (w *world) listDoc(path, purpose string, set ...int) map[string]any {
	w.t.Helper()
	l, err := statuslist.New(statuslist.MinSize)
	if err != nil {
		w.t.Fatal(err)
	}
	for _, i := range set {
		if err := l.Set(i, true); err != nil {
			w.t.Fatal(err)
		}
	}
	now := w.clock.Now()
	doc, err := statuslist.Credential(w.url(path), w.issuer.iss.DID(), purpose, l, now.Add(-time.Hour), now.AddDate(0, 1, 0))
	if err != nil {
		w.t.Fatal(err)
	}
	return doc
}

// sign secures doc by p in format f and returns the body and its media type.
func (w *world) sign(p party, doc map[string]any, f issuer.Format) ([]byte, string) {
	w.t.Helper()
	sec, err := p.iss.Sign(context.Background(), doc, f)
	if err != nil {
		w.t.Fatal(err)
	}
	body, err := sec.Bytes()
	if err != nil {
		w.t.Fatal(err)
	}
	if f == issuer.FormatJWT {
		return body, "application/vc+jwt"
	}
	return body, "application/vc"
}

// publish serves body at path with an ETag derived from it.
func (w *world) publish(path string, body []byte, contentType string, mod func(*route)) {
	sum := sha256.Sum256(body)
	rt := route{body: body, contentType: contentType, etag: `"` + hex.EncodeToString(sum[:8]) + `"`}
	if mod != nil {
		mod(&rt)
	}
	w.srv.mu.Lock()
	w.srv.routes[path] = rt
	w.srv.mu.Unlock()
}

// publishList signs and serves the issuer's list for path with bits set.
func (w *world) publishList(path string, f issuer.Format, purpose string, set ...int) {
	body, ct := w.sign(w.issuer, w.listDoc(path, purpose, set...), f)
	w.publish(path, body, ct, nil)
}

// tlsConfig trusts the test server's certificate.
func (w *world) tlsConfig() statushttp.Option {
	return statushttp.WithTLSConfig(w.srv.srv.Client().Transport.(*http.Transport).TLSClientConfig)
}

// checker returns a Checker that trusts the server, may reach loopback and uses the
// clock; opts come after these.
func (w *world) checker(opts ...statushttp.Option) *statushttp.Checker {
	base := []statushttp.Option{w.tlsConfig(), statushttp.WithTestLoopback(), statushttp.WithClock(w.clock.Now)}
	return statushttp.New(w.listV, append(base, opts...)...)
}

func (w *world) query(path, purpose string, index int) verifier.StatusQuery {
	w.t.Helper()
	return w.queryURL(w.url(path), purpose, index)
}

func (w *world) queryURL(listURL, purpose string, index int) verifier.StatusQuery {
	w.t.Helper()
	e, err := statuslist.NewEntry(listURL, purpose, index)
	if err != nil {
		w.t.Fatal(err)
	}
	return verifier.StatusQuery{Issuer: w.issuer.iss.DID(), Entry: e}
}

// expect checks one lookup's outcome.
func expect(t *testing.T, c *statushttp.Checker, q verifier.StatusQuery, want bool) {
	t.Helper()
	got, err := c.CheckStatus(context.Background(), q)
	if err != nil || got != want {
		t.Fatalf("CheckStatus(%s #%s) = %v, %v; want %v", q.Entry.StatusListCredential, q.Entry.StatusListIndex, got, err, want)
	}
}

func TestCheckStatusReadsBits(t *testing.T) {
	for _, f := range []issuer.Format{issuer.FormatJWT, issuer.FormatEdDSARDFC} {
		t.Run(string(f), func(t *testing.T) {
			w := newWorld(t, true)
			w.publishList("/lists/rev", f, statuslist.PurposeRevocation, 3, statuslist.MinSize-1)
			w.publishList("/lists/sus", f, statuslist.PurposeSuspension, 4)
			c := w.checker()
			expect(t, c, w.query("/lists/rev", statuslist.PurposeRevocation, 3), true)
			expect(t, c, w.query("/lists/rev", statuslist.PurposeRevocation, 4), false)
			expect(t, c, w.query("/lists/rev", statuslist.PurposeRevocation, 0), false)
			expect(t, c, w.query("/lists/rev", statuslist.PurposeRevocation, statuslist.MinSize-1), true)
			expect(t, c, w.query("/lists/sus", statuslist.PurposeSuspension, 4), true)
			expect(t, c, w.query("/lists/sus", statuslist.PurposeSuspension, 3), false)
			if got := w.srv.hitsOf("/lists/rev"); got != 1 {
				t.Fatalf("%d fetches of one list, want 1", got)
			}
			if !strings.Contains(w.srv.accept, "application/vc+jwt") || !strings.Contains(w.srv.accept, "application/vc+ld+json") {
				t.Fatalf("Accept %q", w.srv.accept)
			}
		})
	}
}

func TestCheckStatusInsecureHTTPForTests(t *testing.T) {
	w := newWorld(t, false)
	w.publishList("/lists/rev", issuer.FormatJWT, statuslist.PurposeRevocation, 9)
	c := statushttp.New(w.listV, statushttp.WithTestInsecureHTTP(), statushttp.WithClock(w.clock.Now))
	expect(t, c, w.query("/lists/rev", statuslist.PurposeRevocation, 9), true)
	// Without the switch, http is refused before any request.
	plain := statushttp.New(w.listV, statushttp.WithTestLoopback(), statushttp.WithClock(w.clock.Now))
	if _, err := plain.CheckStatus(context.Background(), w.query("/lists/rev", statuslist.PurposeRevocation, 9)); !errors.Is(err, statushttp.ErrURL) {
		t.Fatalf("http without the test switch: %v, want ErrURL", err)
	}
	if got := w.srv.hitsOf("/lists/rev"); got != 1 {
		t.Fatalf("%d fetches, want 1", got)
	}
}

// gzEncoded returns the encodedList form of raw bytes.
func gzEncoded(t testing.TB, raw []byte) string {
	t.Helper()
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := zw.Write(raw); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return "u" + base64.RawURLEncoding.EncodeToString(buf.Bytes())
}

func subject(doc map[string]any) map[string]any { return doc["credentialSubject"].(map[string]any) }

// craftJWT signs doc as a vc+jwt with any kid and key, bypassing the issuer's checks.
func craftJWT(t testing.TB, doc map[string]any, kid string, key crypto.Signer) []byte {
	t.Helper()
	payload, err := credential.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	header, err := json.Marshal(map[string]string{"alg": "EdDSA", "typ": "vc+jwt", "kid": kid})
	if err != nil {
		t.Fatal(err)
	}
	input := base64.RawURLEncoding.EncodeToString(header) + "." + base64.RawURLEncoding.EncodeToString(payload)
	sig := ed25519.Sign(key.(ed25519.PrivateKey), []byte(input))
	return []byte(input + "." + base64.RawURLEncoding.EncodeToString(sig))
}

// TestCheckStatusRefuses runs every way a status lookup must fail, each with its error.
func TestCheckStatusRefuses(t *testing.T) {
	const path = "/lists/x"
	rev := statuslist.PurposeRevocation
	tests := []struct {
		name string
		// setup publishes what the case needs and returns the query.
		setup func(w *world) verifier.StatusQuery
		// checker builds the checker; nil: w.checker().
		checker func(w *world) *statushttp.Checker
		want    []error
		// fetched: whether the server must have been asked.
		fetched bool
	}{
		{
			name: "list of another issuer",
			setup: func(w *world) verifier.StatusQuery {
				doc := w.listDoc(path, rev)
				doc["issuer"] = w.attacker.iss.DID()
				body, ct := w.sign(w.attacker, doc, issuer.FormatJWT)
				w.publish(path, body, ct, nil)
				return w.query(path, rev, 1)
			},
			want: []error{statushttp.ErrUnverified, verifier.ErrIssuerUntrusted}, fetched: true,
		},
		{
			name: "names the issuer, signed by another (jwt)",
			setup: func(w *world) verifier.StatusQuery {
				w.publish(path, craftJWT(w.t, w.listDoc(path, rev), w.attacker.kid, w.attacker.key), "application/vc+jwt", nil)
				return w.query(path, rev, 1)
			},
			want: []error{statushttp.ErrUnverified}, fetched: true,
		},
		{
			name: "names the issuer and its key, signed by another key (jwt)",
			setup: func(w *world) verifier.StatusQuery {
				w.publish(path, craftJWT(w.t, w.listDoc(path, rev), w.issuer.kid, w.attacker.key), "application/vc+jwt", nil)
				return w.query(path, rev, 1)
			},
			want: []error{statushttp.ErrUnverified, verifier.ErrSignatureInvalid}, fetched: true,
		},
		{
			name: "names the issuer, signed by another (data integrity)",
			setup: func(w *world) verifier.StatusQuery {
				body, ct := w.sign(w.attacker, w.listDoc(path, rev), issuer.FormatEdDSARDFC)
				w.publish(path, body, ct, nil)
				return w.query(path, rev, 1)
			},
			want: []error{statushttp.ErrUnverified}, fetched: true,
		},
		{
			name: "wrong purpose",
			setup: func(w *world) verifier.StatusQuery {
				w.publishList(path, issuer.FormatJWT, statuslist.PurposeSuspension, 1)
				return w.query(path, rev, 1)
			},
			want: []error{statushttp.ErrMismatch, statuslist.ErrPurposeMismatch}, fetched: true,
		},
		{
			name: "list id is not the url",
			setup: func(w *world) verifier.StatusQuery {
				body, ct := w.sign(w.issuer, w.listDoc("/lists/other", rev), issuer.FormatJWT)
				w.publish(path, body, ct, nil)
				return w.query(path, rev, 1)
			},
			want: []error{statushttp.ErrMismatch}, fetched: true,
		},
		{
			name: "not a status list credential",
			setup: func(w *world) verifier.StatusQuery {
				doc := w.listDoc(path, rev)
				doc["type"] = []any{"VerifiableCredential"}
				body, ct := w.sign(w.issuer, doc, issuer.FormatJWT)
				w.publish(path, body, ct, nil)
				return w.query(path, rev, 1)
			},
			want: []error{statushttp.ErrMismatch}, fetched: true,
		},
		{
			name: "another type besides the list type",
			setup: func(w *world) verifier.StatusQuery {
				doc := w.listDoc(path, rev)
				doc["type"] = []any{"VerifiableCredential", statuslist.CredentialType, "MembershipCredential"}
				body, ct := w.sign(w.issuer, doc, issuer.FormatJWT)
				w.publish(path, body, ct, nil)
				return w.query(path, rev, 1)
			},
			want: []error{statushttp.ErrUnverified, verifier.ErrIssuerUntrusted}, fetched: true,
		},
		{
			name: "tampered encodedList (data integrity)",
			setup: func(w *world) verifier.StatusQuery {
				sec, err := w.issuer.iss.Sign(context.Background(), w.listDoc(path, rev), issuer.FormatEdDSARDFC)
				if err != nil {
					w.t.Fatal(err)
				}
				subject(sec.Document)["encodedList"] = subject(w.listDoc(path, rev, 1))["encodedList"]
				body, err := sec.Bytes()
				if err != nil {
					w.t.Fatal(err)
				}
				w.publish(path, body, "application/vc", nil)
				return w.query(path, rev, 1)
			},
			want: []error{statushttp.ErrUnverified, verifier.ErrSignatureInvalid}, fetched: true,
		},
		{
			name: "tampered encodedList (jwt)",
			setup: func(w *world) verifier.StatusQuery {
				body, ct := w.sign(w.issuer, w.listDoc(path, rev), issuer.FormatJWT)
				parts := strings.Split(string(body), ".")
				forged, err := credential.Marshal(w.listDoc(path, rev, 1))
				if err != nil {
					w.t.Fatal(err)
				}
				parts[1] = base64.RawURLEncoding.EncodeToString(forged)
				w.publish(path, []byte(strings.Join(parts, ".")), ct, nil)
				return w.query(path, rev, 1)
			},
			want: []error{statushttp.ErrUnverified, verifier.ErrSignatureInvalid}, fetched: true,
		},
		{
			name: "expired list credential",
			setup: func(w *world) verifier.StatusQuery {
				doc := w.listDoc(path, rev)
				now := w.clock.Now()
				doc["validFrom"] = credential.FormatDateTime(now.Add(-48 * time.Hour))
				doc["validUntil"] = credential.FormatDateTime(now.Add(-time.Hour))
				body, ct := w.sign(w.issuer, doc, issuer.FormatJWT)
				w.publish(path, body, ct, nil)
				return w.query(path, rev, 1)
			},
			want: []error{statushttp.ErrUnverified, verifier.ErrExpired}, fetched: true,
		},
		{
			name: "list credential not yet valid",
			setup: func(w *world) verifier.StatusQuery {
				doc := w.listDoc(path, rev)
				doc["validFrom"] = credential.FormatDateTime(w.clock.Now().Add(time.Hour))
				body, ct := w.sign(w.issuer, doc, issuer.FormatJWT)
				w.publish(path, body, ct, nil)
				return w.query(path, rev, 1)
			},
			want: []error{statushttp.ErrUnverified, verifier.ErrNotYetValid}, fetched: true,
		},
		{
			name: "list too short",
			setup: func(w *world) verifier.StatusQuery {
				doc := w.listDoc(path, rev)
				subject(doc)["encodedList"] = gzEncoded(w.t, make([]byte, 1024))
				body, ct := w.sign(w.issuer, doc, issuer.FormatJWT)
				w.publish(path, body, ct, nil)
				return w.query(path, rev, 1)
			},
			want: []error{statuslist.ErrTooShort}, fetched: true,
		},
		{
			name: "index out of range",
			setup: func(w *world) verifier.StatusQuery {
				w.publishList(path, issuer.FormatJWT, rev)
				return w.query(path, rev, statuslist.MinSize)
			},
			want: []error{statuslist.ErrIndexOutOfRange}, fetched: true,
		},
		{
			name: "gzip bomb in encodedList",
			setup: func(w *world) verifier.StatusQuery {
				doc := w.listDoc(path, rev)
				subject(doc)["encodedList"] = gzEncoded(w.t, make([]byte, 32<<20))
				body, ct := w.sign(w.issuer, doc, issuer.FormatJWT)
				w.publish(path, body, ct, nil)
				return w.query(path, rev, 1)
			},
			want: []error{statuslist.ErrTooLarge}, fetched: true,
		},
		{
			name: "oversized body with a length",
			setup: func(w *world) verifier.StatusQuery {
				w.publish(path, bytes.Repeat([]byte("x"), statushttp.DefaultMaxBody+1), "application/vc+jwt", nil)
				return w.query(path, rev, 1)
			},
			want: []error{statushttp.ErrTooLarge}, fetched: true,
		},
		{
			name: "oversized body streamed",
			setup: func(w *world) verifier.StatusQuery {
				w.publish(path, bytes.Repeat([]byte("x"), statushttp.DefaultMaxBody+1), "application/vc+jwt", func(r *route) { r.streamed = true })
				return w.query(path, rev, 1)
			},
			want: []error{statushttp.ErrTooLarge}, fetched: true,
		},
		{
			name: "body under a smaller configured cap",
			setup: func(w *world) verifier.StatusQuery {
				w.publishList(path, issuer.FormatJWT, rev)
				return w.query(path, rev, 1)
			},
			checker: func(w *world) *statushttp.Checker { return w.checker(statushttp.WithMaxBodyBytes(256)) },
			want:    []error{statushttp.ErrTooLarge}, fetched: true,
		},
		{
			name: "gzip bomb as content encoding is not inflated",
			setup: func(w *world) verifier.StatusQuery {
				var buf bytes.Buffer
				zw := gzip.NewWriter(&buf)
				_, _ = zw.Write(make([]byte, 64<<20))
				_ = zw.Close()
				w.publish(path, buf.Bytes(), "application/vc+jwt", func(r *route) { r.encoding = "gzip" })
				return w.query(path, rev, 1)
			},
			want: []error{statushttp.ErrUnverified, verifier.ErrMalformed}, fetched: true,
		},
		{
			name: "unrequested 304",
			setup: func(w *world) verifier.StatusQuery {
				w.publish(path, nil, "", func(r *route) { r.status = http.StatusNotModified; r.etag = "" })
				return w.query(path, rev, 1)
			},
			want: []error{statushttp.ErrFetch}, fetched: true,
		},
		{
			name: "not a credential",
			setup: func(w *world) verifier.StatusQuery {
				w.publish(path, []byte("<html>hello</html>"), "text/html", nil)
				return w.query(path, rev, 1)
			},
			want: []error{statushttp.ErrUnverified}, fetched: true,
		},
		{
			name: "redirect",
			setup: func(w *world) verifier.StatusQuery {
				w.publishList("/lists/target", issuer.FormatJWT, rev)
				w.publish(path, nil, "", func(r *route) { r.location = w.url("/lists/target"); r.etag = "" })
				return w.query(path, rev, 1)
			},
			want: []error{statushttp.ErrFetch}, fetched: true,
		},
		{
			name: "not found",
			setup: func(w *world) verifier.StatusQuery {
				return w.query("/lists/none", rev, 1)
			},
			want: []error{statushttp.ErrFetch},
		},
		{
			name: "server error",
			setup: func(w *world) verifier.StatusQuery {
				w.publish(path, nil, "", func(r *route) { r.status = http.StatusServiceUnavailable; r.etag = "" })
				return w.query(path, rev, 1)
			},
			want: []error{statushttp.ErrFetch}, fetched: true,
		},
		{
			name: "http url",
			setup: func(w *world) verifier.StatusQuery {
				w.publishList(path, issuer.FormatJWT, rev)
				return w.queryURL(strings.Replace(w.url(path), "https://", "http://", 1), rev, 1)
			},
			want: []error{statushttp.ErrURL},
		},
		{
			name: "url with user info",
			setup: func(w *world) verifier.StatusQuery {
				w.publishList(path, issuer.FormatJWT, rev)
				return w.queryURL(strings.Replace(w.url(path), "https://", "https://user:pw@", 1), rev, 1)
			},
			want: []error{statushttp.ErrURL},
		},
		{
			name: "url with a fragment",
			setup: func(w *world) verifier.StatusQuery {
				w.publishList(path, issuer.FormatJWT, rev)
				return w.queryURL(w.url(path)+"#frag", rev, 1)
			},
			want: []error{statushttp.ErrURL},
		},
		{
			name: "loopback without the test switch",
			setup: func(w *world) verifier.StatusQuery {
				w.publishList(path, issuer.FormatJWT, rev)
				return w.query(path, rev, 1)
			},
			checker: func(w *world) *statushttp.Checker {
				return statushttp.New(w.listV, w.tlsConfig(), statushttp.WithClock(w.clock.Now))
			},
			want: []error{statushttp.ErrFetch, did.ErrUnsafeAddress},
		},
		{
			name: "localhost without the test switch",
			setup: func(w *world) verifier.StatusQuery {
				w.publishList(path, issuer.FormatJWT, rev)
				return w.queryURL(strings.Replace(w.url(path), "127.0.0.1", "localhost", 1), rev, 1)
			},
			checker: func(w *world) *statushttp.Checker {
				return statushttp.New(w.listV, w.tlsConfig(), statushttp.WithClock(w.clock.Now))
			},
			want: []error{statushttp.ErrFetch, did.ErrUnsafeAddress},
		},
		{
			name: "private address even with the test switch",
			setup: func(w *world) verifier.StatusQuery {
				return w.queryURL("https://10.0.0.1/lists/x", rev, 1)
			},
			want: []error{statushttp.ErrFetch, did.ErrUnsafeAddress},
		},
		{
			name: "link-local metadata address",
			setup: func(w *world) verifier.StatusQuery {
				return w.queryURL("https://169.254.169.254/latest", rev, 1)
			},
			want: []error{statushttp.ErrFetch, did.ErrUnsafeAddress},
		},
		{
			name: "untrusted tls certificate",
			setup: func(w *world) verifier.StatusQuery {
				w.publishList(path, issuer.FormatJWT, rev)
				return w.query(path, rev, 1)
			},
			checker: func(w *world) *statushttp.Checker {
				return statushttp.New(w.listV, statushttp.WithTestLoopback(), statushttp.WithClock(w.clock.Now))
			},
			want: []error{statushttp.ErrFetch},
		},
		{
			name: "malformed entry",
			setup: func(w *world) verifier.StatusQuery {
				w.publishList(path, issuer.FormatJWT, rev)
				q := w.query(path, rev, 1)
				q.Entry.StatusListIndex = "01"
				return q
			},
			want: []error{statuslist.ErrMalformed},
		},
		{
			name: "query without issuer",
			setup: func(w *world) verifier.StatusQuery {
				w.publishList(path, issuer.FormatJWT, rev)
				q := w.query(path, rev, 1)
				q.Issuer = ""
				return q
			},
			want: []error{statushttp.ErrMismatch},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t, true)
			q := tc.setup(w)
			c := w.checker()
			if tc.checker != nil {
				c = tc.checker(w)
			}
			set, err := c.CheckStatus(context.Background(), q)
			if err == nil || set {
				t.Fatalf("CheckStatus = %v, %v; want an error", set, err)
			}
			t.Log(err)
			for _, want := range tc.want {
				if !errors.Is(err, want) {
					t.Fatalf("error %v\ndoes not wrap %v", err, want)
				}
			}
			if got := w.srv.hitsOf(path); (got > 0) != tc.fetched {
				t.Fatalf("server asked %d times, want fetched=%v", got, tc.fetched)
			}
			if w.srv.hitsOf("/lists/target") != 0 {
				t.Fatal("the redirect was followed")
			}
		})
	}
}

func TestCacheMaxAgeAndRevalidation(t *testing.T) {
	const path = "/lists/rev"
	w := newWorld(t, true)
	w.publishList(path, issuer.FormatJWT, statuslist.PurposeRevocation, 5)
	c := w.checker()
	q := w.query(path, statuslist.PurposeRevocation, 5)
	steps := []struct {
		advance   time.Duration
		hits      int
		inm       bool // the last request carried If-None-Match
		republish []int
		want      bool
	}{
		{0, 1, false, nil, true},
		{4 * time.Minute, 1, false, nil, true}, // within MaxAge: cached
		{2 * time.Minute, 2, true, nil, true},  // past it: revalidated, 304
		{4 * time.Minute, 2, true, nil, true},  // the 304 renewed the entry
		{0, 2, true, []int{}, true},            // the list changes: still cached
		{2 * time.Minute, 3, true, nil, false}, // refetched: new ETag, 200
		{statushttp.DefaultMaxAge - time.Second, 3, true, nil, false},
	}
	for i, s := range steps {
		w.clock.Advance(s.advance)
		if s.republish != nil {
			w.publishList(path, issuer.FormatJWT, statuslist.PurposeRevocation, s.republish...)
		}
		expect(t, c, q, s.want)
		if got := w.srv.hitsOf(path); got != s.hits {
			t.Fatalf("step %d: %d requests, want %d", i, got, s.hits)
		}
		w.srv.mu.Lock()
		last := w.srv.inm[path][len(w.srv.inm[path])-1]
		w.srv.mu.Unlock()
		if (last != "") != s.inm {
			t.Fatalf("step %d: If-None-Match %q", i, last)
		}
	}
}

func TestCacheControlShortens(t *testing.T) {
	tests := []struct {
		cacheControl string
		advance      time.Duration
		refetch      bool
	}{
		{"max-age=60", 59 * time.Second, false},
		{"max-age=60", 61 * time.Second, true},
		{"public, max-age=\"60\"", 61 * time.Second, true},
		{"max-age=86400", 6 * time.Minute, true}, // never longer than MaxAge
		{"no-cache", 0, true},
		{"no-store", 0, true},
		{"max-age=junk", 4 * time.Minute, false},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%s/%v", tc.cacheControl, tc.advance), func(t *testing.T) {
			const path = "/lists/rev"
			w := newWorld(t, true)
			body, ct := w.sign(w.issuer, w.listDoc(path, statuslist.PurposeRevocation, 1), issuer.FormatJWT)
			w.publish(path, body, ct, func(r *route) { r.cacheControl = tc.cacheControl })
			c := w.checker()
			q := w.query(path, statuslist.PurposeRevocation, 1)
			expect(t, c, q, true)
			w.clock.Advance(tc.advance)
			expect(t, c, q, true)
			want := 1
			if tc.refetch {
				want = 2
			}
			if got := w.srv.hitsOf(path); got != want {
				t.Fatalf("%d requests, want %d", got, want)
			}
		})
	}
}

func TestBoundedStaleness(t *testing.T) {
	tests := []struct {
		name       string
		maxStale   time.Duration
		validUntil time.Duration // of the list credential, from now; 0: a month
		advance    time.Duration
		ok         bool
	}{
		{"no staleness allowed", 0, 0, 6 * time.Minute, false},
		{"within the bound", time.Hour, 0, 6 * time.Minute, true},
		{"well within the bound", time.Hour, 0, 59 * time.Minute, true},
		{"beyond the bound", time.Hour, 0, 61 * time.Minute, false},
		{"past the list's validUntil", time.Hour, 10 * time.Minute, 20 * time.Minute, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			const path = "/lists/rev"
			w := newWorld(t, true)
			doc := w.listDoc(path, statuslist.PurposeRevocation, 2)
			if tc.validUntil != 0 {
				doc["validUntil"] = credential.FormatDateTime(w.clock.Now().Add(tc.validUntil))
			}
			body, ct := w.sign(w.issuer, doc, issuer.FormatEdDSARDFC)
			w.publish(path, body, ct, nil)
			c := w.checker(statushttp.WithMaxStaleness(tc.maxStale))
			q := w.query(path, statuslist.PurposeRevocation, 2)
			expect(t, c, q, true)
			w.srv.srv.Close() // the server goes down
			w.clock.Advance(tc.advance)
			set, err := c.CheckStatus(context.Background(), q)
			if tc.ok && (err != nil || !set) {
				t.Fatalf("stale lookup = %v, %v; want the cached answer", set, err)
			}
			if !tc.ok && (err == nil || set) {
				t.Fatalf("stale lookup = %v, %v; want an error", set, err)
			}
		})
	}
}

// TestConcurrentLookupsShareOneFetch holds the server's answer until every lookup has
// joined the fetch in flight; one request serves them all.
func TestConcurrentLookupsShareOneFetch(t *testing.T) {
	const path, n = "/lists/rev", 8
	w := newWorld(t, true)
	w.publishList(path, issuer.FormatJWT, statuslist.PurposeRevocation, 7)
	c := w.checker()
	started, release := make(chan struct{}, 1), make(chan struct{})
	w.srv.mu.Lock()
	w.srv.gate = func() { started <- struct{}{}; <-release }
	w.srv.mu.Unlock()
	joined := make(chan struct{}, n)
	statushttp.SetJoinHook(c, func() { joined <- struct{}{} })

	type answer struct {
		set bool
		err error
	}
	answers := make(chan answer, n)
	lookup := func(ctx context.Context, index int) {
		set, err := c.CheckStatus(ctx, w.query(path, statuslist.PurposeRevocation, index))
		answers <- answer{set, err}
	}
	go lookup(context.Background(), 7)
	<-started
	for i := 1; i < n; i++ {
		go lookup(context.Background(), 7+i%2) // bits 7 (set) and 8 (clear)
	}
	// A caller that gives up while waiting gets an error; the shared fetch goes on.
	ctx, cancel := context.WithCancel(context.Background())
	go lookup(ctx, 7)
	for range n {
		<-joined
	}
	cancel()
	if a := <-answers; a.err == nil || !errors.Is(a.err, context.Canceled) {
		t.Fatalf("cancelled caller: %v, %v", a.set, a.err)
	}
	close(release)
	setCount := 0
	for range n {
		a := <-answers
		if a.err != nil {
			t.Fatal(a.err)
		}
		if a.set {
			setCount++
		}
	}
	if setCount != n/2 {
		t.Fatalf("%d lookups saw the bit set, want %d", setCount, n/2)
	}
	if got := w.srv.hitsOf(path); got != 1 {
		t.Fatalf("%d requests for %d concurrent lookups, want 1", got, n+1)
	}
}

func TestCacheIsBounded(t *testing.T) {
	w := newWorld(t, true)
	c := w.checker(statushttp.WithCacheSize(2))
	paths := []string{"/lists/a", "/lists/b", "/lists/c"}
	for _, p := range paths {
		w.publishList(p, issuer.FormatJWT, statuslist.PurposeRevocation)
	}
	for _, p := range paths {
		expect(t, c, w.query(p, statuslist.PurposeRevocation, 1), false)
		w.clock.Advance(time.Second)
	}
	if got := statushttp.CacheLen(c); got != 2 {
		t.Fatalf("cache holds %d lists, want 2", got)
	}
	// a, fetched longest ago, was dropped; c is still cached.
	expect(t, c, w.query("/lists/a", statuslist.PurposeRevocation, 1), false)
	expect(t, c, w.query("/lists/c", statuslist.PurposeRevocation, 1), false)
	if a, cc := w.srv.hitsOf("/lists/a"), w.srv.hitsOf("/lists/c"); a != 2 || cc != 1 {
		t.Fatalf("requests: a %d (want 2), c %d (want 1)", a, cc)
	}
}

// TestCachedListServesOnlyItsIssuer: a cached list of one issuer does not answer for a
// credential of another, even while fresh.
func TestCachedListServesOnlyItsIssuer(t *testing.T) {
	const path = "/lists/rev"
	w := newWorld(t, true)
	w.publishList(path, issuer.FormatJWT, statuslist.PurposeRevocation, 1)
	c := w.checker()
	q := w.query(path, statuslist.PurposeRevocation, 1)
	expect(t, c, q, true)
	q.Issuer = w.attacker.iss.DID()
	if _, err := c.CheckStatus(context.Background(), q); !errors.Is(err, statushttp.ErrMismatch) {
		t.Fatalf("another issuer's query: %v, want ErrMismatch", err)
	}
	q = w.query(path, statuslist.PurposeSuspension, 1)
	if _, err := c.CheckStatus(context.Background(), q); !errors.Is(err, statuslist.ErrPurposeMismatch) {
		t.Fatalf("another purpose on the cached list: %v, want ErrPurposeMismatch", err)
	}
}

// TestEndToEnd verifies a membership credential whose status entries point at the test
// server while the issuer suspends, reinstates and revokes it, and the server goes down.
func TestEndToEnd(t *testing.T) {
	w := newWorld(t, true)
	const revPath, susPath, revIndex, susIndex = "/status/revocation", "/status/suspension", 1234, 99
	w.publishList(revPath, issuer.FormatJWT, statuslist.PurposeRevocation)
	w.publishList(susPath, issuer.FormatEdDSARDFC, statuslist.PurposeSuspension)

	checker := w.checker()
	v, err := verifier.New(verifier.WithClock(w.clock.Now), verifier.WithStatusChecker(checker))
	if err != nil {
		t.Fatal(err)
	}
	var subj map[string]any
	if err := json.Unmarshal(schemas.ExampleSubject("MembershipCredential"), &subj); err != nil {
		t.Fatal(err)
	}
	revEntry, err := statuslist.NewEntry(w.url(revPath), statuslist.PurposeRevocation, revIndex)
	if err != nil {
		t.Fatal(err)
	}
	susEntry, err := statuslist.NewEntry(w.url(susPath), statuslist.PurposeSuspension, susIndex)
	if err != nil {
		t.Fatal(err)
	}
	sec, err := w.issuer.iss.Issue(context.Background(), issuer.Request{
		Type: "MembershipCredential", Subject: subj,
		Status: []map[string]any{revEntry.Map(), susEntry.Map()},
	}, issuer.FormatJWT)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := sec.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	policy := verifier.DefaultPolicy(w.issuer.iss.DID())
	steps := []struct {
		name    string
		publish func()
		want    *verifier.Error // nil: verified
	}{
		{"in good standing", func() {}, nil},
		{"suspended", func() { w.publishList(susPath, issuer.FormatEdDSARDFC, statuslist.PurposeSuspension, susIndex) }, verifier.ErrSuspended},
		{"reinstated", func() { w.publishList(susPath, issuer.FormatEdDSARDFC, statuslist.PurposeSuspension) }, nil},
		{"revoked", func() { w.publishList(revPath, issuer.FormatJWT, statuslist.PurposeRevocation, revIndex) }, verifier.ErrRevoked},
		{"unrevoked list, server down", func() {
			w.publishList(revPath, issuer.FormatJWT, statuslist.PurposeRevocation)
			w.srv.srv.Close()
		}, verifier.ErrStatusUnavailable},
	}
	for _, s := range steps {
		s.publish()
		w.clock.Advance(statushttp.DefaultMaxAge + time.Second)
		res, err := v.Verify(context.Background(), raw, policy)
		if s.want == nil {
			if err != nil || !res.Verified {
				t.Fatalf("%s: %v", s.name, err)
			}
			continue
		}
		if res.Verified || !errors.Is(err, s.want) {
			t.Fatalf("%s: %v, want %s", s.name, err, s.want.Code)
		}
	}
}

func BenchmarkCheckStatusCached(b *testing.B) {
	w := newWorld(b, true)
	w.publishList("/lists/rev", issuer.FormatJWT, statuslist.PurposeRevocation, 3)
	c := w.checker()
	q := w.query("/lists/rev", statuslist.PurposeRevocation, 3)
	if _, err := c.CheckStatus(context.Background(), q); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.CheckStatus(context.Background(), q); err != nil {
			b.Fatal(err)
		}
	}
}

// TestTimeoutAndCancellation: a server that never answers fails the lookup after the
// timeout, and a caller whose context is already done starts no fetch.
func TestTimeoutAndCancellation(t *testing.T) {
	const path = "/lists/rev"
	w := newWorld(t, true)
	w.publishList(path, issuer.FormatJWT, statuslist.PurposeRevocation)
	release := make(chan struct{})
	t.Cleanup(func() { close(release) }) // runs before the server's Close
	w.srv.mu.Lock()
	w.srv.gate = func() { <-release }
	w.srv.mu.Unlock()
	q := w.query(path, statuslist.PurposeRevocation, 1)

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := w.checker().CheckStatus(ctx, q); !errors.Is(err, statushttp.ErrFetch) || !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled context: %v", err)
	}
	if got := w.srv.hitsOf(path); got != 0 {
		t.Fatalf("a cancelled lookup fetched %d times", got)
	}

	_, err := w.checker(statushttp.WithTimeout(100*time.Millisecond)).CheckStatus(context.Background(), q)
	var ne net.Error
	if !errors.Is(err, statushttp.ErrFetch) || !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("hanging server: %v, want a fetch timeout", err)
	}
}
