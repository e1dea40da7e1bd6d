package httpapi

import (
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/civitas-net/civitas/internal/requestid"
	"github.com/civitas-net/civitas/issuer"
)

const ctxPrincipal = "civitas.principal"

// requestID returns the request's ID.
func requestID(c *gin.Context) string { return requestid.Get(c) }

// httpMetrics counts requests and their durations by route.
type httpMetrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

func newHTTPMetrics(reg prometheus.Registerer) *httpMetrics {
	m := &httpMetrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "civitas_http_requests_total", Help: "HTTP requests by route, method and status.",
		}, []string{"route", "method", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "civitas_http_request_seconds", Help: "HTTP request durations by route.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14),
		}, []string{"route", "method"}),
	}
	if reg != nil {
		reg.MustRegister(m.requests, m.duration)
	}
	return m
}

// observe logs and measures each request. The log holds no bodies, tokens or
// credentials: route, status, duration, size, request ID and the token's ID.
func (a *api) observe(c *gin.Context) {
	start := time.Now()
	c.Next()
	route := c.FullPath()
	if route == "" {
		route = "unmatched"
	}
	d := time.Since(start)
	status := c.Writer.Status()
	a.metrics.requests.WithLabelValues(route, c.Request.Method, strconv.Itoa(status)).Inc()
	a.metrics.duration.WithLabelValues(route, c.Request.Method).Observe(d.Seconds())
	if route == "/metrics" || route == "/healthz" || route == "/readyz" {
		return
	}
	attrs := []any{
		"request_id", requestID(c), "method", c.Request.Method, "route", route,
		"status", status, "duration_ms", float64(d.Microseconds()) / 1000, "bytes", c.Writer.Size(),
	}
	if p, ok := c.Get(ctxPrincipal); ok {
		attrs = append(attrs, "token", p.(issuer.Principal).TokenID)
	}
	a.log.InfoContext(c.Request.Context(), "request", attrs...)
}

// limitBody caps every request body; a larger body fails when read.
func (a *api) limitBody(c *gin.Context) {
	if c.Request.Body != nil {
		c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, a.bodyLimit)
	}
	c.Next()
}

// recoverPanic turns a panic into a 500 problem and a log line with the cause.
func (a *api) recoverPanic(c *gin.Context) {
	defer func() {
		if r := recover(); r != nil {
			a.log.ErrorContext(c.Request.Context(), "panic", "request_id", requestID(c), "panic", fmt.Sprint(r))
			a.fail(c, &issuer.Error{Code: issuer.CodeInternal, Message: "internal error"})
		}
	}()
	c.Next()
}

// authenticate requires a valid bearer token and stores its principal.
func (a *api) authenticate(c *gin.Context) {
	p, err := a.svc.Authenticate(c.Request.Context(), c.GetHeader("Authorization"))
	if err != nil {
		c.Header("WWW-Authenticate", `Bearer realm="civitas"`)
		a.fail(c, err)
		return
	}
	c.Set(ctxPrincipal, p)
	c.Next()
}

func principal(c *gin.Context) issuer.Principal {
	p, _ := c.Get(ctxPrincipal)
	pr, _ := p.(issuer.Principal)
	return pr
}
