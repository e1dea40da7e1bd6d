// Package httpapi is the HTTP face of the Civitas issuer service, on gin. It speaks the
// W3C VC-API (VCALM) shapes for issuing (POST /credentials/issue), verifying
// (POST /credentials/verify, POST /presentations/verify) and changing status
// (POST /credentials/status); serves Bitstring Status List credentials (GET /status/…),
// the issuer's did:web document, the Civitas JSON-LD context and JSON Schemas; and an
// admin API for members, tokens, credentials and approvals. Errors are RFC 9457 problem
// details with a stable code. openapi.json, served at /openapi.json, documents every
// route.
//
// Handlers only decode (bounded, strict JSON), call one method of issuer.Service and
// render. This package holds no business rules and is the only one (with the node kiosk)
// that imports gin.
package httpapi

import (
	_ "embed"
	"log/slog"
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/civitas-net/civitas/internal/requestid"
	"github.com/civitas-net/civitas/issuer"
)

// DefaultBodyLimit caps request bodies (credentials, presentations and admin requests
// are all far smaller).
const DefaultBodyLimit = 1 << 20

//go:embed openapi.json
var openAPI []byte

// Options configure the handler.
type Options struct {
	// Logger receives one structured line per request (default slog.Default()).
	Logger *slog.Logger
	// Registry receives the HTTP metrics and is served at /metrics (default: a new one).
	Registry *prometheus.Registry
	// BodyLimit caps request bodies in bytes (default DefaultBodyLimit).
	BodyLimit int64
}

type api struct {
	svc       *issuer.Service
	log       *slog.Logger
	metrics   *httpMetrics
	bodyLimit int64
}

func init() { gin.SetMode(gin.ReleaseMode) }

// New returns the service's HTTP handler.
func New(svc *issuer.Service, o Options) http.Handler {
	a := &api{svc: svc, log: o.Logger, bodyLimit: o.BodyLimit}
	if a.log == nil {
		a.log = slog.Default()
	}
	if a.bodyLimit <= 0 {
		a.bodyLimit = DefaultBodyLimit
	}
	reg := o.Registry
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	a.metrics = newHTTPMetrics(reg)

	r := gin.New()
	r.HandleMethodNotAllowed = true
	// Node IDs are URLs: they travel percent-encoded in one path segment.
	r.UseRawPath = true
	r.ContextWithFallback = true
	r.Use(requestid.Middleware, a.observe, a.recoverPanic, a.limitBody)
	r.NoRoute(func(c *gin.Context) {
		a.problem(c, Problem{Status: http.StatusNotFound, Code: string(issuer.CodeNotFound), Detail: "no such route"})
	})
	r.NoMethod(func(c *gin.Context) {
		a.problem(c, Problem{Status: http.StatusMethodNotAllowed, Code: "method_not_allowed", Detail: "method not allowed on this route"})
	})

	r.GET("/healthz", func(c *gin.Context) { c.JSON(http.StatusOK, gin.H{"status": "ok"}) })
	r.GET("/readyz", a.ready)
	r.GET("/metrics", gin.WrapH(promhttp.HandlerFor(reg, promhttp.HandlerOpts{})))
	r.GET("/openapi.json", func(c *gin.Context) { c.Data(http.StatusOK, "application/json", openAPI) })

	r.GET("/.well-known/did.json", a.didDocument)
	r.GET("/contexts/civitas/v1", a.context)
	r.GET("/schemas/:type", a.schema)
	r.GET("/status/:listID", a.statusList)

	r.GET("/.well-known/openid-credential-issuer", a.issuerMetadata)
	r.GET("/.well-known/oauth-authorization-server", a.authServerMetadata)
	r.POST("/oid4vci/token", a.token)
	r.POST("/oid4vci/nonce", a.nonce)
	r.POST("/oid4vci/credential", a.credential)

	r.POST("/nodes/:id/enroll", a.enrollNode)
	r.GET("/nodes/:id/bundle", a.refreshBundle)
	r.GET("/nodes/:id/checkins/head", a.checkInHead)
	r.POST("/nodes/:id/checkins", a.uploadCheckIns)

	r.POST("/credentials/verify", a.verifyCredential)
	r.POST("/presentations/verify", a.verifyPresentation)
	authed := r.Group("", a.authenticate)
	authed.POST("/credentials/issue", a.issue)
	authed.POST("/credentials/status", a.setStatus)

	admin := r.Group("/admin", a.authenticate)
	admin.POST("/members", a.registerMember)
	admin.GET("/members", a.listMembers)
	admin.GET("/members/:did", a.getMember)
	admin.POST("/tokens", a.createToken)
	admin.GET("/tokens", a.listTokens)
	admin.DELETE("/tokens/:id", a.revokeToken)
	admin.GET("/credentials", a.listCredentials)
	admin.GET("/credentials/:id", a.getCredential)
	admin.GET("/approvals", a.listApprovals)
	admin.GET("/approvals/:id", a.getApproval)
	admin.POST("/approvals/:id/approve", a.approve)
	admin.POST("/offers", a.createOffer)
	admin.GET("/offers/:id", a.getOffer)
	admin.GET("/offers/:id/qr.png", a.offerQR)
	admin.GET("/nodes", a.listNodes)
	admin.GET("/nodes/:id/bundle", a.nodeBundle)
	admin.GET("/checkins", a.listCheckIns)
	return r
}

func (a *api) ready(c *gin.Context) {
	if err := a.svc.Ready(c.Request.Context()); err != nil {
		a.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"status": "ready"})
}
