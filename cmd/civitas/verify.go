package main

import (
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/civitas-net/civitas/did"
	"github.com/civitas-net/civitas/verifier"
	"github.com/civitas-net/civitas/verifier/statushttp"
)

func newVerifyCmd() *cobra.Command {
	var trust []string
	var asJSON bool
	var challenge, audience, nonceFile string
	var devLoopback bool
	cmd := &cobra.Command{
		Use:   "verify [--trust DID]... [--json] FILE|-",
		Short: "Verify a credential or presentation and print each check",
		Long: `Verify a credential (vc+jwt or Data Integrity JSON) or a presentation (vp+jwt or
Data Integrity JSON). Issuers are trusted only when named with --trust; without it
the verdict is "not verified" with issuer_untrusted. Presentations need the
--challenge and --audience the holder was given.

Status lists are fetched over HTTPS and checked. A presentation's challenge is
remembered in --nonce-file, so the same presentation offered twice is "replayed".

Exit status: 0 verified, 1 not verified, 2 usage error.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			raw, err := readInput(cmd.InOrStdin(), args[0])
			if err != nil {
				return usageError("%w", err)
			}
			p := verifier.DefaultPolicy(trust...)
			p.Challenge, p.Audience = challenge, audience
			v, err := cliVerifier(nonceFile, devLoopback)
			if err != nil {
				return err
			}
			res, verr := v.Verify(cmd.Context(), raw, p)
			out := cmd.OutOrStdout()
			if asJSON {
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				if err := enc.Encode(res); err != nil {
					return err
				}
			} else {
				printResult(out, res)
			}
			if verr != nil {
				return &exitError{code: exitRejected, err: verr}
			}
			return nil
		},
	}
	cmd.Flags().StringArrayVar(&trust, "trust", nil, "trust this issuer DID for every credential type (repeatable)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the result as JSON")
	cmd.Flags().StringVar(&challenge, "challenge", "", "the challenge (nonce) a presentation must answer")
	cmd.Flags().StringVar(&audience, "audience", "", "this verifier's identifier, which a presentation must name")
	cmd.Flags().StringVar(&nonceFile, "nonce-file", filepath.Join(civitasHome(), "verifier", "nonces"), "where accepted presentation challenges are remembered")
	cmd.Flags().BoolVar(&devLoopback, "dev-loopback", false, "also resolve did:web and fetch status lists over plain HTTP on loopback (a local development issuer only)")
	return cmd
}

// cliVerifier is the verifier of the CLI: did:key, did:jwk and did:web (HTTPS, or plain
// HTTP on loopback with devLoopback), status lists over HTTP, and a nonce file.
func cliVerifier(nonceFile string, devLoopback bool) (*verifier.Verifier, error) {
	var webOpts []did.WebOption
	var statusOpts []statushttp.Option
	if devLoopback {
		webOpts = append(webOpts, did.WithTestInsecureHTTP())
		statusOpts = append(statusOpts, statushttp.WithTestInsecureHTTP())
	}
	resolver := did.NewResolver(did.WithWebResolver(did.NewWebResolver(webOpts...)))
	lists, err := verifier.New(verifier.WithResolver(resolver))
	if err != nil {
		return nil, err
	}
	nonces, err := verifier.NewFileNonceStore(nonceFile, 0, nil)
	if err != nil {
		return nil, err
	}
	return verifier.New(verifier.WithResolver(resolver), verifier.WithNonceStore(nonces),
		verifier.WithStatusChecker(statushttp.New(lists, statusOpts...)))
}

func printResult(w io.Writer, res verifier.Result) {
	if res.Holder != "" || res.Format == verifier.FormatVPJWT || res.Format == verifier.FormatLDPVP {
		fmt.Fprintf(w, "presentation (%s)\n", orUnknown(string(res.Format)))
		if res.Holder != "" {
			fmt.Fprintf(w, "  holder  %s\n", res.Holder)
		}
		printChecks(w, "  ", res.Checks)
	} else if len(res.Credentials) == 0 {
		printChecks(w, "", res.Checks)
	}
	for _, c := range res.Credentials {
		fmt.Fprintf(w, "credential %s (%s)\n", orUnknown(c.ID), orUnknown(string(c.Format)))
		if c.Issuer != "" {
			fmt.Fprintf(w, "  issuer  %s\n", c.Issuer)
		}
		if len(c.Types) > 0 {
			fmt.Fprintf(w, "  type    %s\n", strings.Join(c.Types, ", "))
		}
		if c.ValidUntil != nil {
			fmt.Fprintf(w, "  until   %s\n", c.ValidUntil.UTC().Format(time.RFC3339))
		}
		if shown := claims(c.Subject); shown != "" {
			fmt.Fprintf(w, "  claims  %s\n", shown)
		}
		printChecks(w, "  ", c.Checks)
	}
	if res.Verified {
		fmt.Fprintln(w, "VERIFIED")
		return
	}
	codes := make([]string, 0, 4)
	for _, c := range res.Codes() {
		codes = append(codes, string(c))
	}
	fmt.Fprintf(w, "NOT VERIFIED: %s\n", strings.Join(codes, ", "))
}

func printChecks(w io.Writer, indent string, checks []verifier.Check) {
	for _, c := range checks {
		mark, text := "[ok]  ", c.Detail
		if !c.OK {
			mark = "[FAIL]"
			text = string(c.Code)
			if c.Detail != "" {
				text += ": " + c.Detail
			}
		}
		fmt.Fprintf(w, "%s%s %-9s %s\n", indent, mark, c.Name, text)
	}
}

func orUnknown(s string) string {
	if s == "" {
		return "?"
	}
	return s
}

// claims summarizes a credential subject for people: name=value for simple values,
// and the names of nested objects.
func claims(subject map[string]any) string {
	names := make([]string, 0, len(subject))
	for k := range subject {
		names = append(names, k)
	}
	slices.Sort(names)
	var parts []string
	for _, k := range names {
		switch v := subject[k].(type) {
		case map[string]any:
			if name, ok := v["name"].(string); ok {
				parts = append(parts, k+"="+name)
			} else {
				parts = append(parts, k+"={…}")
			}
		case []any:
			parts = append(parts, k+"=[…]")
		default:
			parts = append(parts, fmt.Sprintf("%s=%v", k, v))
		}
	}
	return strings.Join(parts, ", ")
}
