package main

import (
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/civitas-net/civitas/did"
)

func newDIDCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "did", Short: "Work with DIDs"}
	cmd.AddCommand(&cobra.Command{
		Use:   "resolve DID",
		Short: "Resolve a did:key, did:jwk or did:web and print its DID document",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			doc, err := did.NewResolver().Resolve(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			out, err := json.MarshalIndent(doc, "", "  ")
			if err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), string(out))
			return nil
		},
	})
	return cmd
}
