package statuslist_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/civitas-net/civitas/credential"
	"github.com/civitas-net/civitas/did"
	"github.com/civitas-net/civitas/issuer"
	"github.com/civitas-net/civitas/keys"
	"github.com/civitas-net/civitas/statuslist"
	"github.com/civitas-net/civitas/verifier"
)

const listURL = "https://issuer.example/status/1"

var (
	from  = time.Date(2026, 5, 1, 8, 0, 0, 123456789, time.FixedZone("CEST", 2*3600))
	until = from.AddDate(0, 1, 0)
)

// sampleList returns a minimum-size list with the given bits set.
func sampleList(t *testing.T, set ...int) *statuslist.List {
	t.Helper()
	l, err := statuslist.New(statuslist.MinSize)
	if err != nil {
		t.Fatal(err)
	}
	for _, i := range set {
		if err := l.Set(i, true); err != nil {
			t.Fatal(err)
		}
	}
	return l
}

// bitsOf returns the indexes of the set bits.
func bitsOf(l *statuslist.List) []int {
	var out []int
	for i := range l.Len() {
		if v, _ := l.Get(i); v {
			out = append(out, i)
		}
	}
	return out
}

func TestCredentialReadsBack(t *testing.T) {
	set := []int{0, 7, 94567, statuslist.MinSize - 1}
	for _, purpose := range []string{statuslist.PurposeRevocation, statuslist.PurposeSuspension} {
		for _, withUntil := range []bool{true, false} {
			t.Run(fmt.Sprintf("%s/validUntil=%v", purpose, withUntil), func(t *testing.T) {
				var u time.Time
				if withUntil {
					u = until
				}
				doc, err := statuslist.Credential(listURL, "did:web:issuer.example", purpose, sampleList(t, set...), from, u)
				if err != nil {
					t.Fatal(err)
				}
				// The document as built, and as a verifier receives it over the wire.
				raw, err := json.Marshal(doc)
				if err != nil {
					t.Fatal(err)
				}
				c, err := credential.Parse(raw)
				if err != nil {
					t.Fatal(err)
				}
				for name, d := range map[string]map[string]any{"built": doc, "parsed": c.Document} {
					l, err := statuslist.ListFromCredential(d, purpose, statuslist.DecodeLimits{})
					if err != nil {
						t.Fatalf("%s: %v", name, err)
					}
					if got := bitsOf(l); !slices.Equal(got, set) || l.Len() != statuslist.MinSize {
						t.Fatalf("%s: bits %v of %d, want %v", name, got, l.Len(), set)
					}
				}
				if c.ID != listURL || c.Issuer != "did:web:issuer.example" || !c.HasType(statuslist.CredentialType) ||
					!slices.Equal(c.Context, []string{credential.ContextV2}) {
					t.Fatalf("credential %+v", c)
				}
				if doc["validFrom"] != "2026-05-01T06:00:00Z" || !c.ValidFrom.Equal(from.Truncate(time.Second)) {
					t.Fatalf("validFrom %v", doc["validFrom"])
				}
				if _, has := doc["validUntil"]; has != withUntil || (withUntil && doc["validUntil"] != credential.FormatDateTime(until)) {
					t.Fatalf("validUntil %v", doc["validUntil"])
				}
				subject := doc["credentialSubject"].(map[string]any)
				if subject["id"] != listURL+"#list" || subject["type"] != statuslist.ListType || subject["statusPurpose"] != purpose {
					t.Fatalf("subject %v", subject)
				}
				other := statuslist.PurposeSuspension
				if purpose == other {
					other = statuslist.PurposeRevocation
				}
				if _, err := statuslist.ListFromCredential(doc, other, statuslist.DecodeLimits{}); !errors.Is(err, statuslist.ErrPurposeMismatch) {
					t.Fatalf("read for %s: %v, want ErrPurposeMismatch", other, err)
				}
			})
		}
	}
}

func TestCredentialRejects(t *testing.T) {
	good := sampleList(t)
	tests := []struct {
		name                string
		id, issuer, purpose string
		list                *statuslist.List
		from, until         time.Time
	}{
		{"relative id", "/status/1", "did:web:issuer.example", statuslist.PurposeRevocation, good, from, until},
		{"empty id", "", "did:web:issuer.example", statuslist.PurposeRevocation, good, from, until},
		{"id with fragment", listURL + "#x", "did:web:issuer.example", statuslist.PurposeRevocation, good, from, until},
		{"id with space", listURL + " x", "did:web:issuer.example", statuslist.PurposeRevocation, good, from, until},
		{"empty issuer", listURL, "", statuslist.PurposeRevocation, good, from, until},
		{"issuer not a URL", listURL, "issuer", statuslist.PurposeRevocation, good, from, until},
		{"message purpose", listURL, "did:web:issuer.example", "message", good, from, until},
		{"empty purpose", listURL, "did:web:issuer.example", "", good, from, until},
		{"nil list", listURL, "did:web:issuer.example", statuslist.PurposeRevocation, nil, from, until},
		{"empty list", listURL, "did:web:issuer.example", statuslist.PurposeRevocation, &statuslist.List{}, from, until},
		{"no validFrom", listURL, "did:web:issuer.example", statuslist.PurposeRevocation, good, time.Time{}, until},
		{"until equals from", listURL, "did:web:issuer.example", statuslist.PurposeRevocation, good, from, from},
		{"until within the same second", listURL, "did:web:issuer.example", statuslist.PurposeRevocation, good, from, from.Add(time.Millisecond)},
		{"until before from", listURL, "did:web:issuer.example", statuslist.PurposeRevocation, good, from, from.Add(-time.Hour)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			doc, err := statuslist.Credential(tc.id, tc.issuer, tc.purpose, tc.list, tc.from, tc.until)
			if !errors.Is(err, statuslist.ErrMalformed) || doc != nil {
				t.Fatalf("Credential = %v, %v; want ErrMalformed", doc, err)
			}
		})
	}
}

// TestCredentialSignVerify signs the list credential with package issuer in every
// format and verifies it with package verifier, trusting the issuer for status lists
// only, then reads the list out of the verified credential.
func TestCredentialSignVerify(t *testing.T) {
	now := from.Add(time.Hour)
	clock := func() time.Time { return now }
	newIssuer := func(alg keys.Algorithm) *issuer.Issuer {
		key, err := keys.Generate(alg)
		if err != nil {
			t.Fatal(err)
		}
		kid, err := did.KeyURL(key.Public())
		if err != nil {
			t.Fatal(err)
		}
		iss, err := issuer.New(issuer.Key{Signer: key, KeyID: kid}, issuer.WithClock(func() time.Time { return from }))
		if err != nil {
			t.Fatal(err)
		}
		return iss
	}
	ed, p256 := newIssuer(keys.Ed25519), newIssuer(keys.P256)
	v, err := verifier.New(verifier.WithClock(clock))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range issuer.Formats {
		t.Run(string(f), func(t *testing.T) {
			iss := ed
			if f == issuer.FormatECDSARDFC {
				iss = p256
			}
			doc, err := statuslist.Credential(listURL, iss.DID(), statuslist.PurposeRevocation, sampleList(t, 42), from, until)
			if err != nil {
				t.Fatal(err)
			}
			sec, err := iss.Sign(context.Background(), doc, f)
			if err != nil {
				t.Fatal(err)
			}
			raw, err := sec.Bytes()
			if err != nil {
				t.Fatal(err)
			}
			policy := verifier.Policy{
				Trust:  []verifier.TrustedIssuer{{DID: iss.DID(), Types: []string{statuslist.CredentialType}}},
				Leeway: verifier.DefaultLeeway,
			}
			res, err := v.Verify(context.Background(), raw, policy)
			if err != nil || !res.Verified {
				t.Fatalf("Verify: %v", err)
			}
			l, err := statuslist.ListFromCredential(res.Credentials[0].Credential.Document, statuslist.PurposeRevocation, statuslist.DecodeLimits{})
			if err != nil {
				t.Fatal(err)
			}
			if got := bitsOf(l); !slices.Equal(got, []int{42}) {
				t.Fatalf("verified list has bits %v", got)
			}
			// Trusted for another type only: refused.
			policy.Trust[0].Types = []string{"MembershipCredential"}
			if _, err := v.Verify(context.Background(), raw, policy); !errors.Is(err, verifier.ErrIssuerUntrusted) {
				t.Fatalf("issuer trusted for memberships only: %v, want issuer_untrusted", err)
			}
		})
	}
}
