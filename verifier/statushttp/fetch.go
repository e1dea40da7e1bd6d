package statushttp

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/civitas-net/civitas/statuslist"
	"github.com/civitas-net/civitas/verifier"
)

// accept asks for the securing formats the verifier reads.
const accept = "application/vc+jwt, application/vc+ld+json;q=0.9, application/vc;q=0.9, application/json;q=0.8"

// maxETag bounds the ETag remembered for revalidation.
const maxETag = 256

// fetch gets, verifies and decodes the list at listURL. With prev holding an ETag, it
// asks with If-None-Match, and a 304 renews prev.
func (c *Checker) fetch(ctx context.Context, listURL, issuer string, prev *listEntry) (*listEntry, error) {
	fctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(fctx, http.MethodGet, listURL, nil)
	if err != nil {
		return nil, fmt.Errorf("%w: %.200q: %w", ErrURL, listURL, err)
	}
	req.Header.Set("Accept", accept)
	if prev != nil && prev.etag != "" {
		req.Header.Set("If-None-Match", prev.etag)
	}
	resp, err := c.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrFetch, err)
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusOK:
	case resp.StatusCode == http.StatusNotModified && prev != nil && prev.etag != "":
		renewed := *prev
		renewed.fetched = c.now()
		renewed.maxAge = c.freshness(resp.Header)
		if etag := etagOf(resp.Header); etag != "" {
			renewed.etag = etag
		}
		return &renewed, nil
	case resp.StatusCode == http.StatusNotModified:
		return nil, fmt.Errorf("%w: %s answered 304 to a request that was not conditional", ErrFetch, listURL)
	case resp.StatusCode >= 300 && resp.StatusCode < 400:
		return nil, fmt.Errorf("%w: %s answered %d: redirects are refused", ErrFetch, listURL, resp.StatusCode)
	default:
		return nil, fmt.Errorf("%w: %s answered %d", ErrFetch, listURL, resp.StatusCode)
	}
	if resp.ContentLength > c.maxBody {
		return nil, fmt.Errorf("%w: %s announced %d bytes, limit %d", ErrTooLarge, listURL, resp.ContentLength, c.maxBody)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, c.maxBody+1))
	if err != nil {
		return nil, fmt.Errorf("%w: read %s: %w", ErrFetch, listURL, err)
	}
	if int64(len(body)) > c.maxBody {
		return nil, fmt.Errorf("%w: %s sent more than %d bytes", ErrTooLarge, listURL, c.maxBody)
	}
	vctx, vcancel := context.WithTimeout(ctx, c.timeout)
	defer vcancel()
	res, err := c.v.Verify(vctx, body, listPolicy(issuer))
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrUnverified, listURL, err)
	}
	e, err := entryFrom(res, listURL, issuer)
	if err != nil {
		return nil, err
	}
	e.etag = etagOf(resp.Header)
	e.fetched = c.now()
	e.maxAge = c.freshness(resp.Header)
	return e, nil
}

// listPolicy trusts issuer for status list credentials and nothing else.
func listPolicy(issuer string) verifier.Policy {
	return verifier.Policy{
		Trust:  []verifier.TrustedIssuer{{DID: issuer, Types: []string{statuslist.CredentialType}}},
		Leeway: verifier.DefaultLeeway,
		Status: verifier.StatusSkip,
	}
}

// entryFrom checks a verification result as the list at listURL of issuer and decodes
// the list.
func entryFrom(res verifier.Result, listURL, issuer string) (*listEntry, error) {
	if !res.Verified || res.Holder != "" || len(res.Credentials) != 1 || !res.Credentials[0].Verified ||
		res.Credentials[0].Credential == nil || (res.Format != verifier.FormatVCJWT && res.Format != verifier.FormatLDPVC) {
		return nil, fmt.Errorf("%w: %s is not one verified credential", ErrUnverified, listURL)
	}
	cred := res.Credentials[0].Credential
	switch {
	case !cred.HasType(statuslist.CredentialType):
		return nil, fmt.Errorf("%w: %s is not a %s", ErrMismatch, listURL, statuslist.CredentialType)
	case cred.Issuer != issuer:
		return nil, fmt.Errorf("%w: %s is issued by %.200q, not %.200q", ErrMismatch, listURL, cred.Issuer, issuer)
	case cred.ID != listURL:
		return nil, fmt.Errorf("%w: %s holds the credential %.200q", ErrMismatch, listURL, cred.ID)
	}
	purposes, err := subjectPurposes(cred.Subjects)
	if err != nil {
		return nil, fmt.Errorf("status list %s: %w", listURL, err)
	}
	// ListFromCredential checks the subject and decodes the list within the default
	// limits: MinSize to MaxSize bits, decompression stopped at the cap.
	list, err := statuslist.ListFromCredential(cred.Document, purposes[0], statuslist.DecodeLimits{})
	if err != nil {
		return nil, fmt.Errorf("status list %s: %w", listURL, err)
	}
	return &listEntry{issuer: cred.Issuer, purposes: purposes, list: list, validUntil: cred.ValidUntil}, nil
}

// subjectPurposes returns the supported purposes named by the single subject's
// statusPurpose (a string or an array of strings).
func subjectPurposes(subjects []map[string]any) ([]string, error) {
	if len(subjects) != 1 {
		return nil, fmt.Errorf("%w: %d credential subjects, want one", statuslist.ErrMalformed, len(subjects))
	}
	var named []any
	switch v := subjects[0]["statusPurpose"].(type) {
	case string:
		named = []any{v}
	case []any:
		named = v
	default:
		return nil, fmt.Errorf("%w: statusPurpose is not a string or an array of strings", statuslist.ErrMalformed)
	}
	var out []string
	for _, n := range named {
		s, ok := n.(string)
		if !ok {
			return nil, fmt.Errorf("%w: statusPurpose is not a string or an array of strings", statuslist.ErrMalformed)
		}
		if (s == statuslist.PurposeRevocation || s == statuslist.PurposeSuspension) && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: %w: no supported statusPurpose", ErrMismatch, statuslist.ErrPurposeMismatch)
	}
	return out, nil
}

// freshness is how long a response may be used: the Checker's MaxAge, shortened by the
// response's Cache-Control (max-age; no-cache and no-store mean revalidate every time).
func (c *Checker) freshness(h http.Header) time.Duration {
	return freshness(c.maxAge, h.Values("Cache-Control"))
}

func freshness(maxAge time.Duration, cacheControl []string) time.Duration {
	d := maxAge
	for _, v := range cacheControl {
		for _, directive := range strings.Split(v, ",") {
			name, value, _ := strings.Cut(strings.TrimSpace(directive), "=")
			switch strings.ToLower(strings.TrimSpace(name)) {
			case "no-cache", "no-store":
				d = 0
			case "max-age":
				value = strings.TrimSpace(value)
				if len(value) >= 2 && value[0] == '"' && value[len(value)-1] == '"' {
					value = value[1 : len(value)-1]
				}
				n, err := strconv.ParseUint(value, 10, 32)
				if err == nil && time.Duration(n)*time.Second < d {
					d = time.Duration(n) * time.Second
				}
			}
		}
	}
	return d
}

// etagOf returns the response's ETag when it is short and printable, else "".
func etagOf(h http.Header) string {
	etag := h.Get("ETag")
	if len(etag) > maxETag {
		return ""
	}
	for i := 0; i < len(etag); i++ {
		if etag[i] < 0x20 || etag[i] == 0x7f {
			return ""
		}
	}
	return etag
}
