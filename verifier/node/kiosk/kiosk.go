package kiosk

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/civitas-net/civitas/credential"
	"github.com/civitas-net/civitas/internal/requestid"
	"github.com/civitas-net/civitas/verifier/node"
)

// DefaultBodyLimit caps check-in request bodies: the largest presentation the verifier
// reads, plus room for a JSON wrapper.
const DefaultBodyLimit = credential.MaxPresentationSize + 64<<10

// DefaultResultDuration is how long the page shows a decision before it clears.
const DefaultResultDuration = 6 * time.Second

// DefaultTitle is the page's heading when Options.Title is empty.
const DefaultTitle = "Civitas door"

// ContentSecurityPolicy is sent with every response: the page may load scripts,
// styles, images and data only from the kiosk itself, and nothing may frame it.
const ContentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; " +
	"connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// Problem codes, stable machine codes of the kiosk's problem details.
const (
	CodeMalformedRequest     = "malformed_request"
	CodeEmptyPresentation    = "empty_presentation"
	CodeUnsupportedMediaType = "unsupported_media_type"
	CodeBodyTooLarge         = "body_too_large"
	CodeCrossOrigin          = "cross_origin"
	CodeWrongHost            = "wrong_host"
	CodeUnknownChallenge     = "unknown_challenge"
	CodeDoorUnavailable      = "door_unavailable"
	CodeNotFound             = "not_found"
	CodeMethodNotAllowed     = "method_not_allowed"
	CodeInternal             = "internal_error"
)

//go:embed web
var webFS embed.FS

// Options configure the kiosk.
type Options struct {
	// Title is the page's heading, such as the site's name (default DefaultTitle).
	Title string
	// Logger receives one line per request: route, status, duration, request ID, and
	// for check-ins the decision and its codes; never a presentation (default
	// slog.Default()).
	Logger *slog.Logger
	// BodyLimit caps check-in bodies in bytes (default DefaultBodyLimit).
	BodyLimit int64
	// ResultDuration is how long the page shows a decision before it shows a new
	// challenge (default DefaultResultDuration).
	ResultDuration time.Duration
	// Clock tells when remembered challenges expire (default time.Now).
	Clock func() time.Time
	// Hosts, when not empty, are the only Host headers (host:port, compared without
	// case) the kiosk answers; others get 421 wrong_host. A kiosk on loopback names
	// its loopback addresses here so that a web page elsewhere cannot reach it
	// through DNS rebinding.
	Hosts []string
}

// Problem is an RFC 9457 problem details object with a stable machine code.
type Problem struct {
	Type      string `json:"type"`
	Title     string `json:"title"`
	Status    int    `json:"status"`
	Detail    string `json:"detail,omitempty"`
	Code      string `json:"code"`
	RequestID string `json:"requestId,omitempty"`
}

// problemType is the base of problem type URIs (names, never fetched).
const problemType = "https://civitas.network/problems/"

type kiosk struct {
	hosts     map[string]bool
	door      node.Door
	log       *slog.Logger
	bodyLimit int64
	recent    *recent
	page      []byte
	assets    map[string]asset
}

// asset is one embedded file with its media type and entity tag.
type asset struct {
	body []byte
	typ  string
	etag string
}

// assetTypes are the media types of the files under web/assets, by extension. A file of
// another kind is not served.
var assetTypes = map[string]string{
	".css": "text/css; charset=utf-8",
	".js":  "text/javascript; charset=utf-8",
	".svg": "image/svg+xml",
	".png": "image/png",
}

func init() { gin.SetMode(gin.ReleaseMode) }

// New returns the kiosk's HTTP handler, deciding check-ins with d.
func New(d node.Door, o Options) http.Handler {
	k := &kiosk{door: d, log: o.Logger, bodyLimit: o.BodyLimit}
	if len(o.Hosts) > 0 {
		k.hosts = map[string]bool{}
		for _, h := range o.Hosts {
			k.hosts[strings.ToLower(h)] = true
		}
	}
	if k.log == nil {
		k.log = slog.Default()
	}
	if k.bodyLimit <= 0 {
		k.bodyLimit = DefaultBodyLimit
	}
	now := o.Clock
	if now == nil {
		now = time.Now
	}
	k.recent = newRecent(now)
	title := o.Title
	if strings.TrimSpace(title) == "" {
		title = DefaultTitle
	}
	result := o.ResultDuration
	if result <= 0 {
		result = DefaultResultDuration
	}
	// The embedded files are part of the binary: failing to read them is a build
	// mistake that the package's tests catch, not an outside input.
	k.page = mustPage(title, result)
	k.assets = mustAssets()

	r := gin.New()
	r.HandleMethodNotAllowed = true
	r.ContextWithFallback = true
	r.Use(requestid.Middleware, k.observe, k.recoverPanic, secureHeaders, k.checkHost)
	r.NoRoute(func(c *gin.Context) {
		k.problem(c, http.StatusNotFound, CodeNotFound, "no such route")
	})
	r.NoMethod(func(c *gin.Context) {
		k.problem(c, http.StatusMethodNotAllowed, CodeMethodNotAllowed, "method not allowed on this route")
	})
	r.GET("/", k.index)
	r.GET("/assets/*file", k.asset)
	r.GET("/favicon.ico", func(c *gin.Context) { c.Status(http.StatusNoContent) })
	r.GET("/healthz", func(c *gin.Context) {
		c.Header("Cache-Control", "no-store")
		c.JSON(http.StatusOK, gin.H{"status": "ok"})
	})
	r.GET("/api/challenge", k.challenge)
	r.GET("/api/challenge.png", k.challengePNG)
	r.POST("/api/checkin", k.sameOrigin, k.checkin)
	return r
}

// index serves the page.
func (k *kiosk) index(c *gin.Context) {
	c.Header("Cache-Control", "no-store")
	c.Data(http.StatusOK, "text/html; charset=utf-8", k.page)
}

// asset serves an embedded CSS, JavaScript or image file.
func (k *kiosk) asset(c *gin.Context) {
	a, ok := k.assets[strings.TrimPrefix(c.Param("file"), "/")]
	if !ok {
		k.problem(c, http.StatusNotFound, CodeNotFound, "no such asset")
		return
	}
	c.Header("Content-Type", a.typ)
	c.Header("ETag", a.etag)
	c.Header("Cache-Control", "no-cache")
	http.ServeContent(c.Writer, c.Request, "", time.Time{}, bytes.NewReader(a.body))
}

// challenge hands out a new challenge from the door.
func (k *kiosk) challenge(c *gin.Context) {
	ch, err := k.door.Challenge(c.Request.Context())
	if err != nil {
		k.doorFailed(c, "the door could not make a challenge", err)
		return
	}
	k.recent.add(ch)
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, ch)
}

// challengePNG serves a challenge as a QR code: the one handed out with ?nonce=, or a
// new one, whose nonce is then in the X-Challenge-Nonce header.
func (k *kiosk) challengePNG(c *gin.Context) {
	nonce, given := c.GetQuery("nonce")
	if !given {
		ch, err := k.door.Challenge(c.Request.Context())
		if err != nil {
			k.doorFailed(c, "the door could not make a challenge", err)
			return
		}
		k.recent.add(ch)
		nonce = ch.Nonce
	}
	ch, img, ok, err := k.recent.png(nonce)
	switch {
	case err != nil:
		k.log.ErrorContext(c.Request.Context(), "qr code failed", "request_id", requestID(c), "err", err)
		k.problem(c, http.StatusInternalServerError, CodeInternal, "the challenge could not be drawn")
		return
	case !ok:
		k.problem(c, http.StatusNotFound, CodeUnknownChallenge, "no current challenge has this nonce")
		return
	}
	c.Header("Cache-Control", "no-store")
	c.Header("X-Challenge-Nonce", ch.Nonce)
	c.Data(http.StatusOK, "image/png", img)
}

// checkin reads the presentation and asks the door to decide.
func (k *kiosk) checkin(c *gin.Context) {
	c.Header("Cache-Control", "no-store")
	if c.Request.ContentLength > k.bodyLimit {
		k.problem(c, http.StatusRequestEntityTooLarge, CodeBodyTooLarge, fmt.Sprintf("the body is larger than %d bytes", k.bodyLimit))
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(c.Writer, c.Request.Body, k.bodyLimit))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			k.problem(c, http.StatusRequestEntityTooLarge, CodeBodyTooLarge, fmt.Sprintf("the body is larger than %d bytes", k.bodyLimit))
			return
		}
		k.problem(c, http.StatusBadRequest, CodeMalformedRequest, "the body could not be read")
		return
	}
	vp, err := ReadPresentation(c.GetHeader("Content-Type"), body)
	if err != nil {
		status, code := http.StatusBadRequest, CodeMalformedRequest
		switch {
		case errors.Is(err, ErrEmptyPresentation):
			code = CodeEmptyPresentation
		case errors.Is(err, ErrUnsupportedMediaType):
			status, code = http.StatusUnsupportedMediaType, CodeUnsupportedMediaType
		}
		k.problem(c, status, code, err.Error())
		return
	}
	d, err := k.door.CheckIn(c.Request.Context(), vp)
	if err != nil {
		k.doorFailed(c, "the door could not decide; nobody was admitted", err)
		return
	}
	c.Set(ctxDecision, d)
	c.JSON(http.StatusOK, d)
}

// doorFailed answers 503 when the door itself failed; the cause goes to the log only,
// the client gets detail.
func (k *kiosk) doorFailed(c *gin.Context, detail string, err error) {
	k.log.ErrorContext(c.Request.Context(), "door failed", "request_id", requestID(c), "route", c.FullPath(), "err", err)
	k.problem(c, http.StatusServiceUnavailable, CodeDoorUnavailable, detail)
}

// problem writes problem details and stops the chain.
func (k *kiosk) problem(c *gin.Context, status int, code, detail string) {
	c.Header("Content-Type", "application/problem+json")
	c.Header("Cache-Control", "no-store")
	c.AbortWithStatusJSON(status, Problem{
		Type: problemType + code, Title: http.StatusText(status), Status: status,
		Detail: detail, Code: code, RequestID: requestID(c),
	})
}

// sameOrigin refuses check-ins that a browser sends from another site's page: a page
// elsewhere must not be able to post presentations to a kiosk on the local network.
// Apps that send no Origin (and no Sec-Fetch-Site) are not browsers and pass.
func (k *kiosk) sameOrigin(c *gin.Context) {
	if site := c.GetHeader("Sec-Fetch-Site"); site == "cross-site" || site == "same-site" {
		k.problem(c, http.StatusForbidden, CodeCrossOrigin, "check-ins are taken from the kiosk's own page only")
		return
	}
	if origin := c.GetHeader("Origin"); origin != "" {
		u, err := url.Parse(origin)
		if err != nil || u.Host == "" || !strings.EqualFold(u.Host, c.Request.Host) {
			k.problem(c, http.StatusForbidden, CodeCrossOrigin, "check-ins are taken from the kiosk's own page only")
			return
		}
	}
	c.Next()
}

// checkHost refuses requests naming a Host the kiosk was not told it is (Options.Hosts).
func (k *kiosk) checkHost(c *gin.Context) {
	if k.hosts != nil && !k.hosts[strings.ToLower(c.Request.Host)] {
		k.problem(c, http.StatusMisdirectedRequest, CodeWrongHost, "this kiosk does not answer to that host name")
		return
	}
	c.Next()
}

// secureHeaders sets the headers every response carries.
func secureHeaders(c *gin.Context) {
	h := c.Writer.Header()
	h.Set("Content-Security-Policy", ContentSecurityPolicy)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	h.Set("Cross-Origin-Resource-Policy", "same-origin")
	h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=(), usb=()")
	c.Next()
}

// requestID returns the request's ID.
func requestID(c *gin.Context) string { return requestid.Get(c) }

const ctxDecision = "civitas.decision"

// observe logs each request. The log holds no bodies and no presentations: route,
// status, duration, size, request ID, and for check-ins the decision and its codes.
func (k *kiosk) observe(c *gin.Context) {
	start := time.Now()
	c.Next()
	route := c.FullPath()
	if route == "" {
		route = "unmatched"
	}
	if route == "/healthz" {
		return
	}
	attrs := []any{
		"request_id", requestID(c), "method", c.Request.Method, "route", route,
		"status", c.Writer.Status(), "duration_ms", float64(time.Since(start).Microseconds()) / 1000,
		"bytes", c.Writer.Size(),
	}
	if v, ok := c.Get(ctxDecision); ok {
		d := v.(node.Decision)
		attrs = append(attrs, "decision", d.Decision, "codes", strings.Join(d.Codes, ","), "seq", d.Seq)
	}
	k.log.InfoContext(c.Request.Context(), "kiosk request", attrs...)
}

// recoverPanic turns a panic into a 500 problem and a log line.
func (k *kiosk) recoverPanic(c *gin.Context) {
	defer func() {
		if r := recover(); r != nil {
			k.log.ErrorContext(c.Request.Context(), "panic", "request_id", requestID(c), "panic", fmt.Sprint(r))
			k.problem(c, http.StatusInternalServerError, CodeInternal, "internal error")
		}
	}()
	c.Next()
}

// mustPage renders the page once, with the title and the result duration.
func mustPage(title string, result time.Duration) []byte {
	t := template.Must(template.ParseFS(webFS, "web/index.html"))
	var b bytes.Buffer
	err := t.Execute(&b, struct {
		Title    string
		ResultMS string
	}{title, strconv.FormatInt(result.Milliseconds(), 10)})
	if err != nil {
		panic(fmt.Sprintf("kiosk: page template: %v", err))
	}
	return b.Bytes()
}

// mustAssets loads the embedded assets with their types and entity tags.
func mustAssets() map[string]asset {
	out := map[string]asset{}
	err := fs.WalkDir(webFS, "web/assets", func(p string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		typ, ok := assetTypes[path.Ext(p)]
		if !ok {
			return fmt.Errorf("asset %s has no known media type", p)
		}
		body, err := webFS.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(body)
		out[strings.TrimPrefix(p, "web/assets/")] = asset{body: body, typ: typ, etag: `"` + hex.EncodeToString(sum[:12]) + `"`}
		return nil
	})
	if err != nil {
		panic(fmt.Sprintf("kiosk: assets: %v", err))
	}
	return out
}
