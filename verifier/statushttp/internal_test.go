package statushttp

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/civitas-net/civitas/credential"
	"github.com/civitas-net/civitas/statuslist"
	"github.com/civitas-net/civitas/verifier"
)

func TestFreshness(t *testing.T) {
	const maxAge = 5 * time.Minute
	tests := []struct {
		headers []string
		want    time.Duration
	}{
		{nil, maxAge},
		{[]string{""}, maxAge},
		{[]string{"max-age=60"}, time.Minute},
		{[]string{"Max-Age=60"}, time.Minute},
		{[]string{"public, max-age=30, must-revalidate"}, 30 * time.Second},
		{[]string{`max-age="45"`}, 45 * time.Second},
		{[]string{"max-age=0"}, 0},
		{[]string{"max-age=3600"}, maxAge}, // never longer
		{[]string{"max-age=60", "max-age=30"}, 30 * time.Second},
		{[]string{"no-cache"}, 0},
		{[]string{"private, no-store"}, 0},
		{[]string{"max-age=-5"}, maxAge},
		{[]string{"max-age=+5"}, maxAge},
		{[]string{"max-age=5s"}, maxAge},
		{[]string{"max-age=99999999999999999999"}, maxAge},
		{[]string{"max-age"}, maxAge},
		{[]string{"s-maxage=1"}, maxAge},
	}
	for _, tc := range tests {
		if got := freshness(maxAge, tc.headers); got != tc.want {
			t.Errorf("freshness(%q) = %v, want %v", tc.headers, got, tc.want)
		}
	}
}

func TestETagOf(t *testing.T) {
	for etag, want := range map[string]string{
		`"abc"`:                      `"abc"`,
		`W/"abc"`:                    `W/"abc"`,
		"":                           "",
		strings.Repeat("a", 257):     "",
		"\"a\x01\"":                  "",
		strings.Repeat("a", maxETag): strings.Repeat("a", maxETag),
	} {
		h := http.Header{}
		h.Set("ETag", etag)
		if got := etagOf(h); got != want {
			t.Errorf("etagOf(%.20q) = %.20q, want %.20q", etag, got, want)
		}
	}
}

const (
	fuzzURL    = "https://issuer.example/status/1"
	fuzzIssuer = "did:web:issuer.example"
)

// verifiedResult wraps a parsed credential as the verifier would report it verified.
func verifiedResult(c *credential.Credential) verifier.Result {
	cr := verifier.CredentialResult{Verified: true, Format: verifier.FormatLDPVC, Credential: c}
	return verifier.Result{Verified: true, Format: verifier.FormatLDPVC, Credentials: []verifier.CredentialResult{cr}}
}

func sampleListJSON(t testing.TB, purposes any) []byte {
	t.Helper()
	l, err := statuslist.New(statuslist.MinSize)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Set(3, true); err != nil {
		t.Fatal(err)
	}
	from := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	doc, err := statuslist.Credential(fuzzURL, fuzzIssuer, statuslist.PurposeRevocation, l, from, from.AddDate(1, 0, 0))
	if err != nil {
		t.Fatal(err)
	}
	if purposes != nil {
		doc["credentialSubject"].(map[string]any)["statusPurpose"] = purposes
	}
	b, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestEntryFrom(t *testing.T) {
	parse := func(b []byte) *credential.Credential {
		c, err := credential.Parse(b)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	good := parse(sampleListJSON(t, nil))
	e, err := entryFrom(verifiedResult(good), fuzzURL, fuzzIssuer)
	if err != nil {
		t.Fatal(err)
	}
	if set, _ := e.list.Get(3); !set || e.issuer != fuzzIssuer || len(e.purposes) != 1 || e.purposes[0] != statuslist.PurposeRevocation {
		t.Fatalf("entry %+v", e)
	}
	both := parse(sampleListJSON(t, []any{"suspension", "message", "revocation", "suspension"}))
	if e, err := entryFrom(verifiedResult(both), fuzzURL, fuzzIssuer); err != nil || strings.Join(e.purposes, ",") != "suspension,revocation" {
		t.Fatalf("several purposes: %v, %v", e, err)
	}

	notVerified := verifiedResult(good)
	notVerified.Verified = false
	presentation := verifiedResult(good)
	presentation.Holder = "did:key:z6Mk"
	twoCreds := verifiedResult(good)
	twoCreds.Credentials = append(twoCreds.Credentials, twoCreds.Credentials[0])
	vp := verifiedResult(good)
	vp.Format = verifier.FormatLDPVP
	tests := []struct {
		name string
		res  verifier.Result
		url  string
		want []error
	}{
		{"not verified", notVerified, fuzzURL, []error{ErrUnverified}},
		{"a presentation", presentation, fuzzURL, []error{ErrUnverified}},
		{"presentation format", vp, fuzzURL, []error{ErrUnverified}},
		{"two credentials", twoCreds, fuzzURL, []error{ErrUnverified}},
		{"no credential", verifier.Result{Verified: true, Format: verifier.FormatVCJWT}, fuzzURL, []error{ErrUnverified}},
		{"other url", verifiedResult(good), fuzzURL + "/", []error{ErrMismatch}},
		{"message purpose only", verifiedResult(parse(sampleListJSON(t, "message"))), fuzzURL, []error{ErrMismatch, statuslist.ErrPurposeMismatch}},
		{"purpose not a string", verifiedResult(parse(sampleListJSON(t, 7))), fuzzURL, []error{statuslist.ErrMalformed}},
		{"purpose array with a number", verifiedResult(parse(sampleListJSON(t, []any{"revocation", 7}))), fuzzURL, []error{statuslist.ErrMalformed}},
		{"empty purpose array", verifiedResult(parse(sampleListJSON(t, []any{}))), fuzzURL, []error{ErrMismatch}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e, err := entryFrom(tc.res, tc.url, fuzzIssuer)
			if e != nil || err == nil {
				t.Fatalf("entryFrom = %v, %v; want an error", e, err)
			}
			for _, w := range tc.want {
				if !errors.Is(err, w) {
					t.Fatalf("error %v does not wrap %v", err, w)
				}
			}
		})
	}
	if _, err := entryFrom(verifiedResult(good), fuzzURL, "did:web:other.example"); !errors.Is(err, ErrMismatch) {
		t.Fatalf("other issuer: %v", err)
	}
}

// FuzzEntryFrom feeds arbitrary credentials, as if verified, to the code that reads the
// list out of them: no panic, and an accepted list is a real one of this URL and issuer.
func FuzzEntryFrom(f *testing.F) {
	f.Add(sampleListJSON(f, nil))
	f.Add(sampleListJSON(f, []any{"revocation", "suspension"}))
	f.Add(sampleListJSON(f, "message"))
	var arr map[string]any
	if err := json.Unmarshal(sampleListJSON(f, nil), &arr); err != nil {
		f.Fatal(err)
	}
	arr["credentialSubject"] = []any{arr["credentialSubject"]}
	seed, err := json.Marshal(arr)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(seed)
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := credential.Parse(data)
		if err != nil {
			return
		}
		e, err := entryFrom(verifiedResult(c), fuzzURL, fuzzIssuer)
		if err != nil {
			if e != nil {
				t.Fatal("entry returned with an error")
			}
			return
		}
		if c.ID != fuzzURL || c.Issuer != fuzzIssuer || len(e.purposes) == 0 || e.list.Len() < statuslist.MinSize {
			t.Fatalf("accepted %+v from %s", e, data)
		}
	})
}

// FuzzFreshness parses arbitrary Cache-Control values: no panic, never longer than
// MaxAge, never negative.
func FuzzFreshness(f *testing.F) {
	for _, s := range []string{"max-age=60", "no-cache", `public, max-age="5"`, "max-age=", ",,,="} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		got := freshness(DefaultMaxAge, []string{v})
		if got < 0 || got > DefaultMaxAge {
			t.Fatalf("freshness(%q) = %v", v, got)
		}
	})
}
