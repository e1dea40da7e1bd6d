package interop_test

import (
	"errors"
	"slices"
	"testing"

	"github.com/civitas-net/civitas/issuer"
	"github.com/civitas-net/civitas/verifier"
)

// TestVCGoToCivitas issues each Civitas type with vc-go (its VC 2.0 data model,
// verifiable.CreateCredential, with the Civitas contexts, types, schema reference and
// subject) in each format both read, and verifies it with the Civitas verifier under a
// policy that trusts vc-go's issuer did:key and skips status (the credentials carry no
// status entry). Every check must pass, schema included; every tampered copy must fail
// with signature_invalid.
//
// vc+jwt here is VC-JOSE-COSE made with vc-go's JWT library (the credential is the
// payload, typ vc+jwt). vc-go's own Credential.CreateSignedJWTVC makes the VC 1.1 "vc"
// claim shape, which Civitas refuses by design: see TestVCGoNativeJWTIsVC11Shaped.
func TestVCGoToCivitas(t *testing.T) {
	for _, typ := range civitasTypes {
		for _, f := range sharedFormats {
			t.Run(typ+"/"+string(f), func(t *testing.T) {
				w := sharedWorld(t)
				raw := w.vcgoIssue(typ, f)
				k := w.vcgoKeyFor(f)
				res, err := w.civitasVerify(raw, k.did)
				if err != nil || !res.Verified {
					t.Fatalf("Civitas refuses a vc-go %s %s: %v (checks %+v)", f, typ, err, res.Checks)
				}
				cr := res.Credentials[0]
				if cr.Issuer != k.did || !slices.Contains(cr.Types, typ) || cr.Subject["id"] != w.holderDID {
					t.Errorf("Civitas read issuer %s, types %v, subject %v", cr.Issuer, cr.Types, cr.Subject["id"])
				}
				wantFormat := verifier.FormatLDPVC
				if f == issuer.FormatJWT {
					wantFormat = verifier.FormatVCJWT
				}
				if res.Format != wantFormat {
					t.Errorf("format %s, want %s", res.Format, wantFormat)
				}
				for _, tp := range tampers {
					res, err := w.civitasVerify(tp.apply(t, raw), k.did)
					if res.Verified || !errors.Is(err, verifier.ErrSignatureInvalid) {
						t.Errorf("tampered (%s): verified=%v err=%v, want signature_invalid", tp.name, res.Verified, err)
					}
				}
			})
		}
	}
}
