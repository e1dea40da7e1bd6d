package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/civitas-net/civitas/internal/atomicfile"
	"github.com/civitas-net/civitas/internal/qrcode"
	"github.com/civitas-net/civitas/keys"
	"github.com/civitas-net/civitas/wallet"
)

const walletPassphraseEnv = "CIVITAS_WALLET_PASSPHRASE"

// civitasHome is ~/.civitas, or ./.civitas when there is no home folder.
func civitasHome() string {
	if home, err := os.UserHomeDir(); err == nil {
		return filepath.Join(home, ".civitas")
	}
	return ".civitas"
}

func newWalletCmd() *cobra.Command {
	var dir string
	cmd := &cobra.Command{
		Use:   "wallet",
		Short: "A member's light wallet: identity, credentials, presentations",
		Long: `The member's wallet: an encrypted folder holding their key, DID and credentials.
The passphrase comes from ` + walletPassphraseEnv + `, or is asked for when a terminal is
attached.`,
	}
	cmd.PersistentFlags().StringVar(&dir, "dir", filepath.Join(civitasHome(), "wallet"), "wallet folder")
	cmd.AddCommand(
		walletInitCmd(&dir), walletDIDCmd(&dir), walletListCmd(&dir), walletShowCmd(&dir), walletDeleteCmd(&dir),
		walletExportCmd(&dir), walletImportCmd(&dir), walletReceiveCmd(&dir), walletPresentCmd(&dir),
	)
	return cmd
}

// passphrase reads the wallet passphrase from the environment or, on a terminal, a
// prompt (twice when confirm is set).
func passphrase(cmd *cobra.Command, confirm bool) ([]byte, error) {
	if p := os.Getenv(walletPassphraseEnv); p != "" {
		return []byte(p), nil
	}
	in, ok := cmd.InOrStdin().(*os.File)
	if !ok || !term.IsTerminal(int(in.Fd())) {
		return nil, usageError("set %s (no terminal to ask on)", walletPassphraseEnv)
	}
	fmt.Fprint(cmd.ErrOrStderr(), "Wallet passphrase: ")
	p, err := term.ReadPassword(int(in.Fd()))
	fmt.Fprintln(cmd.ErrOrStderr())
	if err != nil {
		return nil, err
	}
	if confirm {
		fmt.Fprint(cmd.ErrOrStderr(), "Again: ")
		again, err := term.ReadPassword(int(in.Fd()))
		fmt.Fprintln(cmd.ErrOrStderr())
		if err != nil {
			return nil, err
		}
		if !bytes.Equal(p, again) {
			return nil, usageError("the passphrases differ")
		}
	}
	return p, nil
}

// openWallet asks for the passphrase and opens the wallet in dir with it. It returns
// the passphrase too, for a command that seals something else with it.
func openWallet(cmd *cobra.Command, dir string) (*wallet.Store, []byte, error) {
	pass, err := passphrase(cmd, false)
	if err != nil {
		return nil, nil, err
	}
	s, err := wallet.Open(dir, pass)
	switch {
	case errors.Is(err, wallet.ErrPassphrase):
		return nil, nil, usageError("wrong passphrase for the wallet in %s", dir)
	case errors.Is(err, wallet.ErrNotInitialized):
		return nil, nil, usageError("no wallet in %s (civitas wallet init --dir %s)", dir, dir)
	case err != nil:
		return nil, nil, err
	}
	return s, pass, nil
}

// withWallet is the RunE of a command that works on the wallet in *dir: it opens the
// wallet, runs fn with it and closes it.
func withWallet(dir *string, fn func(cmd *cobra.Command, args []string, s *wallet.Store) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		s, _, err := openWallet(cmd, *dir)
		if err != nil {
			return err
		}
		defer s.Close()
		return fn(cmd, args, s)
	}
}

func walletInitCmd(dir *string) *cobra.Command {
	var method, alg string
	cmd := &cobra.Command{
		Use:   "init [--dir DIR] [--method key|jwk] [--alg Ed25519|P-256]",
		Short: "Create a wallet: a new key and DID, in an encrypted folder; prints the DID",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			a, err := keys.ParseAlgorithm(alg)
			if err != nil {
				return usageError("%w", err)
			}
			if method != wallet.MethodKey && method != wallet.MethodJWK {
				return usageError("--method must be key or jwk")
			}
			pass, err := passphrase(cmd, true)
			if err != nil {
				return err
			}
			if len(pass) < 8 {
				return usageError("the passphrase must be at least 8 characters")
			}
			s, err := wallet.Init(*dir, pass, wallet.InitOptions{Method: method, Algorithm: a})
			if errors.Is(err, wallet.ErrExists) {
				return usageError("a wallet already exists in %s", *dir)
			}
			if err != nil {
				return err
			}
			defer s.Close()
			fmt.Fprintln(cmd.OutOrStdout(), s.DID())
			return nil
		},
	}
	cmd.Flags().StringVar(&method, "method", wallet.MethodKey, "DID method: key or jwk")
	cmd.Flags().StringVar(&alg, "alg", "Ed25519", "key algorithm: Ed25519 or P-256")
	return cmd
}

func walletDIDCmd(dir *string) *cobra.Command {
	return &cobra.Command{
		Use:   "did",
		Short: "Print the wallet's DID",
		Args:  cobra.NoArgs,
		RunE: withWallet(dir, func(cmd *cobra.Command, _ []string, s *wallet.Store) error {
			fmt.Fprintln(cmd.OutOrStdout(), s.DID())
			return nil
		}),
	}
}

func walletListCmd(dir *string) *cobra.Command {
	var typ string
	cmd := &cobra.Command{
		Use:   "list [--type TYPE]",
		Short: "List the credentials in the wallet",
		Args:  cobra.NoArgs,
		RunE: withWallet(dir, func(cmd *cobra.Command, _ []string, s *wallet.Store) error {
			entries := s.List()
			if typ != "" {
				entries = s.ByType(typ)
			}
			w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "ID\tTYPE\tFORMAT\tISSUER\tVALID UNTIL")
			for _, e := range entries {
				until := "-"
				if !e.ValidUntil.IsZero() {
					until = e.ValidUntil.UTC().Format(time.DateOnly)
				}
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", e.ID, mainType(e.Types), e.Format, e.Issuer, until)
			}
			return w.Flush()
		}),
	}
	cmd.Flags().StringVar(&typ, "type", "", "only credentials of this type")
	return cmd
}

// mainType is the most specific type of a credential (the last one listed).
func mainType(types []string) string {
	if len(types) == 0 {
		return "?"
	}
	return types[len(types)-1]
}

func walletShowCmd(dir *string) *cobra.Command {
	return &cobra.Command{
		Use:   "show ID",
		Short: "Show one credential: its metadata and the credential as held",
		Args:  cobra.ExactArgs(1),
		RunE: withWallet(dir, func(cmd *cobra.Command, args []string, s *wallet.Store) error {
			e, err := s.Get(args[0])
			if errors.Is(err, wallet.ErrNotFound) {
				return usageError("no credential %s in the wallet", args[0])
			}
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "id       %s\ntype     %s\nformat   %s\nissuer   %s\nissued   %s\n", e.ID, strings.Join(e.Types, ", "), e.Format, e.Issuer, e.IssuedAt.UTC().Format(time.RFC3339))
			if !e.ValidUntil.IsZero() {
				fmt.Fprintf(out, "until    %s\n", e.ValidUntil.UTC().Format(time.RFC3339))
			}
			if e.Format == wallet.FormatSDJWTVC {
				names, err := wallet.Disclosable(e.Raw)
				if err == nil {
					fmt.Fprintf(out, "you may disclose: %s (the rest is always shown)\n", strings.Join(names, ", "))
				}
			}
			fmt.Fprintf(out, "\n%s\n", e.Raw)
			return nil
		}),
	}
}

func walletDeleteCmd(dir *string) *cobra.Command {
	return &cobra.Command{
		Use:   "delete ID",
		Short: "Delete a credential from the wallet",
		Args:  cobra.ExactArgs(1),
		RunE: withWallet(dir, func(cmd *cobra.Command, args []string, s *wallet.Store) error {
			if err := s.Delete(args[0]); errors.Is(err, wallet.ErrNotFound) {
				return usageError("no credential %s in the wallet", args[0])
			} else if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "deleted %s\n", args[0])
			return nil
		}),
	}
}

func walletExportCmd(dir *string) *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:   "export --out FILE",
		Short: "Write an encrypted backup of the wallet (keys and credentials), sealed with the passphrase",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if out == "" {
				return usageError("--out is required")
			}
			s, pass, err := openWallet(cmd, *dir)
			if err != nil {
				return err
			}
			defer s.Close()
			if err := s.ExportFile(out, pass); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "backup written to %s (%d credentials)\n", out, len(s.List()))
			return nil
		},
	}
	cmd.Flags().StringVar(&out, "out", "", "backup file to write (must not exist)")
	return cmd
}

func walletImportCmd(dir *string) *cobra.Command {
	return &cobra.Command{
		Use:   "import FILE",
		Short: "Restore a backup into a new wallet folder",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			pass, err := passphrase(cmd, false)
			if err != nil {
				return err
			}
			s, err := wallet.Import(args[0], *dir, pass)
			switch {
			case errors.Is(err, wallet.ErrPassphrase):
				return usageError("wrong passphrase for this backup")
			case errors.Is(err, wallet.ErrExists):
				return usageError("a wallet already exists in %s", *dir)
			case err != nil:
				return err
			}
			defer s.Close()
			fmt.Fprintf(cmd.OutOrStdout(), "restored %s with %d credentials into %s\n", s.DID(), len(s.List()), *dir)
			return nil
		},
	}
}

func walletReceiveCmd(dir *string) *cobra.Command {
	var txCode string
	cmd := &cobra.Command{
		Use:   "receive OFFER_URI [--tx-code CODE]",
		Short: "Redeem a credential offer (OpenID4VCI) and keep the credential",
		Args:  cobra.ExactArgs(1),
		RunE: withWallet(dir, func(cmd *cobra.Command, args []string, s *wallet.Store) error {
			h, err := s.Holder()
			if err != nil {
				return err
			}
			got, err := h.Receive(cmd.Context(), args[0], wallet.ReceiveOptions{TxCode: txCode})
			var ie *wallet.IssuerError
			if errors.As(err, &ie) {
				return fmt.Errorf("the issuer refused: %s (%s)", ie.Code, ie.Description)
			}
			if err != nil {
				return err
			}
			d := got.Description
			e, err := s.Add(wallet.Entry{ID: d.ID, Format: d.Format, Types: d.Types, Issuer: d.Issuer, IssuedAt: d.IssuedAt, ValidUntil: d.ValidUntil, Raw: got.Raw})
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "received %s (%s, %s) from %s\n", mainType(e.Types), e.Format, e.ID, e.Issuer)
			return nil
		}),
	}
	cmd.Flags().StringVar(&txCode, "tx-code", "", "the transaction code given with the offer, if it asks for one")
	return cmd
}

func walletPresentCmd(dir *string) *cobra.Command {
	var challenge, audience, typ, id, disclose, format, qrFile, out string
	cmd := &cobra.Command{
		Use:   "present --challenge NONCE --audience AUD [--type T | --id ID] [--disclose claim,…] [--qr FILE.png]",
		Short: "Present a credential, bound to a verifier's challenge and audience",
		Long: `Present one credential to a verifier. A vc+jwt or Data Integrity credential is
wrapped in a vp+jwt (or, with --format di-eddsa-rdfc, a Data Integrity presentation).
An SD-JWT VC is presented with only the claims named by --disclose (besides those its
type always shows) and a Key Binding JWT. The presentation goes to standard output or
--out; with --qr, also into a PNG QR code when it fits.`,
		Args: cobra.NoArgs,
		PreRunE: func(*cobra.Command, []string) error {
			if challenge == "" || audience == "" {
				return usageError("--challenge and --audience are required")
			}
			return nil
		},
		RunE: withWallet(dir, func(cmd *cobra.Command, _ []string, s *wallet.Store) error {
			e, err := pickCredential(s, id, typ)
			if err != nil {
				return err
			}
			h, err := s.Holder()
			if err != nil {
				return err
			}
			req := wallet.Request{Challenge: challenge, Audience: audience, Format: format}
			var vp []byte
			if e.Format == wallet.FormatSDJWTVC {
				var names []string
				if disclose != "" {
					names = strings.Split(disclose, ",")
				}
				vp, err = h.PresentSDJWT(e.Raw, names, req)
			} else {
				if disclose != "" {
					return usageError("this %s credential cannot disclose selectively; it is shown whole (leave out --disclose)", e.Format)
				}
				vp, err = h.Present(cmd.Context(), [][]byte{e.Raw}, req)
			}
			if err != nil {
				return usageError("%w", err)
			}
			if out != "" {
				if err := atomicfile.Write(out, append(vp, '\n'), 0o600); err != nil {
					return err
				}
			} else {
				fmt.Fprintln(cmd.OutOrStdout(), string(vp))
			}
			if qrFile != "" {
				return writeQR(cmd.ErrOrStderr(), qrFile, string(vp))
			}
			return nil
		}),
	}
	f := cmd.Flags()
	f.StringVar(&challenge, "challenge", "", "the verifier's challenge (nonce)")
	f.StringVar(&audience, "audience", "", "the verifier's identifier (its DID or URL)")
	f.StringVar(&typ, "type", "", "present the newest credential of this type")
	f.StringVar(&id, "id", "", "present the credential with this ID")
	f.StringVar(&disclose, "disclose", "", "SD-JWT claims to show, comma-separated")
	f.StringVar(&format, "format", "jwt", "presentation format for non-SD-JWT credentials: jwt, di-eddsa-rdfc, di-eddsa-jcs")
	f.StringVar(&qrFile, "qr", "", "also write the presentation as a PNG QR code")
	f.StringVar(&out, "out", "", "write the presentation to this file instead of standard output")
	return cmd
}

// pickCredential finds the credential to present: by ID, or the newest of a type, or
// the only one in the wallet.
func pickCredential(s *wallet.Store, id, typ string) (wallet.Entry, error) {
	if id != "" && typ != "" {
		return wallet.Entry{}, usageError("give --id or --type, not both")
	}
	var candidates []wallet.Entry
	switch {
	case id != "":
		e, err := s.Get(id)
		if errors.Is(err, wallet.ErrNotFound) {
			return e, usageError("no credential %s in the wallet", id)
		}
		return e, err
	case typ != "":
		candidates = s.ByType(typ)
	default:
		candidates = s.List()
		if len(candidates) > 1 {
			return wallet.Entry{}, usageError("the wallet holds %d credentials: choose with --type or --id", len(candidates))
		}
	}
	if len(candidates) == 0 {
		return wallet.Entry{}, usageError("no such credential in the wallet")
	}
	newest := candidates[0]
	for _, c := range candidates[1:] {
		if c.AddedAt.After(newest.AddedAt) {
			newest = c
		}
	}
	return s.Get(newest.ID)
}

// writeQR writes text as a QR code, or says clearly why it cannot.
func writeQR(stderr io.Writer, path, text string) error {
	png, err := qrcode.PNG(text)
	if errors.Is(err, qrcode.ErrTooLarge) {
		fmt.Fprintf(stderr, "no QR code: the presentation is %d bytes and a QR code holds at most %d; pass the file instead (or disclose fewer claims)\n", len(text), qrcode.MaxBytes)
		return nil
	}
	if err != nil {
		return err
	}
	if err := atomicfile.Write(path, png, 0o600); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "QR code written to %s\n", path)
	return nil
}
