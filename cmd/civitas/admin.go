package main

import (
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/civitas-net/civitas/issuer"
	"github.com/civitas-net/civitas/issuer/store"
	"github.com/civitas-net/civitas/keys"
)

// storeFlags adds --data and --db to cmd.
func storeFlags(cmd *cobra.Command, c *storeConfig) {
	cmd.Flags().StringVar(&c.DataDir, "data", "./civitas-data", "the issuer's data folder")
	cmd.Flags().StringVar(&c.DBURL, "db", "", "postgres:// URL (default: SQLite in the data folder)")
}

func newAuditCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "audit", Short: "Check the issuer's tamper-evident audit log"}
	var cfg storeConfig
	verify := &cobra.Command{
		Use:   "verify [--data DIR] [--db URL]",
		Short: "Recompute the audit log's hash chain and name the first entry changed or removed",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := cfg.Validate(); err != nil {
				return usageError("%w", err)
			}
			st, err := cfg.openStore(cmd.Context())
			if err != nil {
				return err
			}
			defer st.Close()
			n, head, err := store.VerifyChain(cmd.Context(), st)
			var broken *store.ChainError
			if errors.As(err, &broken) {
				fmt.Fprintf(cmd.OutOrStdout(), "BROKEN at entry %d: %s\n", broken.Seq, broken.Reason)
				return &exitError{code: exitRejected, err: err}
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "ok: %d entries, head %s\n", n, head)
			return nil
		},
	}
	storeFlags(verify, &cfg)
	cmd.AddCommand(verify)
	return cmd
}

func newReportCmd() *cobra.Command {
	var cfg storeConfig
	var month, format string
	cmd := &cobra.Command{
		Use:   "report --month YYYY-MM [--format json|csv] [--data DIR] [--db URL]",
		Short: "Print the monthly public report: counts per type and node, and the audit chain head",
		Long: `Print what a community publishes each month: credentials issued, revoked and
suspended per credential type and per node, with the audit chain head that anchors
the log. It holds no personal data.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := cfg.Validate(); err != nil {
				return usageError("%w", err)
			}
			if format != "json" && format != "csv" {
				return usageError("--format must be json or csv")
			}
			if _, err := time.Parse("2006-01", month); err != nil {
				return usageError("--month must be YYYY-MM")
			}
			st, err := cfg.openStore(cmd.Context())
			if err != nil {
				return err
			}
			defer st.Close()
			issuerDID, err := issuer.StoredDID(cmd.Context(), st)
			if err != nil {
				return err
			}
			r, err := issuer.MonthlyReport(cmd.Context(), st, issuerDID, month, time.Now())
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if format == "json" {
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				return enc.Encode(r)
			}
			w := csv.NewWriter(out)
			w.Write([]string{"month", "type", "node", "issued", "revoked", "suspended"})
			for _, c := range append(r.Rows, r.Totals) {
				w.Write([]string{r.Month, c.Type, c.Node, strconv.Itoa(c.Issued), strconv.Itoa(c.Revoked), strconv.Itoa(c.Suspended)})
			}
			w.Write([]string{r.Month, "audit-head", strconv.FormatInt(r.AuditHead.Seq, 10), r.AuditHead.Hash, "", ""})
			w.Flush()
			return w.Error()
		},
	}
	cmd.Flags().StringVar(&month, "month", time.Now().UTC().Format("2006-01"), "month to report, YYYY-MM")
	cmd.Flags().StringVar(&format, "format", "json", "json or csv")
	storeFlags(cmd, &cfg)
	return cmd
}

// newRotateCmd is "civitas keys rotate".
func newRotateCmd() *cobra.Command {
	var cfg storeConfig
	var alg string
	cmd := &cobra.Command{
		Use:   "rotate [--data DIR] [--db URL] [--alg Ed25519|P-256]",
		Short: "Give the issuer a new signing key; old keys stay in its DID document",
		Long: `Add a new signing key to the issuer's store. From then on it signs (a running
service picks it up within seconds); the old keys stay in the DID document, so the
credentials they signed keep verifying.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := cfg.Validate(); err != nil {
				return usageError("%w", err)
			}
			a, err := keys.ParseAlgorithm(alg)
			if err != nil {
				return usageError("%w", err)
			}
			st, err := cfg.openStore(cmd.Context())
			if err != nil {
				return err
			}
			defer st.Close()
			kek, err := cfg.keyEncryptionKey(cmd.Context(), st)
			if err != nil {
				return err
			}
			id, err := issuer.RotateKey(cmd.Context(), st, kek, a, "cli")
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "new signing key %s; it signs from now on\n", id)
			return nil
		},
	}
	cmd.Flags().StringVar(&alg, "alg", "Ed25519", "key algorithm: Ed25519 or P-256")
	storeFlags(cmd, &cfg)
	return cmd
}
