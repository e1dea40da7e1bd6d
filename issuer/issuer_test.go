package issuer_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/civitas-net/civitas/credential"
	"github.com/civitas-net/civitas/did"
	"github.com/civitas-net/civitas/issuer"
	"github.com/civitas-net/civitas/keys"
	"github.com/civitas-net/civitas/schemas"
)

var now = time.Date(2026, 11, 1, 9, 30, 0, 0, time.UTC)

func newIssuer(t *testing.T, alg keys.Algorithm) *issuer.Issuer {
	t.Helper()
	key, err := keys.Generate(alg)
	if err != nil {
		t.Fatal(err)
	}
	kid, _ := did.KeyURL(key.Public())
	iss, err := issuer.New(issuer.Key{Signer: key, KeyID: kid}, issuer.WithClock(func() time.Time { return now }))
	if err != nil {
		t.Fatal(err)
	}
	return iss
}

func example(t testing.TB, typ string) map[string]any {
	t.Helper()
	var s map[string]any
	if err := json.Unmarshal(schemas.ExampleSubject(typ), &s); err != nil {
		t.Fatal(err)
	}
	return s
}

func TestBuildEachType(t *testing.T) {
	iss := newIssuer(t, keys.Ed25519)
	for _, typ := range schemas.Types() {
		t.Run(typ.Name, func(t *testing.T) {
			doc, err := iss.Build(issuer.Request{Type: typ.Name, Subject: example(t, typ.Name), ValidUntil: now.AddDate(1, 0, 0)})
			if err != nil {
				t.Fatal(err)
			}
			c, err := credential.FromDocument(doc)
			if err != nil {
				t.Fatal(err)
			}
			if c.Issuer != iss.DID() || !c.HasType(typ.Name) || !c.ValidFrom.Equal(now) || !strings.HasPrefix(c.ID, "urn:uuid:") {
				t.Fatalf("credential %+v", c)
			}
			if len(c.Schemas) != 1 || c.Schemas[0].ID != typ.SchemaID || c.Schemas[0].Type != "JsonSchema" {
				t.Fatalf("credentialSchema %+v", c.Schemas)
			}
		})
	}
}

func TestBuildRejects(t *testing.T) {
	iss := newIssuer(t, keys.Ed25519)
	for name, req := range map[string]issuer.Request{
		"unknown type":       {Type: "PassportCredential", Subject: example(t, "MembershipCredential")},
		"no subject":         {Type: "MembershipCredential"},
		"subject id not DID": {Type: "MembershipCredential", Subject: map[string]any{"id": "https://example.org/ada"}},
		"schema violation": {Type: "MembershipCredential", Subject: func() map[string]any {
			s := example(t, "MembershipCredential")
			s["memberSince"] = "2025-13-01"
			return s
		}()},
		"until before from": {Type: "MembershipCredential", Subject: example(t, "MembershipCredential"), ValidUntil: now.Add(-time.Hour)},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := iss.Build(req)
			if !errors.Is(err, issuer.ErrRequest) {
				t.Fatalf("Build = %v, want ErrRequest", err)
			}
		})
	}
	_, err := iss.Build(issuer.Request{Type: "MembershipCredential", Subject: func() map[string]any {
		s := example(t, "MembershipCredential")
		s["memberSince"] = "2025-13-01"
		return s
	}()})
	if !strings.Contains(err.Error(), "memberSince") {
		t.Fatalf("schema error does not name the field: %v", err)
	}
}

func TestFormats(t *testing.T) {
	ed := newIssuer(t, keys.Ed25519)
	p256 := newIssuer(t, keys.P256)
	ctx := context.Background()
	req := issuer.Request{Type: "MembershipCredential", Subject: example(t, "MembershipCredential")}
	for _, f := range issuer.Formats {
		iss := ed
		if f == issuer.FormatECDSARDFC {
			iss = p256
		}
		sec, err := iss.Issue(ctx, req, f)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		out, err := sec.Bytes()
		if err != nil || len(out) == 0 {
			t.Fatalf("%s: Bytes = %v", f, err)
		}
	}
	if _, err := ed.Issue(ctx, req, issuer.FormatECDSARDFC); !errors.Is(err, issuer.ErrFormat) {
		t.Fatalf("ecdsa suite with an Ed25519 key: %v", err)
	}
	if _, err := p256.Issue(ctx, req, issuer.FormatEdDSARDFC); !errors.Is(err, issuer.ErrFormat) {
		t.Fatalf("eddsa suite with a P-256 key: %v", err)
	}
	if _, err := issuer.ParseFormat("pdf"); !errors.Is(err, issuer.ErrFormat) {
		t.Fatalf("ParseFormat(pdf) = %v", err)
	}
	if _, err := ed.Issue(ctx, req, "pdf"); !errors.Is(err, issuer.ErrFormat) {
		t.Fatalf("Issue(pdf) = %v", err)
	}
}

func TestNewURN(t *testing.T) {
	a, b := issuer.NewURN(), issuer.NewURN()
	if a == b || len(a) != len("urn:uuid:")+36 || a[len("urn:uuid:")+14] != '4' {
		t.Fatalf("NewURN = %s, %s", a, b)
	}
}
