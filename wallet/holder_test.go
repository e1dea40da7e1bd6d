package wallet_test

import (
	"context"
	"crypto"
	"errors"
	"strings"
	"testing"

	"github.com/civitas-net/civitas/credential/jose"
	"github.com/civitas-net/civitas/did"
	"github.com/civitas-net/civitas/keys"
	"github.com/civitas-net/civitas/wallet"
)

func newHolder(t *testing.T, alg keys.Algorithm) *wallet.Holder {
	t.Helper()
	key, err := keys.Generate(alg)
	if err != nil {
		t.Fatal(err)
	}
	h, err := wallet.NewKeyHolder(key)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestNewKeyHolder(t *testing.T) {
	for _, alg := range []keys.Algorithm{keys.Ed25519, keys.P256} {
		h := newHolder(t, alg)
		if !strings.HasPrefix(h.DID, "did:key:z") || !strings.HasPrefix(h.KeyID, h.DID+"#") {
			t.Fatalf("%s holder %s / %s", alg, h.DID, h.KeyID)
		}
		// The key id resolves to the holder's key for authentication.
		_, pub, err := did.NewResolver().ResolveVerificationMethod(context.Background(), h.KeyID, did.Authentication)
		if err != nil || !pub.(interface{ Equal(crypto.PublicKey) bool }).Equal(h.Key.Public()) {
			t.Fatalf("%s: resolving the key id: %v", alg, err)
		}
	}
}

func TestPresentRefuses(t *testing.T) {
	h := newHolder(t, keys.Ed25519)
	ctx := context.Background()
	req := wallet.Request{Challenge: "n", Audience: "did:web:door.example"}
	for name, tc := range map[string]struct {
		creds [][]byte
		req   wallet.Request
	}{
		"no challenge":          {nil, wallet.Request{Audience: "did:web:door.example"}},
		"no audience":           {nil, wallet.Request{Challenge: "n"}},
		"unknown format":        {nil, wallet.Request{Challenge: "n", Audience: "a", Format: "pdf"}},
		"not a credential":      {[][]byte{[]byte("hello")}, req},
		"JSON not a credential": {[][]byte{[]byte(`{"a":1}`)}, req},
		"duplicate keys":        {[][]byte{[]byte(`{"type":"VerifiableCredential","type":"x"}`)}, req},
		"a presentation token":  {[][]byte{[]byte(presentation(t, h))}, req},
		"ecdsa with an Ed25519": {nil, wallet.Request{Challenge: "n", Audience: "a", Format: wallet.FormatECDSARDFC}},
	} {
		if _, err := h.Present(ctx, tc.creds, tc.req); !errors.Is(err, wallet.ErrPresent) {
			t.Errorf("%s: Present = %v, want ErrPresent", name, err)
		}
	}
}

func presentation(t *testing.T, h *wallet.Holder) string {
	t.Helper()
	vp, err := h.Present(context.Background(), nil, wallet.Request{Challenge: "n", Audience: "a"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := jose.Parse(vp, jose.TypPresentation); err != nil {
		t.Fatalf("Present made no vp+jwt: %v", err)
	}
	return string(vp)
}
