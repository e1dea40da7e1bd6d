package main

import (
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/civitas-net/civitas/credential"
	"github.com/civitas-net/civitas/did"
	"github.com/civitas-net/civitas/internal/jsonstrict"
	"github.com/civitas-net/civitas/issuer"
	"github.com/civitas-net/civitas/keys"
)

// maxInputFile bounds files and standard input read by the CLI.
const maxInputFile = 1 << 20

func newIssueCmd() *cobra.Command {
	var keyFile, typ, subjectFile, format, validUntil string
	cmd := &cobra.Command{
		Use:   "issue --key FILE --type TYPE --subject FILE --format FORMAT",
		Short: "Issue a credential signed with a local key (its did:key is the issuer)",
		Long: `Issue a MembershipCredential, ResidencyCredential or ContributionCredential.
The subject file holds the credentialSubject as JSON; its "id" is the member's DID.
Formats: jwt (application/vc+jwt), di-eddsa-rdfc, di-eddsa-jcs (Ed25519 keys) and
di-ecdsa-rdfc (P-256 keys), the last three as Data Integrity proofs.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if keyFile == "" || typ == "" || subjectFile == "" {
				return usageError("--key, --type and --subject are required")
			}
			f, err := issuer.ParseFormat(format)
			if err != nil {
				return usageError("%w", err)
			}
			var until time.Time
			if validUntil != "" {
				if until, err = parseTimeFlag(validUntil); err != nil {
					return usageError("--valid-until: %w", err)
				}
			}
			key, err := keys.LoadPrivateJWK(keyFile)
			if err != nil {
				return usageError("%w", err)
			}
			raw, err := readInput(cmd.InOrStdin(), subjectFile)
			if err != nil {
				return usageError("%w", err)
			}
			var subject map[string]any
			if err := jsonstrict.Unmarshal(raw, &subject, jsonstrict.Limits{MaxBytes: maxInputFile}); err != nil {
				return usageError("subject %s: %w", subjectFile, err)
			}
			kid, err := did.KeyURL(key.Public())
			if err != nil {
				return err
			}
			iss, err := issuer.New(issuer.Key{Signer: key, KeyID: kid})
			if err != nil {
				return err
			}
			sec, err := iss.Issue(cmd.Context(), issuer.Request{Type: typ, Subject: subject, ValidUntil: until}, f)
			if err != nil {
				return usageError("%w", err)
			}
			out, err := sec.Bytes()
			if err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), string(out))
			return nil
		},
	}
	cmd.Flags().StringVar(&keyFile, "key", "", "issuer's private JWK file (from 'civitas keys new')")
	cmd.Flags().StringVar(&typ, "type", "", "MembershipCredential, ResidencyCredential or ContributionCredential")
	cmd.Flags().StringVar(&subjectFile, "subject", "", "credentialSubject JSON file, or - for standard input")
	cmd.Flags().StringVar(&format, "format", "jwt", "jwt, di-eddsa-rdfc, di-eddsa-jcs or di-ecdsa-rdfc")
	cmd.Flags().StringVar(&validUntil, "valid-until", "", "end of validity: RFC 3339 date-time or YYYY-MM-DD (UTC midnight)")
	return cmd
}

// parseTimeFlag accepts an RFC 3339 date-time or a plain date.
func parseTimeFlag(s string) (time.Time, error) {
	if t, err := credential.ParseDateTime(s); err == nil {
		return t, nil
	}
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is neither an RFC 3339 date-time nor a YYYY-MM-DD date", s)
	}
	return t, nil
}

// readInput reads a file, or stdin for "-", up to maxInputFile bytes.
func readInput(stdin io.Reader, name string) ([]byte, error) {
	r := stdin
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		r = f
	}
	data, err := io.ReadAll(io.LimitReader(r, maxInputFile+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxInputFile {
		return nil, fmt.Errorf("%s is larger than %d bytes", name, maxInputFile)
	}
	return data, nil
}
