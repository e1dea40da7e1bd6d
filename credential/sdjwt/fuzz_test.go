package sdjwt

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"maps"
	"reflect"
	"strings"
	"testing"

	"github.com/civitas-net/civitas/keys"
)

func FuzzParse(f *testing.F) {
	for _, alg := range []keys.Algorithm{keys.Ed25519, keys.P256} {
		iss, holder := newParty(f, alg), newParty(f, alg)
		issued := mustIssue(f, membership(f, iss, holder), iss)
		f.Add(issued)
		f.Add(mustPresent(f, issued, []string{"role"}, holder))
	}
	f.Add(rfcDisclosure)
	f.Add("e30.e30.c2ln~" + rfcDisclosure + "~")
	f.Add("~~~")
	f.Fuzz(func(t *testing.T, s string) {
		sd, err := Parse(s)
		if err != nil {
			return
		}
		_, discs, kb := splitCompact(s)
		if sd.Issuer == "" || sd.VCT == "" || sd.KeyID == "" || sd.IssuedAt.IsZero() || sd.Holder.Key == nil {
			t.Fatalf("accepted without the required claims: %+v", sd)
		}
		if sd.HasKeyBinding != (kb != "") {
			t.Fatalf("HasKeyBinding %v with kb part %q", sd.HasKeyBinding, kb)
		}
		got := sd.Disclosures()
		if len(got) != len(discs) {
			t.Fatalf("%d disclosures from %d parts", len(got), len(discs))
		}
		claims := sd.Claims()
		for i, d := range got {
			if d.Encoded != discs[i] || d.Digest != digestOf(d.Encoded) || notDisclosable[d.Name] {
				t.Fatalf("disclosure %d: %+v", i, d)
			}
			if _, ok := claims[d.Name]; !ok {
				t.Fatalf("disclosed %q missing from the claims", d.Name)
			}
		}
		for _, k := range []string{"_sd", "_sd_alg", "cnf"} {
			if _, ok := claims[k]; ok {
				t.Fatalf("claims hold %s", k)
			}
		}
	})
}

// FuzzVerify mutates valid SD-JWTs of fixed issuer and holder keys. Verification must
// never panic, and may succeed only on input whose claims are all claims the issuer
// signed, with their signed values, from that issuer, bound to that holder, and key
// bound exactly when a KB-JWT is attached. (The fuzzing engine runs this setup again in
// each worker, with fresh salts, so the assertions cannot compare whole strings.)
func FuzzVerify(f *testing.F) {
	iss := partyFor(f, ed25519.NewKeyFromSeed(bytes.Repeat([]byte{1}, ed25519.SeedSize)))
	holder := partyFor(f, ed25519.NewKeyFromSeed(bytes.Repeat([]byte{2}, ed25519.SeedSize)))
	c := membership(f, iss, holder)
	issued := mustIssue(f, c, iss)
	presented := mustPresent(f, issued, []string{"role", "sub"}, holder)
	jwt, discs, _ := splitCompact(issued)
	f.Add(issued)
	f.Add(presented)
	f.Add(prefix(presented))
	f.Add(jwt + "~" + strings.Join(discs[:2], "~") + "~")
	f.Add(prefix(presented) + discs[0] + "~")

	signed := map[string]any{
		"iss": iss.did, "iat": t0.Unix(), "nbf": t0.Unix(), "exp": c.Expires.Unix(), "vct": c.VCT,
		"credentialStatus": c.Status,
	}
	maps.Copy(signed, c.Visible)
	maps.Copy(signed, c.Disclosable)
	signed = jsonValue(f, signed).(map[string]any)
	r := resolver()
	check := func(t *testing.T, s string, v *Verified) {
		if v.Issuer != iss.did || !v.Holder.Key.(ed25519.PublicKey).Equal(holder.key.Public()) {
			t.Fatalf("verified for another issuer or holder: %q", s)
		}
		for k, got := range v.Claims {
			if want, ok := signed[k]; !ok || !reflect.DeepEqual(got, want) {
				t.Fatalf("verified claim %s = %v, the issuer signed %v: %q", k, got, want, s)
			}
		}
		_, _, kb := splitCompact(s)
		if v.KeyBound != (kb != "") {
			t.Fatalf("KeyBound %v with kb part %q", v.KeyBound, kb)
		}
	}
	f.Fuzz(func(t *testing.T, s string) {
		ctx := context.Background()
		o := verifyOptions()
		if v, err := Verify(ctx, s, r, o); err == nil {
			if !v.KeyBound {
				t.Fatalf("verified without key binding: %q", s)
			}
			check(t, s, v)
		}
		o.RequireKeyBinding = false
		if v, err := Verify(ctx, s, r, o); err == nil {
			check(t, s, v)
		}
	})
}
