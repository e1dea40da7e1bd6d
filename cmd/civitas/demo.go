package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/civitas-net/civitas/did"
	"github.com/civitas-net/civitas/issuer"
	"github.com/civitas-net/civitas/keys"
	"github.com/civitas-net/civitas/schemas"
	"github.com/civitas-net/civitas/verifier"
	"github.com/civitas-net/civitas/wallet"
)

func newDemoCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "demo",
		Short: "Walk through the credential core: keys, issuance, verification, tampering, presentation",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runDemo(cmd.Context(), cmd.OutOrStdout())
		},
	}
}

// runDemo issues, verifies, tampers with and presents a membership credential, printing
// each step. Every outcome is checked: the demo fails if any differs from what it shows.
func runDemo(ctx context.Context, w io.Writer) error {
	step := func(n int, s string) { fmt.Fprintf(w, "\n%d. %s\n", n, s) }
	fmt.Fprintln(w, "Civitas demo: the credential core, end to end (nothing is written to disk)")

	step(1, "The community's issuer creates an Ed25519 signing key")
	issuerKey, err := keys.Generate(keys.Ed25519)
	if err != nil {
		return err
	}
	kid, err := did.KeyURL(issuerKey.Public())
	if err != nil {
		return err
	}
	iss, err := issuer.New(issuer.Key{Signer: issuerKey, KeyID: kid})
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "   issuer DID  %s\n", iss.DID())

	step(2, "A member creates their own key in their wallet")
	memberKey, err := keys.Generate(keys.Ed25519)
	if err != nil {
		return err
	}
	member, err := wallet.NewKeyHolder(memberKey)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "   member DID  %s\n", member.DID)

	step(3, "The issuer issues a MembershipCredential to the member, in two formats")
	var subject map[string]any
	if err := json.Unmarshal(schemas.ExampleSubject("MembershipCredential"), &subject); err != nil {
		return err
	}
	subject["id"] = member.DID
	jwtCred, err := iss.Issue(ctx, issuer.Request{Type: "MembershipCredential", Subject: subject}, issuer.FormatJWT)
	if err != nil {
		return err
	}
	diCred, err := iss.Issue(ctx, issuer.Request{Type: "MembershipCredential", Subject: subject}, issuer.FormatEdDSARDFC)
	if err != nil {
		return err
	}
	diBytes, err := diCred.Bytes()
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "   vc+jwt           %d bytes  %s…\n", len(jwtCred.JWT), jwtCred.JWT[:48])
	fmt.Fprintf(w, "   eddsa-rdfc-2022  %d bytes  proofValue %s…\n", len(diBytes), diCred.Document["proof"].(map[string]any)["proofValue"].(string)[:24])

	v, err := verifier.New()
	if err != nil {
		return err
	}
	policy := verifier.DefaultPolicy(iss.DID())
	expect := func(label string, raw []byte, p verifier.Policy, want verifier.Code) error {
		res, _ := v.Verify(ctx, raw, p)
		got := "VERIFIED"
		if !res.Verified {
			codes := res.Codes()
			got = "NOT VERIFIED: " + string(codes[0])
		}
		fmt.Fprintf(w, "   %-34s %s\n", label, got)
		if (want == "") != res.Verified || (want != "" && res.Codes()[0] != want) {
			return fmt.Errorf("demo: %s: unexpected result %s", label, got)
		}
		return nil
	}

	step(4, "An app verifies both, trusting the issuer's DID")
	if err := expect("vc+jwt", []byte(jwtCred.JWT), policy, ""); err != nil {
		return err
	}
	if err := expect("eddsa-rdfc-2022", diBytes, policy, ""); err != nil {
		return err
	}
	if err := expect("vc+jwt, issuer not trusted", []byte(jwtCred.JWT), verifier.DefaultPolicy(), verifier.IssuerUntrusted); err != nil {
		return err
	}

	step(5, `Someone edits the credential: role "member" becomes "steward"`)
	if err := expect("tampered vc+jwt", tamperJWT(jwtCred.JWT), policy, verifier.SignatureInvalid); err != nil {
		return err
	}
	if err := expect("tampered eddsa-rdfc-2022", bytes.Replace(diBytes, []byte(`"member"`), []byte(`"steward"`), 1), policy, verifier.SignatureInvalid); err != nil {
		return err
	}

	step(6, "At a co-living node, the member presents it, answering the node's challenge")
	req := wallet.Request{Challenge: issuer.NewURN(), Audience: "did:web:node.example"}
	vp, err := member.Present(ctx, [][]byte{[]byte(jwtCred.JWT)}, req)
	if err != nil {
		return err
	}
	door := policy
	door.Challenge, door.Audience = req.Challenge, req.Audience
	if err := expect("vp+jwt at the door", vp, door, ""); err != nil {
		return err
	}
	if err := expect("the same presentation again", vp, door, verifier.Replayed); err != nil {
		return err
	}
	other := door
	other.Audience = "did:web:another-node.example"
	if err := expect("the presentation at another node", vp, other, verifier.AudienceMismatch); err != nil {
		return err
	}
	fmt.Fprintln(w, "\nTry it yourself with the CLI: see the README's quickstart.")
	return nil
}

// tamperJWT returns token with its payload re-encoded after replacing the member's role.
func tamperJWT(token string) []byte {
	parts := strings.SplitN(token, ".", 3)
	payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
	payload = bytes.Replace(payload, []byte(`"member"`), []byte(`"steward"`), 1)
	parts[1] = base64.RawURLEncoding.EncodeToString(payload)
	return []byte(strings.Join(parts, "."))
}
