package httpapi_test

import (
	"bytes"
	"net/http/httptest"
	"testing"

	"github.com/civitas-net/civitas/schemas"
)

// BenchmarkVerifyEndpoint measures POST /credentials/verify of a vc+jwt membership in
// process (no network): the handler, the verifier and the status lookup in the store.
func BenchmarkVerifyEndpoint(b *testing.B) {
	e := newEnv(b)
	ada := e.member("Ada")
	r := e.must(201, e.do("POST", "/credentials/issue", e.admin, issueBody(b, schemas.Membership, ada.DID, "")))
	body := r.raw
	h := e.srv.Config.Handler
	b.ReportAllocs()
	for b.Loop() {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("POST", "/credentials/verify", bytes.NewReader(body)))
		if rec.Code != 200 {
			b.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
	}
}

// BenchmarkIssueEndpoint measures POST /credentials/issue of a vc+jwt membership in
// process, including the durable group commit.
func BenchmarkIssueEndpoint(b *testing.B) {
	e := newEnv(b)
	ada := e.member("Ada")
	body := []byte(e.mustJSON(issueBody(b, schemas.Membership, ada.DID, "")))
	h := e.srv.Config.Handler
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			rec := httptest.NewRecorder()
			req := httptest.NewRequest("POST", "/credentials/issue", bytes.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+e.admin)
			h.ServeHTTP(rec, req)
			if rec.Code != 201 {
				b.Errorf("status %d: %s", rec.Code, rec.Body)
				return
			}
		}
	})
}
