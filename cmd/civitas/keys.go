package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/civitas-net/civitas/did"
	"github.com/civitas-net/civitas/keys"
)

func newKeysCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "keys", Short: "Create signing keys"}
	var alg, out string
	newCmd := &cobra.Command{
		Use:   "new --alg Ed25519|P-256 --out FILE",
		Short: "Create a key, write it as a private JWK (mode 0600) and print its did:key",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			a, err := keys.ParseAlgorithm(alg)
			if err != nil {
				return usageError("%w", err)
			}
			if out == "" {
				return usageError("--out is required")
			}
			key, err := keys.Generate(a)
			if err != nil {
				return err
			}
			id, err := did.KeyDID(key.Public())
			if err != nil {
				return err
			}
			if err := keys.WritePrivateJWK(out, key); err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), id)
			return nil
		},
	}
	newCmd.Flags().StringVar(&alg, "alg", "Ed25519", "key algorithm: Ed25519 or P-256")
	newCmd.Flags().StringVar(&out, "out", "", "file to write the private JWK to (must not exist)")
	cmd.AddCommand(newCmd, newRotateCmd())
	return cmd
}
