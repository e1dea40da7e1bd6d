package requestid

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
)

func TestMiddleware(t *testing.T) {
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.Use(Middleware)
	r.GET("/", func(c *gin.Context) { c.String(http.StatusOK, Get(c)) })
	get := func(id string) (header, seen string) {
		req := httptest.NewRequest("GET", "/", nil)
		if id != "" {
			req.Header.Set(Header, id)
		}
		rec := httptest.NewRecorder()
		r.ServeHTTP(rec, req)
		return rec.Header().Get(Header), rec.Body.String()
	}
	if h, seen := get("abc-123"); h != "abc-123" || seen != "abc-123" {
		t.Fatalf("kept id: %q %q", h, seen)
	}
	for _, bad := range []string{"", "has space", strings.Repeat("x", 65), "ünï", "tab\there"} {
		h, seen := get(bad)
		if h == bad || len(h) != 16 || seen != h {
			t.Fatalf("id for %q: %q %q", bad, h, seen)
		}
	}
	if a, _ := get(""); a == func() string { b, _ := get(""); return b }() {
		t.Fatal("two requests got the same id")
	}
}
