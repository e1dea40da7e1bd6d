package kiosk_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image/png"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/civitas-net/civitas/internal/jsonstrict"
	"github.com/civitas-net/civitas/verifier/node"
	"github.com/civitas-net/civitas/verifier/node/kiosk"
)

var fixedNow = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

// fakeDoor answers with a fixed decision or error and records what it was given.
type fakeDoor struct {
	mu       sync.Mutex
	decision node.Decision
	err      error
	panics   bool
	got      [][]byte
	expires  time.Time
	ttl      time.Duration // when set, challenges expire ttl from the wall clock
	issued   int
}

func (d *fakeDoor) Challenge(context.Context) (node.Challenge, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.err != nil {
		return node.Challenge{}, d.err
	}
	d.issued++
	exp := d.expires
	if d.ttl > 0 {
		exp = time.Now().Add(d.ttl)
	}
	if exp.IsZero() {
		exp = fixedNow.Add(time.Minute)
	}
	return node.Challenge{Nonce: fmt.Sprintf("nonce-%d", d.issued), Audience: "did:example:node", Expires: exp}, nil
}

func (d *fakeDoor) CheckIn(_ context.Context, vp []byte) (node.Decision, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.panics {
		panic("door broke")
	}
	d.got = append(d.got, bytes.Clone(vp))
	if d.err != nil {
		return node.Decision{}, d.err
	}
	return d.decision, nil
}

func (d *fakeDoor) calls() [][]byte {
	d.mu.Lock()
	defer d.mu.Unlock()
	return slices.Clone(d.got)
}

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

type resp struct {
	status int
	header http.Header
	body   []byte
}

func do(t testing.TB, h http.Handler, method, target, contentType string, body io.Reader, hdr ...string) resp {
	t.Helper()
	req := httptest.NewRequest(method, target, body)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return resp{rec.Code, rec.Header(), rec.Body.Bytes()}
}

// problem decodes a problem details body and checks its shape.
func problem(t testing.TB, r resp, status int, code string) kiosk.Problem {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d: %s", r.status, status, r.body)
	}
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/problem+json") {
		t.Fatalf("content type %q, want problem JSON", ct)
	}
	var p kiosk.Problem
	if err := jsonstrict.Unmarshal(r.body, &p, jsonstrict.DefaultLimits); err != nil {
		t.Fatalf("problem body: %v: %s", err, r.body)
	}
	if p.Code != code || p.Status != status || p.Title == "" || !strings.HasSuffix(p.Type, "/"+code) || p.RequestID == "" {
		t.Fatalf("problem %+v, want code %s status %d", p, code, status)
	}
	if r.header.Get("Cache-Control") != "no-store" {
		t.Fatalf("problem Cache-Control %q", r.header.Get("Cache-Control"))
	}
	return p
}

func TestRoutes(t *testing.T) {
	door := &fakeDoor{decision: node.Decision{Decision: node.Admitted, Admitted: true, At: fixedNow}}
	h := kiosk.New(door, kiosk.Options{Logger: quietLogger(), Clock: func() time.Time { return fixedNow }})
	tests := []struct {
		method, path, ctype, body string
		status                    int
		wantType                  string
		noStore                   bool
	}{
		{"GET", "/", "", "", 200, "text/html; charset=utf-8", true},
		{"GET", "/assets/kiosk.css", "", "", 200, "text/css; charset=utf-8", false},
		{"GET", "/assets/kiosk.js", "", "", 200, "text/javascript; charset=utf-8", false},
		{"GET", "/assets/nope.js", "", "", 404, "application/problem+json", true},
		{"GET", "/assets/../kiosk.go", "", "", 404, "application/problem+json", true},
		{"GET", "/healthz", "", "", 200, "application/json; charset=utf-8", true},
		{"GET", "/api/challenge", "", "", 200, "application/json; charset=utf-8", true},
		{"GET", "/api/challenge.png", "", "", 200, "image/png", true},
		{"GET", "/api/challenge.png?nonce=never-issued", "", "", 404, "application/problem+json", true},
		{"POST", "/api/checkin", "text/plain", "eyJhbGciOiJFZERTQSJ9.e30.c2ln", 200, "application/json; charset=utf-8", true},
		{"POST", "/api/challenge", "", "", 405, "application/problem+json", true},
		{"GET", "/api/checkin", "", "", 405, "application/problem+json", true},
		{"GET", "/nope", "", "", 404, "application/problem+json", true},
		{"GET", "/favicon.ico", "", "", 204, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			r := do(t, h, tt.method, tt.path, tt.ctype, strings.NewReader(tt.body))
			if r.status != tt.status {
				t.Fatalf("status %d, want %d: %s", r.status, tt.status, r.body)
			}
			if got := r.header.Get("Content-Type"); got != tt.wantType {
				t.Fatalf("Content-Type %q, want %q", got, tt.wantType)
			}
			if csp := r.header.Get("Content-Security-Policy"); csp != kiosk.ContentSecurityPolicy || !strings.Contains(csp, "default-src 'self'") {
				t.Fatalf("Content-Security-Policy %q", csp)
			}
			if r.header.Get("X-Content-Type-Options") != "nosniff" || r.header.Get("X-Frame-Options") != "DENY" {
				t.Fatalf("missing hardening headers: %v", r.header)
			}
			if r.header.Get("X-Request-ID") == "" {
				t.Fatal("no X-Request-ID")
			}
			if tt.noStore && r.header.Get("Cache-Control") != "no-store" {
				t.Fatalf("Cache-Control %q, want no-store", r.header.Get("Cache-Control"))
			}
			if tt.status >= 400 {
				var p kiosk.Problem
				if err := json.Unmarshal(r.body, &p); err != nil || p.Status != tt.status || p.Code == "" {
					t.Fatalf("problem %s (%v)", r.body, err)
				}
			}
		})
	}
}

func TestCSPForbidsRemoteSources(t *testing.T) {
	csp := kiosk.ContentSecurityPolicy
	for _, d := range strings.Split(csp, ";") {
		f := strings.Fields(d)
		if len(f) < 2 {
			t.Fatalf("directive %q", d)
		}
		for _, src := range f[1:] {
			if src != "'self'" && src != "'none'" {
				t.Fatalf("directive %q allows %s", d, src)
			}
		}
	}
	for _, want := range []string{"default-src 'self'", "script-src 'self'", "object-src 'none'", "frame-ancestors 'none'", "base-uri 'none'"} {
		if !strings.Contains(csp, want) {
			t.Fatalf("CSP lacks %q", want)
		}
	}
}

func TestPage(t *testing.T) {
	h := kiosk.New(&fakeDoor{}, kiosk.Options{Logger: quietLogger(), Title: `Casa <Verde> & "Co"`, ResultDuration: 2500 * time.Millisecond})
	r := do(t, h, "GET", "/", "", nil)
	page := string(r.body)
	for _, id := range []string{"challenge-qr", "challenge-nonce", "challenge-audience", "challenge-expires", "presentation", "submit", "result", "result-title", "result-reasons", "checkin-form"} {
		if !strings.Contains(page, `id="`+id+`"`) {
			t.Errorf("page has no #%s", id)
		}
	}
	for _, want := range []string{
		`<h1 id="title">Casa &lt;Verde&gt; &amp; &#34;Co&#34;</h1>`,
		`data-result-ms="2500"`,
		`aria-live="assertive"`,
		`<script src="/assets/kiosk.js" defer></script>`,
		`<link rel="stylesheet" href="/assets/kiosk.css">`,
		`<html lang="en">`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %s", want)
		}
	}
	if strings.Contains(page, "<Verde>") || strings.Contains(page, "style=") || strings.Contains(page, "<script>") {
		t.Error("page has an unescaped title, inline style or inline script")
	}
	// The default title.
	if !strings.Contains(string(do(t, kiosk.New(&fakeDoor{}, kiosk.Options{Logger: quietLogger()}), "GET", "/", "", nil).body), kiosk.DefaultTitle) {
		t.Error("no default title")
	}
}

func TestAssetsCaching(t *testing.T) {
	h := kiosk.New(&fakeDoor{}, kiosk.Options{Logger: quietLogger()})
	r := do(t, h, "GET", "/assets/kiosk.js", "", nil)
	etag := r.header.Get("ETag")
	if etag == "" || r.header.Get("Cache-Control") != "no-cache" || len(r.body) == 0 {
		t.Fatalf("ETag %q Cache-Control %q", etag, r.header.Get("Cache-Control"))
	}
	if r := do(t, h, "GET", "/assets/kiosk.js", "", nil, "If-None-Match", etag); r.status != http.StatusNotModified {
		t.Fatalf("If-None-Match: status %d", r.status)
	}
	if r := do(t, h, "GET", "/assets/kiosk.js", "", nil, "If-None-Match", `"other"`); r.status != http.StatusOK {
		t.Fatalf("other ETag: status %d", r.status)
	}
}

func TestChallenge(t *testing.T) {
	now := fixedNow
	door := &fakeDoor{expires: fixedNow.Add(time.Minute)}
	h := kiosk.New(door, kiosk.Options{Logger: quietLogger(), Clock: func() time.Time { return now }})

	r := do(t, h, "GET", "/api/challenge", "", nil)
	var c node.Challenge
	if err := jsonstrict.Unmarshal(r.body, &c, jsonstrict.DefaultLimits); err != nil {
		t.Fatal(err)
	}
	if c.Nonce == "" || c.Audience != "did:example:node" || !c.Expires.Equal(door.expires) {
		t.Fatalf("challenge %+v", c)
	}
	var shape map[string]any
	if err := json.Unmarshal(r.body, &shape); err != nil || len(shape) != 3 {
		t.Fatalf("challenge JSON %s", r.body)
	}

	// The QR code of that nonce, as a PNG image.
	r = do(t, h, "GET", "/api/challenge.png?nonce="+c.Nonce, "", nil)
	if r.status != 200 || r.header.Get("X-Challenge-Nonce") != c.Nonce {
		t.Fatalf("png: %d %v", r.status, r.header)
	}
	img, err := png.Decode(bytes.NewReader(r.body))
	if err != nil {
		t.Fatalf("not a PNG: %v", err)
	}
	if b := img.Bounds(); b.Dx() < 100 || b.Dx() != b.Dy() {
		t.Fatalf("QR image %v", b)
	}
	again := do(t, h, "GET", "/api/challenge.png?nonce="+c.Nonce, "", nil)
	if !bytes.Equal(again.body, r.body) {
		t.Fatal("the same nonce drew another image")
	}

	// Without a nonce: a new challenge, named in the header.
	r = do(t, h, "GET", "/api/challenge.png", "", nil)
	if n := r.header.Get("X-Challenge-Nonce"); r.status != 200 || n == "" || n == c.Nonce {
		t.Fatalf("new png: %d nonce %q", r.status, n)
	}

	// Expired challenges are forgotten.
	now = fixedNow.Add(2 * time.Minute)
	problem(t, do(t, h, "GET", "/api/challenge.png?nonce="+c.Nonce, "", nil), 404, kiosk.CodeUnknownChallenge)
}

func TestChallengeMemoryIsBounded(t *testing.T) {
	door := &fakeDoor{expires: fixedNow.Add(time.Hour)}
	h := kiosk.New(door, kiosk.Options{Logger: quietLogger(), Clock: func() time.Time { return fixedNow }})
	var first node.Challenge
	for i := range 300 {
		r := do(t, h, "GET", "/api/challenge", "", nil)
		if i == 0 {
			if err := json.Unmarshal(r.body, &first); err != nil {
				t.Fatal(err)
			}
		}
	}
	problem(t, do(t, h, "GET", "/api/challenge.png?nonce="+first.Nonce, "", nil), 404, kiosk.CodeUnknownChallenge)
}

func TestCheckinWithRealDoor(t *testing.T) {
	now := fixedNow
	w := newWorld(t, func() time.Time { return now })
	h := kiosk.New(w.door, kiosk.Options{Logger: quietLogger(), Clock: w.now})

	challenge := func() node.Challenge {
		r := do(t, h, "GET", "/api/challenge", "", nil)
		var c node.Challenge
		if err := json.Unmarshal(r.body, &c); err != nil {
			t.Fatal(err)
		}
		if c.Audience != w.nodeDID {
			t.Fatalf("audience %q", c.Audience)
		}
		return c
	}
	decide := func(ctype string, body []byte) (node.Decision, map[string]any) {
		t.Helper()
		r := do(t, h, "POST", "/api/checkin", ctype, bytes.NewReader(body))
		if r.status != 200 || r.header.Get("Cache-Control") != "no-store" || r.header.Get("Content-Type") != "application/json; charset=utf-8" {
			t.Fatalf("status %d %v: %s", r.status, r.header, r.body)
		}
		var d node.Decision
		if err := jsonstrict.Unmarshal(r.body, &d, jsonstrict.DefaultLimits); err != nil {
			t.Fatal(err)
		}
		var shape map[string]any
		if err := json.Unmarshal(r.body, &shape); err != nil {
			t.Fatal(err)
		}
		return d, shape
	}

	c := challenge()
	vp := w.present(c.Nonce, c.Audience)
	d, shape := decide("text/plain", append(slices.Clone(vp), "\r\n"...))
	if d.Decision != node.Admitted || !d.Admitted || d.Type != "MembershipCredential" || d.Seq != 1 || !d.At.Equal(now) {
		t.Fatalf("decision %+v", d)
	}
	for _, k := range []string{"decision", "admitted", "type", "at", "seq"} {
		if _, ok := shape[k]; !ok {
			t.Errorf("decision JSON lacks %q: %v", k, shape)
		}
	}
	if _, ok := shape["codes"]; ok {
		t.Errorf("admitted decision has codes: %v", shape)
	}

	// The same presentation again: refused as a replay, in words.
	d, shape = decide("text/plain", vp)
	if d.Decision != node.Refused || d.Admitted || !slices.Equal(d.Codes, []string{"replayed"}) ||
		len(d.Reasons) != 1 || !strings.Contains(d.Reasons[0], "already used") {
		t.Fatalf("replay: %+v", d)
	}
	if shape["admitted"] != false || shape["decision"] != "refused" {
		t.Fatalf("refused JSON %v", shape)
	}

	// A presentation for another door.
	c = challenge()
	d, _ = decide("", w.present(c.Nonce, "did:example:another-node"))
	if d.Decision != node.Refused || !slices.Contains(d.Codes, "audience_mismatch") || !strings.Contains(strings.Join(d.Reasons, " "), "another door") {
		t.Fatalf("other audience: %+v", d)
	}

	// A nonce this door never gave.
	d, _ = decide("", w.present("made-up-nonce", w.nodeDID))
	if d.Decision != node.Refused || !slices.Equal(d.Codes, []string{"unknown_challenge"}) {
		t.Fatalf("unknown nonce: %+v", d)
	}

	// The JSON forms: {"presentation": "…"} and a JSON string.
	c = challenge()
	body, _ := json.Marshal(map[string]string{"presentation": string(w.present(c.Nonce, c.Audience))})
	if d, _ = decide("application/json", body); d.Decision != node.Admitted {
		t.Fatalf("wrapped: %+v", d)
	}
	c = challenge()
	body, _ = json.Marshal(string(w.present(c.Nonce, c.Audience)))
	if d, _ = decide("application/json; charset=utf-8", body); d.Decision != node.Admitted {
		t.Fatalf("JSON string: %+v", d)
	}

	// Garbage that is text is the door's to refuse, not a malformed request.
	if d, _ = decide("text/plain", []byte("not-a-presentation")); d.Decision != node.Refused {
		t.Fatalf("garbage: %+v", d)
	}
}

func TestCheckinBadRequests(t *testing.T) {
	door := &fakeDoor{decision: node.Decision{Decision: node.Admitted, Admitted: true}}
	h := kiosk.New(door, kiosk.Options{Logger: quietLogger(), BodyLimit: 1024})
	big := strings.Repeat("a", 1025)
	tests := []struct {
		name, ctype string
		body        io.Reader
		hdr         []string
		status      int
		code        string
	}{
		{"empty", "text/plain", strings.NewReader(""), nil, 400, kiosk.CodeEmptyPresentation},
		{"blank", "", strings.NewReader(" \r\n\t"), nil, 400, kiosk.CodeEmptyPresentation},
		{"malformed JSON", "application/json", strings.NewReader(`{"presentation":`), nil, 400, kiosk.CodeMalformedRequest},
		{"malformed JSON, typed as text", "text/plain", strings.NewReader(`{"presentation" "x"}`), nil, 400, kiosk.CodeMalformedRequest},
		{"JSON not a token", "application/json", strings.NewReader(`eyJhbGciOiJFZERTQSJ9.e30.c2ln`), nil, 400, kiosk.CodeMalformedRequest},
		{"duplicate keys", "application/json", strings.NewReader(`{"presentation":"a.b.c","presentation":"d.e.f"}`), nil, 400, kiosk.CodeMalformedRequest},
		{"array", "application/json", strings.NewReader(`["a.b.c"]`), nil, 400, kiosk.CodeMalformedRequest},
		{"number in wrapper", "application/json", strings.NewReader(`{"presentation":42}`), nil, 400, kiosk.CodeMalformedRequest},
		{"null in wrapper", "application/json", strings.NewReader(`{"presentation":null}`), nil, 400, kiosk.CodeEmptyPresentation},
		{"extra member", "application/json", strings.NewReader(`{"presentation":"a.b.c","x":1}`), nil, 400, kiosk.CodeMalformedRequest},
		{"space inside token", "text/plain", strings.NewReader("eyJhbGci OiJFZERTQSJ9.e30.c2ln"), nil, 400, kiosk.CodeMalformedRequest},
		{"control character", "text/plain", strings.NewReader("eyJ\x00hbGci.e30.c2ln"), nil, 400, kiosk.CodeMalformedRequest},
		{"invalid UTF-8", "text/plain", strings.NewReader("eyJ\xffhbGci.e30.c2ln"), nil, 400, kiosk.CodeMalformedRequest},
		{"HTML form", "application/x-www-form-urlencoded", strings.NewReader("presentation=a.b.c"), nil, 415, kiosk.CodeUnsupportedMediaType},
		{"multipart", "multipart/form-data; boundary=x", strings.NewReader("--x--"), nil, 415, kiosk.CodeUnsupportedMediaType},
		{"latin-1", "text/plain; charset=iso-8859-1", strings.NewReader("a.b.c"), nil, 415, kiosk.CodeUnsupportedMediaType},
		{"bad media type", "text/", strings.NewReader("a.b.c"), nil, 415, kiosk.CodeUnsupportedMediaType},
		{"too large, length known", "text/plain", strings.NewReader(big), nil, 413, kiosk.CodeBodyTooLarge},
		{"too large, streamed", "text/plain", io.MultiReader(strings.NewReader(big)), nil, 413, kiosk.CodeBodyTooLarge},
		{"cross-site origin", "text/plain", strings.NewReader("a.b.c"), []string{"Origin", "http://evil.example"}, 403, kiosk.CodeCrossOrigin},
		{"null origin", "text/plain", strings.NewReader("a.b.c"), []string{"Origin", "null"}, 403, kiosk.CodeCrossOrigin},
		{"cross-site fetch", "text/plain", strings.NewReader("a.b.c"), []string{"Sec-Fetch-Site", "cross-site"}, 403, kiosk.CodeCrossOrigin},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest("POST", "/api/checkin", tt.body)
			if _, known := tt.body.(*strings.Reader); !known {
				req.ContentLength = -1
			}
			req.Header.Set("Content-Type", tt.ctype)
			for i := 0; i+1 < len(tt.hdr); i += 2 {
				req.Header.Set(tt.hdr[i], tt.hdr[i+1])
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			problem(t, resp{rec.Code, rec.Header(), rec.Body.Bytes()}, tt.status, tt.code)
		})
	}
	if n := len(door.calls()); n != 0 {
		t.Fatalf("the door was asked %d times about bad requests", n)
	}

	// The same origin (the kiosk's own page) and apps without Origin pass.
	for _, hdr := range [][]string{{"Origin", "http://example.com"}, {"Sec-Fetch-Site", "same-origin"}, nil} {
		if r := do(t, h, "POST", "/api/checkin", "text/plain", strings.NewReader("a.b.c"), hdr...); r.status != 200 {
			t.Fatalf("%v: status %d %s", hdr, r.status, r.body)
		}
	}
}

func TestCheckinPassesReceivedBytes(t *testing.T) {
	door := &fakeDoor{decision: node.Decision{Decision: node.Refused, Codes: []string{"malformed"}}}
	h := kiosk.New(door, kiosk.Options{Logger: quietLogger()})
	di := `{"@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiablePresentation"],  "proof": {"challenge": "n"}}`
	for _, tt := range []struct{ ctype, body, want string }{
		{"application/json", di, di},
		{"text/plain", "\n" + di + "\n", di},
		{"application/json", `{"presentation": ` + di + `}`, di},
		{"application/vp+jwt", "a.b.c\r\n", "a.b.c"},
		{"application/dc+sd-jwt", "a.b.c~d~", "a.b.c~d~"},
		{"", `"a.b.c"`, "a.b.c"},
	} {
		before := len(door.calls())
		if r := do(t, h, "POST", "/api/checkin", tt.ctype, strings.NewReader(tt.body)); r.status != 200 {
			t.Fatalf("%s: %d %s", tt.body, r.status, r.body)
		}
		got := door.calls()
		if len(got) != before+1 || string(got[before]) != tt.want {
			t.Fatalf("door got %q, want %q", got[len(got)-1], tt.want)
		}
	}
}

func TestDoorErrors(t *testing.T) {
	var logs bytes.Buffer
	door := &fakeDoor{err: errors.New("ledger: disk full at /secret/path")}
	h := kiosk.New(door, kiosk.Options{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	for _, r := range []resp{
		do(t, h, "POST", "/api/checkin", "text/plain", strings.NewReader("a.b.c")),
		do(t, h, "GET", "/api/challenge", "", nil),
		do(t, h, "GET", "/api/challenge.png", "", nil),
	} {
		p := problem(t, r, 503, kiosk.CodeDoorUnavailable)
		if strings.Contains(p.Detail, "disk full") || strings.Contains(string(r.body), "/secret/path") {
			t.Fatalf("the door's error leaked to the client: %s", r.body)
		}
	}
	if !strings.Contains(logs.String(), "disk full") {
		t.Fatalf("the door's error is not in the log: %s", logs.String())
	}

	// A door that panics: 500, logged, and the server goes on.
	door = &fakeDoor{panics: true}
	h = kiosk.New(door, kiosk.Options{Logger: quietLogger()})
	problem(t, do(t, h, "POST", "/api/checkin", "text/plain", strings.NewReader("a.b.c")), 500, kiosk.CodeInternal)
	if r := do(t, h, "GET", "/healthz", "", nil); r.status != 200 {
		t.Fatalf("after a panic: %d", r.status)
	}
}

func TestRequestID(t *testing.T) {
	h := kiosk.New(&fakeDoor{}, kiosk.Options{Logger: quietLogger()})
	if got := do(t, h, "GET", "/healthz", "", nil, "X-Request-ID", "abc-123").header.Get("X-Request-ID"); got != "abc-123" {
		t.Fatalf("X-Request-ID %q", got)
	}
	for _, bad := range []string{"has space", strings.Repeat("x", 65), "ünï"} {
		got := do(t, h, "GET", "/healthz", "", nil, "X-Request-ID", bad).header.Get("X-Request-ID")
		if got == bad || len(got) != 16 {
			t.Fatalf("X-Request-ID %q for %q", got, bad)
		}
	}
}

func TestLogHoldsNoPresentation(t *testing.T) {
	var logs bytes.Buffer
	door := &fakeDoor{decision: node.Decision{Decision: node.Refused, Codes: []string{"revoked"}, Reasons: []string{"Revoked."}}}
	h := kiosk.New(door, kiosk.Options{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	secret := "eyJzZWNyZXQiOiJ0b2tlbiJ9.eyJtZW1iZXIiOiJhbGljZSJ9.c2lnbmF0dXJl"
	do(t, h, "POST", "/api/checkin", "text/plain", strings.NewReader(secret))
	if strings.Contains(logs.String(), "eyJ") || !strings.Contains(logs.String(), "codes=revoked") {
		t.Fatalf("log: %s", logs.String())
	}
}

func BenchmarkCheckin(b *testing.B) {
	door := &fakeDoor{decision: node.Decision{Decision: node.Admitted, Admitted: true, Type: "MembershipCredential", At: fixedNow, Seq: 1}}
	h := kiosk.New(door, kiosk.Options{Logger: quietLogger()})
	body := []byte(strings.Repeat("eyJhbGciOiJFZERTQSJ9", 80) + ".e30.c2ln")
	b.ReportAllocs()
	for b.Loop() {
		door.mu.Lock()
		door.got = door.got[:0]
		door.mu.Unlock()
		req := httptest.NewRequest("POST", "/api/checkin", bytes.NewReader(body))
		req.Header.Set("Content-Type", "text/plain")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != 200 {
			b.Fatal(rec.Code)
		}
	}
}

// TestHosts checks that a kiosk told its host names answers no other (a page
// elsewhere reaching it through DNS rebinding sends its own name).
func TestHosts(t *testing.T) {
	d := &fakeDoor{}
	h := kiosk.New(d, kiosk.Options{Logger: quietLogger(), Hosts: []string{"127.0.0.1:8081", "LOCALHOST:8081"}})
	for _, target := range []string{"http://127.0.0.1:8081/healthz", "http://localhost:8081/api/challenge"} {
		if r := do(t, h, "GET", target, "", nil); r.status != http.StatusOK {
			t.Fatalf("%s: %d", target, r.status)
		}
	}
	for _, target := range []string{"http://rebound.example:8081/api/challenge", "http://127.0.0.1:9999/", "http://127.0.0.1/healthz"} {
		problem(t, do(t, h, "GET", target, "", nil), http.StatusMisdirectedRequest, kiosk.CodeWrongHost)
	}
	problem(t, do(t, h, "POST", "http://rebound.example:8081/api/checkin", "text/plain", strings.NewReader("x")), http.StatusMisdirectedRequest, kiosk.CodeWrongHost)
	if len(d.calls()) != 0 {
		t.Fatal("the door was called for a wrong host")
	}
	// Without Hosts, any host is answered.
	if r := do(t, kiosk.New(d, kiosk.Options{Logger: quietLogger()}), "GET", "http://anything.example/healthz", "", nil); r.status != http.StatusOK {
		t.Fatalf("no Hosts: %d", r.status)
	}
}
