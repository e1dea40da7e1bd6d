package did

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Defaults of WebResolver.
const (
	DefaultWebTimeout     = 5 * time.Second
	DefaultWebMaxBody     = 256 << 10
	DefaultWebCacheTTL    = 5 * time.Minute
	DefaultWebNegativeTTL = 30 * time.Second
	DefaultWebCacheSize   = 1024
)

// WebDocumentURL returns the HTTPS URL of the DID document of a did:web DID
// (did:web:example.com → https://example.com/.well-known/did.json;
// did:web:example.com:user:alice → https://example.com/user/alice/did.json;
// did:web:example.com%3A8443 → https://example.com:8443/.well-known/did.json).
// The host must be a DNS name or IPv4 address with an optional port; path segments are
// percent-decoded and may not be empty, "." or "..", nor contain '/', '\', '?', '#' or
// '%' after decoding.
func WebDocumentURL(did string) (string, error) {
	d, err := Parse(did)
	if err != nil {
		return "", err
	}
	return webDocumentURL(d)
}

func webDocumentURL(d DID) (string, error) {
	if d.Method != webMethodName {
		return "", fmt.Errorf("%w: not a did:web", ErrInvalidDID)
	}
	segs := strings.Split(d.ID, ":")
	hostport, err := url.PathUnescape(segs[0])
	if err != nil {
		return "", fmt.Errorf("%w: did:web host: %w", ErrInvalidDID, err)
	}
	host, port, hasPort := strings.Cut(hostport, ":")
	if err := checkHostname(host); err != nil {
		return "", err
	}
	if hasPort {
		if err := checkPort(port); err != nil {
			return "", err
		}
	}
	path := "/.well-known/did.json"
	if len(segs) > 1 {
		parts := make([]string, 0, len(segs)-1)
		for _, s := range segs[1:] {
			p, err := url.PathUnescape(s)
			if err != nil {
				return "", fmt.Errorf("%w: did:web path: %w", ErrInvalidDID, err)
			}
			if err := checkWebSegment(p); err != nil {
				return "", err
			}
			parts = append(parts, p)
		}
		path = "/" + strings.Join(parts, "/") + "/did.json"
	}
	u := url.URL{Scheme: "https", Host: hostport, Path: path}
	return u.String(), nil
}

// WebDIDFromURL returns the did:web DID whose document lives under publicURL, the inverse
// of WebDocumentURL for a base URL: https://example.com → did:web:example.com;
// https://host:8443/path/x → did:web:host%3A8443:path:x. The scheme must be https, or http
// for a loopback host (local development). User info, query and fragment are rejected.
// The host is lower-cased.
func WebDIDFromURL(publicURL string) (string, error) {
	u, err := url.Parse(publicURL)
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrInvalidDID, err)
	}
	host := strings.ToLower(u.Hostname())
	switch {
	case u.Scheme == "https":
	case u.Scheme == "http" && isLoopbackHost(host):
	default:
		return "", fmt.Errorf("%w: did:web needs an https url", ErrInvalidDID)
	}
	if u.Opaque != "" || u.User != nil || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || strings.Contains(publicURL, "#") {
		return "", fmt.Errorf("%w: did:web url must have no user info, query or fragment", ErrInvalidDID)
	}
	if err := checkHostname(host); err != nil {
		return "", err
	}
	id := host
	if port := u.Port(); port != "" {
		if err := checkPort(port); err != nil {
			return "", err
		}
		id += "%3A" + port
	}
	// Split the escaped path, so that an encoded '/' stays inside its segment (and is
	// then refused) instead of starting a new one.
	path := strings.TrimSuffix(u.EscapedPath(), "/")
	if path != "" {
		for _, raw := range strings.Split(path[1:], "/") {
			seg, err := url.PathUnescape(raw)
			if err != nil {
				return "", fmt.Errorf("%w: %w", ErrInvalidDID, err)
			}
			if err := checkWebSegment(seg); err != nil {
				return "", err
			}
			id += ":" + escapeIDChars(seg)
		}
	}
	did := "did:web:" + id
	if _, err := Parse(did); err != nil {
		return "", err
	}
	return did, nil
}

// escapeIDChars percent-encodes every byte that is not an unencoded DID idchar.
func escapeIDChars(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if isAlnum(c) || c == '.' || c == '-' || c == '_' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}

// checkHostname accepts a DNS name (LDH labels) or a dotted IPv4 address.
func checkHostname(host string) error {
	if host == "" || len(host) > 253 {
		return fmt.Errorf("%w: did:web host must be 1 to 253 characters", ErrInvalidDID)
	}
	for _, label := range strings.Split(host, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return fmt.Errorf("%w: did:web host %.64q is not a dns name", ErrInvalidDID, host)
		}
		for i := 0; i < len(label); i++ {
			if !isAlnum(label[i]) && label[i] != '-' {
				return fmt.Errorf("%w: did:web host %.64q is not a dns name", ErrInvalidDID, host)
			}
		}
	}
	return nil
}

// checkPort accepts a decimal port 1-65535 without leading zeros.
func checkPort(port string) error {
	n, err := strconv.Atoi(port)
	if err != nil || n < 1 || n > 65535 || strconv.Itoa(n) != port {
		return fmt.Errorf("%w: did:web port %.16q is invalid", ErrInvalidDID, port)
	}
	return nil
}

// checkWebSegment checks one decoded did:web path segment.
func checkWebSegment(s string) error {
	if s == "" || s == "." || s == ".." {
		return fmt.Errorf("%w: did:web path segment is empty, \".\" or \"..\"", ErrInvalidDID)
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !isAlnum(c) && strings.IndexByte("-._~!$&'()*+,;=:@", c) < 0 {
			return fmt.Errorf("%w: did:web path segment holds %q", ErrInvalidDID, c)
		}
	}
	return nil
}

// isLoopbackHost reports whether host is "localhost" or a loopback IP literal.
func isLoopbackHost(host string) bool {
	if host == "localhost" {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.IsLoopback()
}

// WebResolver resolves did:web DIDs over HTTPS. It is safe for concurrent use. The zero
// value is not usable; call NewWebResolver.
type WebResolver struct {
	client   *http.Client
	timeout  time.Duration
	maxBody  int64
	now      func() time.Time
	ttl      time.Duration
	negTTL   time.Duration
	size     int
	tlsConf  *tls.Config
	guard    DialGuard
	insecure bool
	cache    *boundedCache[webResult]
}

type webResult struct {
	doc *Document
	err error
}

// WebOption configures a WebResolver.
type WebOption func(*WebResolver)

// WithHTTPTimeout bounds each fetch, from dialing to the end of the body (default 5s).
func WithHTTPTimeout(d time.Duration) WebOption {
	return func(w *WebResolver) {
		if d > 0 {
			w.timeout = d
		}
	}
}

// WithMaxBodyBytes bounds the size of a DID document (default 256 KiB).
func WithMaxBodyBytes(n int64) WebOption {
	return func(w *WebResolver) {
		if n > 0 {
			w.maxBody = n
		}
	}
}

// WithClock sets the clock used for cache expiry (default time.Now).
func WithClock(now func() time.Time) WebOption {
	return func(w *WebResolver) {
		if now != nil {
			w.now = now
		}
	}
}

// WithCache sets how long resolved documents (ttl) and failures (negativeTTL) are cached,
// and how many DIDs the cache holds. A zero ttl or size disables caching of documents; a
// zero negativeTTL disables caching of failures.
func WithCache(ttl, negativeTTL time.Duration, size int) WebOption {
	return func(w *WebResolver) {
		w.ttl, w.negTTL, w.size = ttl, negativeTTL, size
	}
}

// WithTLSConfig sets the TLS client configuration, for example to trust a private root
// CA. The minimum version is raised to TLS 1.2 if lower.
func WithTLSConfig(cfg *tls.Config) WebOption {
	return func(w *WebResolver) {
		if cfg != nil {
			w.tlsConf = cfg.Clone()
		}
	}
}

// WithTestLoopback lets the resolver connect to loopback addresses, so tests can resolve
// did:web DIDs served by an httptest TLS server on 127.0.0.1. Private, link-local and
// other refused ranges stay refused. Never use it in production.
func WithTestLoopback() WebOption {
	return func(w *WebResolver) { w.guard.TestAllowLoopback = true }
}

// WithTestInsecureHTTP makes the resolver fetch documents over plain http, and then only
// from loopback addresses, so tests can use an httptest server without TLS. Never use it
// in production.
func WithTestInsecureHTTP() WebOption {
	return func(w *WebResolver) {
		w.insecure = true
		w.guard.TestLoopbackOnly = true
	}
}

// NewWebResolver returns a did:web resolver. Its HTTP client ignores proxy settings,
// refuses redirects and, through its dialer, refuses every address CheckPublicAddress
// refuses, after DNS resolution.
func NewWebResolver(opts ...WebOption) *WebResolver {
	w := &WebResolver{
		timeout: DefaultWebTimeout,
		maxBody: DefaultWebMaxBody,
		now:     time.Now,
		ttl:     DefaultWebCacheTTL,
		negTTL:  DefaultWebNegativeTTL,
		size:    DefaultWebCacheSize,
	}
	for _, o := range opts {
		o(w)
	}
	tlsConf := w.tlsConf
	if tlsConf == nil {
		tlsConf = &tls.Config{}
	}
	if tlsConf.MinVersion < tls.VersionTLS12 {
		tlsConf.MinVersion = tls.VersionTLS12
	}
	dialer := &net.Dialer{Timeout: w.timeout, Control: w.guard.Control}
	transport := &http.Transport{
		Proxy:                  nil,
		DialContext:            dialer.DialContext,
		TLSClientConfig:        tlsConf,
		TLSHandshakeTimeout:    w.timeout,
		ResponseHeaderTimeout:  w.timeout,
		MaxResponseHeaderBytes: 64 << 10,
		MaxIdleConns:           16,
		IdleConnTimeout:        90 * time.Second,
		ForceAttemptHTTP2:      true,
	}
	w.client = &http.Client{
		Transport: transport,
		Timeout:   w.timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
	w.cache = newBoundedCache[webResult](w.size)
	return w
}

// Resolve fetches, checks and caches the DID document of a did:web DID. The document must
// be strict JSON, at most the configured size, valid (Document.Validate) and its id must
// equal d. The returned document is the caller's to modify.
func (w *WebResolver) Resolve(ctx context.Context, d DID) (*Document, error) {
	if d.Method != webMethodName {
		return nil, fmt.Errorf("%w: %q is not did:web", ErrMethodNotSupported, d.Method)
	}
	key := d.String()
	if r, ok := w.cache.get(key, w.now()); ok {
		if r.err != nil {
			return nil, r.err
		}
		return r.doc.Clone(), nil
	}
	doc, err := w.fetch(ctx, d)
	now := w.now()
	switch {
	case err == nil:
		if w.ttl > 0 {
			w.cache.put(key, webResult{doc: doc}, now.Add(w.ttl), now)
		}
		return doc.Clone(), nil
	case w.negTTL > 0 && ctx.Err() == nil && !errors.Is(err, ErrInvalidDID):
		w.cache.put(key, webResult{err: err}, now.Add(w.negTTL), now)
	}
	return nil, err
}

func (w *WebResolver) fetch(ctx context.Context, d DID) (*Document, error) {
	docURL, err := webDocumentURL(d)
	if err != nil {
		return nil, err
	}
	if w.insecure {
		docURL = "http" + strings.TrimPrefix(docURL, "https")
	}
	ctx, cancel := context.WithTimeout(ctx, w.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, docURL, nil)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidDID, err)
	}
	req.Header.Set("Accept", "application/did+json, application/did+ld+json;q=0.9, application/json;q=0.8")
	resp, err := w.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%w: fetch %s: %w", ErrResolution, docURL, err)
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusOK:
	case resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusGone:
		return nil, fmt.Errorf("%w: %s answered %d", ErrNotFound, docURL, resp.StatusCode)
	case resp.StatusCode >= 300 && resp.StatusCode < 400:
		return nil, fmt.Errorf("%w: %s answered %d: redirect refused", ErrResolution, docURL, resp.StatusCode)
	default:
		return nil, fmt.Errorf("%w: %s answered %d", ErrResolution, docURL, resp.StatusCode)
	}
	if resp.ContentLength > w.maxBody {
		return nil, fmt.Errorf("%w: %s announced %d bytes, limit %d", ErrTooLarge, docURL, resp.ContentLength, w.maxBody)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, w.maxBody+1))
	if err != nil {
		return nil, fmt.Errorf("%w: read %s: %w", ErrResolution, docURL, err)
	}
	if int64(len(body)) > w.maxBody {
		return nil, fmt.Errorf("%w: %s sent more than %d bytes", ErrTooLarge, docURL, w.maxBody)
	}
	lim := DocumentLimits
	lim.MaxBytes = int(w.maxBody)
	doc, err := parseDocument(body, lim)
	if err != nil {
		return nil, err
	}
	if doc.ID != d.String() {
		return nil, fmt.Errorf("%w: document id %.200q does not match the requested did", ErrInvalidDocument, doc.ID)
	}
	if err := doc.Validate(); err != nil {
		return nil, err
	}
	return doc, nil
}
