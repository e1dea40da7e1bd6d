package dataintegrity_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/civitas-net/civitas/credential"
	"github.com/civitas-net/civitas/credential/dataintegrity"
	"github.com/civitas-net/civitas/did"
	"github.com/civitas-net/civitas/internal/testvectors"
	"github.com/civitas-net/civitas/keys"
)

// examplesContext is the content of https://www.w3.org/ns/credentials/examples/v2, which
// the published vectors use. It is registered in tests only; the product never loads it.
const examplesContext = `{"@context":{"@vocab":"https://www.w3.org/ns/credentials/examples#"}}`

func vectorSuite(t *testing.T) *dataintegrity.Suite {
	t.Helper()
	s, err := dataintegrity.New(dataintegrity.WithContext("https://www.w3.org/ns/credentials/examples/v2", []byte(examplesContext)))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func decode(t *testing.T, data []byte) map[string]any {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		t.Fatal(err)
	}
	return m
}

// TestPublishedVectors signs the published unsigned credential with the published key
// and must produce exactly the published proofValue (Ed25519 is deterministic); the
// published signed credential must verify, and a change of any one character in any of
// its string values must make it fail.
func TestPublishedVectors(t *testing.T) {
	for _, tc := range []struct {
		dir, suite, signed, sig string
	}{
		{"eddsa-rdfc-2022", dataintegrity.EdDSARDFC2022, "signedDataInt.json", "sigBTC58DataInt.txt"},
		{"eddsa-jcs-2022", dataintegrity.EdDSAJCS2022, "signedJCS.json", "sigBTC58JCS.txt"},
	} {
		t.Run(tc.suite, func(t *testing.T) {
			s := vectorSuite(t)
			var pair struct{ PublicKeyMultibase, PrivateKeyMultibase string }
			if err := json.Unmarshal(testvectors.Read(t, tc.dir, "keyPair.json"), &pair); err != nil {
				t.Fatal(err)
			}
			key, err := keys.DecodeMultikeyPrivate(pair.PrivateKeyMultibase)
			if err != nil {
				t.Fatal(err)
			}
			signer := "did:key:" + pair.PublicKeyMultibase
			vm := signer + "#" + pair.PublicKeyMultibase
			created, _ := time.Parse(time.RFC3339, "2023-02-24T23:36:38Z")

			signed, err := s.Sign(context.Background(), decode(t, testvectors.Read(t, tc.dir, "unsigned.json")), key, dataintegrity.Options{
				Cryptosuite: tc.suite, VerificationMethod: vm, Purpose: dataintegrity.PurposeAssertion, Created: created,
			})
			if err != nil {
				t.Fatal(err)
			}
			wantSig := strings.TrimSpace(string(testvectors.Read(t, tc.dir, tc.sig)))
			if got := signed["proof"].(map[string]any)["proofValue"]; got != wantSig {
				t.Fatalf("proofValue\n got %v\nwant %s", got, wantSig)
			}
			want := decode(t, testvectors.Read(t, tc.dir, tc.signed))
			gotJSON, _ := json.Marshal(signed)
			wantJSON, _ := json.Marshal(want)
			if string(gotJSON) != string(wantJSON) {
				t.Fatalf("signed document differs from the vector\n got %s\nwant %s", gotJSON, wantJSON)
			}

			r := did.NewResolver()
			expect := dataintegrity.Expect{Controller: signer, Purpose: dataintegrity.PurposeAssertion}
			if _, err := s.Verify(context.Background(), want, r, expect); err != nil {
				t.Fatalf("published signed credential does not verify: %v", err)
			}

			// Every string in the document, one character changed: must fail.
			paths := stringPaths(want, "")
			if len(paths) < 10 {
				t.Fatalf("only %d strings found", len(paths))
			}
			for _, p := range paths {
				doc := decode(t, testvectors.Read(t, tc.dir, tc.signed))
				old := p.set(doc, mutateString(p.get(doc)))
				if _, err := s.Verify(context.Background(), doc, r, expect); err == nil {
					t.Errorf("changing %s (%q) still verifies", p.name, old)
				}
			}
		})
	}
}

func TestSignVerifyRoundTrip(t *testing.T) {
	s := vectorSuite(t)
	r := did.NewResolver()
	for _, tc := range []struct {
		alg   keys.Algorithm
		suite string
	}{
		{keys.Ed25519, dataintegrity.EdDSARDFC2022},
		{keys.Ed25519, dataintegrity.EdDSAJCS2022},
		{keys.P256, dataintegrity.ECDSARDFC2019},
	} {
		t.Run(tc.suite, func(t *testing.T) {
			key, err := keys.Generate(tc.alg)
			if err != nil {
				t.Fatal(err)
			}
			kid, _ := did.KeyURL(key.Public())
			issuer, _, _ := strings.Cut(kid, "#")
			doc := decode(t, testvectors.Read(t, "eddsa-rdfc-2022", "unsigned.json"))
			doc["issuer"] = issuer
			signed, err := s.Sign(context.Background(), doc, key, dataintegrity.Options{Cryptosuite: tc.suite, VerificationMethod: kid, Purpose: dataintegrity.PurposeAssertion})
			if err != nil {
				t.Fatal(err)
			}
			if _, has := doc["proof"]; has {
				t.Fatal("Sign modified its input")
			}
			expect := dataintegrity.Expect{Controller: issuer, Purpose: dataintegrity.PurposeAssertion}
			if _, err := s.Verify(context.Background(), signed, r, expect); err != nil {
				t.Fatal(err)
			}
			// Round trip through bytes, as a holder would receive it.
			raw, _ := credential.Marshal(signed)
			if _, err := s.Verify(context.Background(), decode(t, raw), r, expect); err != nil {
				t.Fatalf("after marshalling: %v", err)
			}
			for name, e := range map[string]dataintegrity.Expect{
				"other controller": {Controller: "did:example:other", Purpose: dataintegrity.PurposeAssertion},
				"other purpose":    {Controller: issuer, Purpose: dataintegrity.PurposeAuthentication},
				"no controller":    {Purpose: dataintegrity.PurposeAssertion},
				"other challenge":  {Controller: issuer, Purpose: dataintegrity.PurposeAssertion, Challenge: "x"},
				"other domain":     {Controller: issuer, Purpose: dataintegrity.PurposeAssertion, Domain: "x"},
			} {
				if _, err := s.Verify(context.Background(), signed, r, e); !errors.Is(err, dataintegrity.ErrMismatch) {
					t.Errorf("%s: %v, want ErrMismatch", name, err)
				}
			}
		})
	}
}

func TestSignRefuses(t *testing.T) {
	s := vectorSuite(t)
	ed, _ := keys.Generate(keys.Ed25519)
	kid, _ := did.KeyURL(ed.Public())
	doc := decode(t, testvectors.Read(t, "eddsa-rdfc-2022", "unsigned.json"))
	for name, o := range map[string]dataintegrity.Options{
		"ecdsa suite with Ed25519 key": {Cryptosuite: dataintegrity.ECDSARDFC2019, VerificationMethod: kid, Purpose: "assertionMethod"},
		"unknown suite":                {Cryptosuite: "eddsa-2099", VerificationMethod: kid, Purpose: "assertionMethod"},
		"no purpose":                   {Cryptosuite: dataintegrity.EdDSARDFC2022, VerificationMethod: kid},
		"vm without fragment":          {Cryptosuite: dataintegrity.EdDSARDFC2022, VerificationMethod: "did:key:z6Mk", Purpose: "assertionMethod"},
	} {
		if _, err := s.Sign(context.Background(), doc, ed, o); err == nil {
			t.Errorf("%s: Sign succeeded", name)
		}
	}
	bad := decode(t, testvectors.Read(t, "eddsa-rdfc-2022", "unsigned.json"))
	bad["@context"] = []any{credential.ContextV2, "https://attacker.example/v1"}
	for _, suite := range []string{dataintegrity.EdDSARDFC2022, dataintegrity.EdDSAJCS2022} {
		_, err := s.Sign(context.Background(), bad, ed, dataintegrity.Options{Cryptosuite: suite, VerificationMethod: kid, Purpose: "assertionMethod"})
		if err == nil || !strings.Contains(err.Error(), "context") {
			t.Errorf("%s with an unknown context: %v", suite, err)
		}
	}
}

// path addresses one string inside a decoded document.
type path struct {
	name string
	get  func(doc map[string]any) string
	set  func(doc map[string]any, v string) string
}

// stringPaths lists every string leaf of v.
func stringPaths(v any, prefix string) []path {
	var out []path
	switch v := v.(type) {
	case map[string]any:
		for k, e := range v {
			name := prefix + "/" + k
			if _, ok := e.(string); ok {
				k := k
				parent := prefix
				out = append(out, path{
					name: name,
					get:  func(doc map[string]any) string { return lookup(doc, parent).(map[string]any)[k].(string) },
					set: func(doc map[string]any, s string) string {
						m := lookup(doc, parent).(map[string]any)
						old := m[k].(string)
						m[k] = s
						return old
					},
				})
				continue
			}
			out = append(out, stringPaths(e, name)...)
		}
	case []any:
		for i, e := range v {
			name := fmt.Sprintf("%s/%d", prefix, i)
			if _, ok := e.(string); ok {
				i := i
				parent := prefix
				out = append(out, path{
					name: name,
					get:  func(doc map[string]any) string { return lookup(doc, parent).([]any)[i].(string) },
					set: func(doc map[string]any, s string) string {
						a := lookup(doc, parent).([]any)
						old := a[i].(string)
						a[i] = s
						return old
					},
				})
				continue
			}
			out = append(out, stringPaths(e, name)...)
		}
	}
	return out
}

func lookup(doc map[string]any, p string) any {
	var cur any = doc
	for _, seg := range strings.Split(strings.TrimPrefix(p, "/"), "/") {
		if seg == "" {
			continue
		}
		switch c := cur.(type) {
		case map[string]any:
			cur = c[seg]
		case []any:
			var i int
			fmt.Sscan(seg, &i)
			cur = c[i]
		}
	}
	return cur
}

// mutateString changes one character near the end of s (so that prefixes like "did:"
// and "z" stay, and the change reaches the signature check rather than a parser).
func mutateString(s string) string {
	if s == "" {
		return "x"
	}
	i := len(s) - 2
	if i < 0 {
		i = 0
	}
	c := byte('X')
	if s[i] == 'X' {
		c = 'Y'
	}
	return s[:i] + string(c) + s[i+1:]
}
