// Command civitas is the Civitas command-line tool: keys and DIDs, issuing and verifying
// credentials, and a demonstration of the credential core.
//
// Exit status: 0 on success (for verify: verified), 1 when verification fails, 2 on a
// usage error or when the command cannot run.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"
)

// Exit codes.
const (
	exitOK       = 0
	exitRejected = 1
	exitUsage    = 2
)

// exitError carries an exit status out of a command.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// usageError marks err as a usage error (exit status 2).
func usageError(format string, args ...any) error {
	return &exitError{code: exitUsage, err: fmt.Errorf(format, args...)}
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// run executes the command line args and returns the exit status.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	root := newRoot()
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.Execute()
	if err == nil {
		return exitOK
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.code != exitRejected {
			fmt.Fprintln(stderr, "civitas:", ee.err)
		}
		return ee.code
	}
	fmt.Fprintln(stderr, "civitas:", err)
	return exitUsage
}

func newRoot() *cobra.Command {
	root := &cobra.Command{
		Use:           "civitas",
		Short:         "Verifiable identity for network-state communities",
		Long:          "Civitas issues, holds and verifies W3C Verifiable Credentials tied to DIDs: memberships, residencies and contribution badges.",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error {
		return &exitError{code: exitUsage, err: err}
	})
	root.AddCommand(newKeysCmd(), newDIDCmd(), newIssueCmd(), newVerifyCmd(), newDemoCmd(), newServeCmd(), newAuditCmd(), newReportCmd(), newWalletCmd(), newNodeCmd())
	return root
}
