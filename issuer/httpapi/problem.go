package httpapi

import (
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/civitas-net/civitas/issuer"
	"github.com/civitas-net/civitas/verifier"
)

// statusOf is the one table from error codes to HTTP statuses.
var statusOf = map[issuer.Code]int{
	issuer.CodeMalformedRequest:   http.StatusBadRequest,
	issuer.CodeBodyTooLarge:       http.StatusRequestEntityTooLarge,
	issuer.CodeUnknownType:        http.StatusUnprocessableEntity,
	issuer.CodeSchemaInvalid:      http.StatusUnprocessableEntity,
	issuer.CodeUnsupportedFormat:  http.StatusUnprocessableEntity,
	issuer.CodeUnknownMember:      http.StatusUnprocessableEntity,
	issuer.CodeVerificationFailed: http.StatusUnprocessableEntity,
	issuer.CodeMemberExists:       http.StatusConflict,
	issuer.CodeRevocationFinal:    http.StatusConflict,
	issuer.CodeAlreadyVoted:       http.StatusConflict,
	issuer.CodeApprovalClosed:     http.StatusConflict,
	issuer.CodeLedgerConflict:     http.StatusConflict,
	issuer.CodeApprovalRequired:   http.StatusUnprocessableEntity,
	issuer.CodeUnauthorized:       http.StatusUnauthorized,
	issuer.CodeForbidden:          http.StatusForbidden,
	issuer.CodeOwnRequest:         http.StatusForbidden,
	issuer.CodeNotFound:           http.StatusNotFound,
	issuer.CodeUnavailable:        http.StatusServiceUnavailable,
	issuer.CodeInternal:           http.StatusInternalServerError,
}

// Problem is an RFC 9457 problem details object, with the machine code as an extension.
type Problem struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail,omitempty"`
	Code   string `json:"code"`
	// Errors lists verification failures (verify endpoints), one per failed check.
	Errors []verifier.Check `json:"errors,omitempty"`
	// RequestID helps match a report with the server's log.
	RequestID string `json:"requestId,omitempty"`
}

// problemType is the base of problem type URIs.
const problemType = "https://civitas.network/problems/"

// fail writes err as problem details. Internal errors are logged with their cause and
// shown to the client without it.
func (a *api) fail(c *gin.Context, err error) {
	var e *issuer.Error
	if !errors.As(err, &e) {
		e = &issuer.Error{Code: issuer.CodeInternal, Message: "internal error", Err: err}
	}
	status, ok := statusOf[e.Code]
	if !ok {
		status = http.StatusInternalServerError
	}
	if status >= 500 {
		a.log.ErrorContext(c.Request.Context(), "request failed", "request_id", requestID(c), "code", e.Code, "err", e.Err)
	}
	a.problem(c, Problem{Status: status, Code: string(e.Code), Detail: e.Message})
}

// problem writes p, filling type, title and request ID.
func (a *api) problem(c *gin.Context, p Problem) {
	p.Type = problemType + p.Code
	p.Title = http.StatusText(p.Status)
	p.RequestID = requestID(c)
	c.Header("Content-Type", "application/problem+json")
	c.AbortWithStatusJSON(p.Status, p)
}
