package statushttp

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/civitas-net/civitas/did"
	"github.com/civitas-net/civitas/statuslist"
	"github.com/civitas-net/civitas/verifier"
)

// Defaults of a Checker.
const (
	DefaultTimeout   = 5 * time.Second
	DefaultMaxBody   = 256 << 10
	DefaultMaxAge    = 5 * time.Minute
	DefaultCacheSize = 128
)

// Sentinel errors. Every error CheckStatus returns wraps one of them, or one of package
// statuslist's (ErrMalformed for a bad entry or list, ErrTooShort, ErrTooLarge,
// ErrIndexOutOfRange, ErrPurposeMismatch).
var (
	// ErrURL reports a statusListCredential URL the Checker will not fetch: not https
	// (or http with WithTestInsecureHTTP), or with user info or a fragment.
	ErrURL = errors.New("status list url refused")
	// ErrFetch reports a failed fetch: network error, timeout, refused address (it then
	// also wraps did.ErrUnsafeAddress), redirect, or a status other than 200 or 304.
	ErrFetch = errors.New("status list fetch failed")
	// ErrTooLarge reports a response body over the limit.
	ErrTooLarge = errors.New("status list response too large")
	// ErrUnverified reports a list credential the CredentialVerifier did not verify
	// under the list policy: bad signature, untrusted or foreign issuer, expired, not a
	// credential at all.
	ErrUnverified = errors.New("status list credential not verified")
	// ErrMismatch reports a verified credential that is not the list the entry names:
	// not a BitstringStatusListCredential, another issuer, an id other than the URL, or
	// another status purpose (then it also wraps statuslist.ErrPurposeMismatch).
	ErrMismatch = errors.New("status list credential does not match the status entry")
)

// CredentialVerifier verifies one credential under a policy. *verifier.Verifier
// implements it.
type CredentialVerifier interface {
	Verify(ctx context.Context, raw []byte, p verifier.Policy) (verifier.Result, error)
}

// Checker is a verifier.StatusChecker that fetches status list credentials over HTTPS.
// It is safe for concurrent use. Make it with New.
type Checker struct {
	v         CredentialVerifier
	client    *http.Client
	now       func() time.Time
	timeout   time.Duration
	maxBody   int64
	maxAge    time.Duration
	maxStale  time.Duration
	cacheSize int
	tlsConf   *tls.Config
	guard     did.DialGuard
	insecure  bool

	mu    sync.Mutex
	cache map[string]*listEntry // by URL
	calls map[callKey]*call     // fetches in flight

	// joined, when set by a test, is called when a lookup joins a fetch in flight.
	joined func()
}

// Option configures a Checker.
type Option func(*Checker)

// WithClock sets the clock of the cache (default time.Now). Give the CredentialVerifier
// the same clock.
func WithClock(now func() time.Time) Option {
	return func(c *Checker) {
		if now != nil {
			c.now = now
		}
	}
}

// WithTimeout bounds each fetch, from dialing to the end of the body, and separately the
// verification of the fetched list (default 5s).
func WithTimeout(d time.Duration) Option {
	return func(c *Checker) {
		if d > 0 {
			c.timeout = d
		}
	}
}

// WithMaxBodyBytes bounds the size of a status list response (default 256 KiB).
func WithMaxBodyBytes(n int64) Option {
	return func(c *Checker) {
		if n > 0 {
			c.maxBody = n
		}
	}
}

// WithMaxAge sets how long a verified list is used without asking the server again
// (default 5 minutes). A server's Cache-Control may shorten it, never lengthen it. Zero
// revalidates on every lookup (cheaply, with If-None-Match, when the server sends an
// ETag).
func WithMaxAge(d time.Duration) Option {
	return func(c *Checker) {
		if d >= 0 {
			c.maxAge = d
		}
	}
}

// WithMaxStaleness lets a lookup whose refetch fails use a cached list fetched or
// revalidated no longer than d ago (default 0: never). A list past its credential's
// validUntil is never used.
func WithMaxStaleness(d time.Duration) Option {
	return func(c *Checker) {
		if d >= 0 {
			c.maxStale = d
		}
	}
}

// WithCacheSize sets how many lists the cache holds (default 128). When full, the list
// fetched longest ago is dropped.
func WithCacheSize(n int) Option {
	return func(c *Checker) {
		if n > 0 {
			c.cacheSize = n
		}
	}
}

// WithTLSConfig sets the TLS client configuration, for example to trust a private root
// CA. The minimum version is raised to TLS 1.2 if lower.
func WithTLSConfig(cfg *tls.Config) Option {
	return func(c *Checker) {
		if cfg != nil {
			c.tlsConf = cfg.Clone()
		}
	}
}

// WithTestLoopback lets the Checker connect to loopback addresses, so tests can fetch
// lists from an httptest TLS server on 127.0.0.1. Private, link-local and other refused
// ranges stay refused. Never use it in production.
func WithTestLoopback() Option {
	return func(c *Checker) { c.guard.TestAllowLoopback = true }
}

// WithTestInsecureHTTP lets the Checker fetch http:// URLs, and then connect only to
// loopback addresses, so tests can use an httptest server without TLS. Never use it in
// production.
func WithTestInsecureHTTP() Option {
	return func(c *Checker) {
		c.insecure = true
		c.guard.TestLoopbackOnly = true
	}
}

// New returns a Checker that verifies the lists it fetches with v.
//
// The Checker is meant for another verifier: pass it to verifier.New with
// verifier.WithStatusChecker. The verifier v that checks the lists needs no status
// checker of its own: status list credentials carry no status, and the Checker verifies
// them with verifier.StatusSkip. Give v the same clock as the Checker (WithClock).
func New(v CredentialVerifier, opts ...Option) *Checker {
	c := &Checker{
		v:         v,
		now:       time.Now,
		timeout:   DefaultTimeout,
		maxBody:   DefaultMaxBody,
		maxAge:    DefaultMaxAge,
		cacheSize: DefaultCacheSize,
		cache:     make(map[string]*listEntry),
		calls:     make(map[callKey]*call),
	}
	for _, o := range opts {
		o(c)
	}
	tlsConf := c.tlsConf
	if tlsConf == nil {
		tlsConf = &tls.Config{}
	}
	if tlsConf.MinVersion < tls.VersionTLS12 {
		tlsConf.MinVersion = tls.VersionTLS12
	}
	dialer := &net.Dialer{Timeout: c.timeout, Control: c.guard.Control}
	c.client = &http.Client{
		Transport: &http.Transport{
			Proxy:                  nil,
			DialContext:            dialer.DialContext,
			TLSClientConfig:        tlsConf,
			TLSHandshakeTimeout:    c.timeout,
			ResponseHeaderTimeout:  c.timeout,
			MaxResponseHeaderBytes: 64 << 10,
			MaxIdleConns:           16,
			IdleConnTimeout:        90 * time.Second,
			ForceAttemptHTTP2:      true,
			// The body cap counts bytes as received; status lists are compressed already.
			DisableCompression: true,
		},
		Timeout: c.timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
	return c
}

// CheckStatus reports whether the bit of q.Entry is set in its status list. Any failure
// to know is an error.
func (c *Checker) CheckStatus(ctx context.Context, q verifier.StatusQuery) (bool, error) {
	if err := q.Entry.Validate(); err != nil {
		return false, err
	}
	index, err := q.Entry.Index()
	if err != nil {
		return false, err
	}
	if q.Issuer == "" {
		return false, fmt.Errorf("%w: the query names no issuer", ErrMismatch)
	}
	listURL := q.Entry.StatusListCredential
	if err := c.checkURL(listURL); err != nil {
		return false, err
	}
	e, err := c.lookup(ctx, listURL, q.Issuer)
	if err != nil {
		return false, err
	}
	if e.issuer != q.Issuer {
		return false, fmt.Errorf("%w: %s is issued by %.200q, the credential by %.200q", ErrMismatch, listURL, e.issuer, q.Issuer)
	}
	if !slices.Contains(e.purposes, q.Entry.StatusPurpose) {
		return false, fmt.Errorf("%w: %w: %s is for %q, the entry for %q", ErrMismatch, statuslist.ErrPurposeMismatch,
			listURL, strings.Join(e.purposes, ","), q.Entry.StatusPurpose)
	}
	set, err := e.list.Get(index)
	if err != nil {
		return false, fmt.Errorf("status list %s: %w", listURL, err)
	}
	return set, nil
}

// checkURL accepts https URLs (and http ones in insecure test mode) with a host and
// without user info or fragment.
func (c *Checker) checkURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("%w: %.200q: %w", ErrURL, raw, err)
	}
	switch {
	case u.Scheme == "https":
	case u.Scheme == "http" && c.insecure:
	default:
		return fmt.Errorf("%w: %.200q is not an https url", ErrURL, raw)
	}
	if u.Host == "" || u.Opaque != "" || u.User != nil || u.Fragment != "" || strings.Contains(raw, "#") {
		return fmt.Errorf("%w: %.200q must have a host and no user info or fragment", ErrURL, raw)
	}
	return nil
}
