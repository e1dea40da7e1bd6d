// Package requestid gives each HTTP request handled by a Civitas gin server an ID: a
// sane incoming X-Request-ID (1 to 64 printable ASCII characters, no spaces) is kept,
// anything else is replaced by 16 random hex digits; the ID is echoed in the response's
// X-Request-ID header and logged with the request. It is not a trace context (W3C Trace
// Context is not implemented).
package requestid

import (
	"crypto/rand"
	"encoding/hex"

	"github.com/gin-gonic/gin"
)

// Header is the request and response header carrying the ID.
const Header = "X-Request-ID"

const key = "civitas.request_id"

// Middleware sets the request's ID and echoes it.
func Middleware(c *gin.Context) {
	id := c.GetHeader(Header)
	if len(id) == 0 || len(id) > 64 || !printable(id) {
		var b [8]byte
		rand.Read(b[:])
		id = hex.EncodeToString(b[:])
	}
	c.Set(key, id)
	c.Header(Header, id)
	c.Next()
}

// Get returns the request's ID ("" before Middleware ran).
func Get(c *gin.Context) string { return c.GetString(key) }

func printable(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7e {
			return false
		}
	}
	return true
}
