package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/civitas-net/civitas/credential/jose"
	"github.com/civitas-net/civitas/did"
	"github.com/civitas-net/civitas/internal/atomicfile"
	"github.com/civitas-net/civitas/internal/jsonstrict"
	"github.com/civitas-net/civitas/verifier/node"
	"github.com/civitas-net/civitas/verifier/node/kiosk"
)

const tokenEnv = "CIVITAS_TOKEN"

func newNodeCmd() *cobra.Command {
	var dir string
	cmd := &cobra.Command{
		Use:   "node",
		Short: "Check members in at a physical node, offline",
		Long: `Check-in at a co-living site's door. The issuer makes the node a signed bundle
(civitas node bundle); the node sets itself up from it (node init), shows challenges
(node challenge), decides on presentations offline (node checkin), keeps a signed
ledger of its decisions (node ledger) and uploads it when online (node sync).
The node's key is sealed with ` + node.PassphraseEnv + ` or a random secret file in its folder.`,
	}
	cmd.PersistentFlags().StringVar(&dir, "dir", "./civitas-node", "the node's folder")
	cmd.AddCommand(nodeBundleCmd(), nodeInitCmd(&dir), nodeRefreshCmd(&dir), nodeChallengeCmd(&dir),
		nodeCheckinCmd(&dir), nodeLedgerCmd(&dir), nodeSyncCmd(&dir), nodeServeCmd(&dir))
	return cmd
}

func nodeBundleCmd() *cobra.Command {
	var server, id, name, out string
	cmd := &cobra.Command{
		Use:   "bundle --server URL --node ID --out FILE [--name NAME]",
		Short: "Fetch a signed bundle for a node from the issuer (admin or steward token in " + tokenEnv + ")",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			token := os.Getenv(tokenEnv)
			switch {
			case server == "" || id == "" || out == "":
				return usageError("--server, --node and --out are required")
			case token == "":
				return usageError("set %s to an admin or steward API token", tokenEnv)
			}
			u := strings.TrimSuffix(server, "/") + "/admin/nodes/" + url.PathEscape(id) + "/bundle"
			if name != "" {
				u += "?name=" + url.QueryEscape(name)
			}
			req, err := http.NewRequestWithContext(cmd.Context(), http.MethodGet, u, nil)
			if err != nil {
				return usageError("%w", err)
			}
			req.Header.Set("Authorization", "Bearer "+token)
			raw, err := fetch(req)
			if err != nil {
				return err
			}
			// The first bundle carries the node's one-time enrollment code: keep it private.
			if err := atomicfile.Write(out, raw, 0o600); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "bundle for %s written to %s\n", id, out)
			return nil
		},
	}
	cmd.Flags().StringVar(&server, "server", "", "the issuer service's URL")
	cmd.Flags().StringVar(&id, "node", "", "the node's ID (as residency credentials name it)")
	cmd.Flags().StringVar(&name, "name", "", "the node's display name")
	cmd.Flags().StringVar(&out, "out", "", "file to write the bundle to")
	return cmd
}

// maxBundle bounds the answer fetch reads.
const maxBundle = node.MaxBundleSize

// fetch sends req and returns the body of a 200 answer, or an error with the problem.
// It follows no redirect and refuses an answer larger than maxBundle.
func fetch(req *http.Request) ([]byte, error) {
	client := &http.Client{Timeout: 30 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxBundle+1))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		var p struct{ Code, Detail string }
		json.Unmarshal(raw, &p)
		return nil, fmt.Errorf("the issuer answered %d %s: %s", resp.StatusCode, p.Code, p.Detail)
	}
	if len(raw) > maxBundle {
		return nil, fmt.Errorf("the issuer's answer is larger than %d bytes", maxBundle)
	}
	return raw, nil
}

func nodeInitCmd(dir *string) *cobra.Command {
	var bundleFile, issuerDoc string
	var devLoopback bool
	cmd := &cobra.Command{
		Use:   "init --bundle FILE [--issuer-doc FILE] [--dev-loopback]",
		Short: "Set up a node from its first bundle: a key of its own, the bundle, an empty ledger",
		Long: `Set up a node. The bundle must be signed by the issuer it names, whose DID document
is resolved (did:web, over HTTPS) or read from --issuer-doc when the node is offline.
The node makes its own key and DID, and enrolls them with the issuer when it can
reach it (otherwise "node refresh" or "node sync" enrolls later).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if bundleFile == "" {
				return usageError("--bundle is required")
			}
			raw, err := readInput(cmd.InOrStdin(), bundleFile)
			if err != nil {
				return usageError("%w", err)
			}
			doc, err := issuerDocument(cmd.Context(), raw, issuerDoc, devLoopback)
			if err != nil {
				return err
			}
			n, err := node.Init(cmd.Context(), *dir, raw, doc, node.Options{})
			if errors.Is(err, node.ErrExists) {
				return usageError("%w", err)
			}
			if err != nil {
				return err
			}
			defer n.Close()
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "node %s set up in %s\n  did     %s\n  issuer  %s\n", n.ID(), *dir, n.DID(), n.Bundle().Issuer)
			if err := n.Enroll(cmd.Context(), node.Client{}); err != nil {
				fmt.Fprintf(out, "  not enrolled yet (%v): \"civitas node refresh\" enrolls when the issuer is reachable\n", err)
			} else {
				fmt.Fprintln(out, "  enrolled with the issuer")
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&bundleFile, "bundle", "", "the bundle file from 'civitas node bundle'")
	cmd.Flags().StringVar(&issuerDoc, "issuer-doc", "", "the issuer's DID document (JSON), when it cannot be resolved")
	cmd.Flags().BoolVar(&devLoopback, "dev-loopback", false, "resolve a local development issuer's did:web over plain HTTP on loopback")
	return cmd
}

// issuerDocument returns the DID document of the issuer that signed a bundle: from a
// file, or resolved.
func issuerDocument(ctx context.Context, bundle []byte, file string, devLoopback bool) (*did.Document, error) {
	t, err := jose.ParseJWS(bundle)
	if err != nil {
		return nil, usageError("not a bundle: %w", err)
	}
	var head struct {
		Issuer string `json:"issuer"`
	}
	if err := jsonstrict.Unmarshal(t.Payload, &head, jsonstrict.Limits{MaxBytes: 8 << 20, MaxDepth: 32}); err != nil || head.Issuer == "" {
		return nil, usageError("not a bundle")
	}
	if file != "" {
		raw, err := os.ReadFile(file)
		if err != nil {
			return nil, usageError("%w", err)
		}
		doc, err := did.ParseDocument(raw)
		if err != nil {
			return nil, usageError("--issuer-doc: %w", err)
		}
		if doc.ID != head.Issuer {
			return nil, usageError("--issuer-doc is %s's document, but the bundle is by %s", doc.ID, head.Issuer)
		}
		return doc, nil
	}
	var opts []did.WebOption
	if devLoopback {
		opts = append(opts, did.WithTestInsecureHTTP())
	}
	doc, err := did.NewResolver(did.WithWebResolver(did.NewWebResolver(opts...))).Resolve(ctx, head.Issuer)
	if err != nil {
		return nil, fmt.Errorf("resolve the issuer %s (or pass --issuer-doc): %w", head.Issuer, err)
	}
	return doc, nil
}

// openNode opens the node in dir.
func openNode(dir string) (*node.Node, error) {
	n, err := node.Open(dir, node.Options{})
	if err != nil {
		return nil, nodeError(err, dir)
	}
	return n, nil
}

// nodeError says what to do about a node in dir that is not set up or is in use.
func nodeError(err error, dir string) error {
	switch {
	case errors.Is(err, node.ErrNotInitialized):
		return usageError("%v (civitas node init --dir %s)", err, dir)
	case errors.Is(err, node.ErrLocked):
		return usageError("the node in %s is in use by another process (a running kiosk?)", dir)
	}
	return err
}

// withNode is the RunE of a command that works on the node in *dir: it opens the node,
// runs fn with it and closes it.
func withNode(dir *string, fn func(cmd *cobra.Command, n *node.Node) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, _ []string) error {
		n, err := openNode(*dir)
		if err != nil {
			return err
		}
		defer n.Close()
		return fn(cmd, n)
	}
}

func nodeRefreshCmd(dir *string) *cobra.Command {
	return &cobra.Command{
		Use:   "refresh",
		Short: "Fetch a newer bundle from the issuer (and enroll, if not done yet)",
		Args:  cobra.NoArgs,
		RunE: withNode(dir, func(cmd *cobra.Command, n *node.Node) error {
			changed, err := n.Refresh(cmd.Context(), node.Client{})
			if err != nil {
				return err
			}
			b := n.Bundle()
			if changed {
				fmt.Fprintf(cmd.OutOrStdout(), "new bundle, version %d, expires %s\n", b.Version, b.ExpiresAt.UTC().Format(time.RFC3339))
			} else {
				fmt.Fprintln(cmd.OutOrStdout(), "the bundle is up to date")
			}
			return nil
		}),
	}
}

func nodeChallengeCmd(dir *string) *cobra.Command {
	var qrFile string
	cmd := &cobra.Command{
		Use:   "challenge [--qr FILE.png]",
		Short: "Print a new challenge for a member's wallet, as JSON (and a QR code)",
		Args:  cobra.NoArgs,
		RunE: withNode(dir, func(cmd *cobra.Command, n *node.Node) error {
			c, err := n.Challenge(cmd.Context())
			if err != nil {
				return err
			}
			raw, _ := json.Marshal(c)
			fmt.Fprintln(cmd.OutOrStdout(), string(raw))
			if qrFile != "" {
				return writeQR(cmd.ErrOrStderr(), qrFile, string(raw))
			}
			return nil
		}),
	}
	cmd.Flags().StringVar(&qrFile, "qr", "", "also write the challenge as a PNG QR code")
	return cmd
}

func nodeCheckinCmd(dir *string) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "checkin PRESENTATION|-",
		Short: "Decide on a presentation, offline; record it in the ledger (exit 0 admitted, 1 refused)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			raw, err := readInput(cmd.InOrStdin(), args[0])
			if err != nil {
				return usageError("%w", err)
			}
			n, err := openNode(*dir)
			if err != nil {
				return err
			}
			defer n.Close()
			d, err := n.CheckIn(cmd.Context(), raw)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if asJSON {
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				enc.Encode(d)
			} else {
				printDecision(out, d)
			}
			if !d.Admitted {
				return &exitError{code: exitRejected, err: errors.New("refused")}
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the decision as JSON")
	return cmd
}

func printDecision(w io.Writer, d node.Decision) {
	switch d.Decision {
	case node.Admitted:
		fmt.Fprintf(w, "ADMITTED  %s\n", d.Type)
	case node.AdmittedFlagged:
		fmt.Fprintf(w, "ADMITTED (flagged)  %s\n", d.Type)
	default:
		fmt.Fprintln(w, "REFUSED")
	}
	for i, r := range d.Reasons {
		fmt.Fprintf(w, "  - %s (%s)\n", r, d.Codes[i])
	}
}

func nodeLedgerCmd(dir *string) *cobra.Command {
	var since string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "ledger [--since TIME] [--json]",
		Short: "Show the node's service ledger, verified (works while the kiosk runs)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var t time.Time
			if since != "" {
				var err error
				if t, err = parseTimeFlag(since); err != nil {
					return usageError("--since: %w", err)
				}
			}
			all, err := node.ReadLedger(cmd.Context(), *dir)
			if err != nil {
				return nodeError(err, *dir)
			}
			var entries []node.LedgerEntry
			for _, e := range all {
				if !e.At.Before(t) {
					entries = append(entries, e)
				}
			}
			if asJSON {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(entries)
			}
			w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "SEQ\tTIME\tDECISION\tTYPE\tSUBJECT REF\tCODES")
			for _, e := range entries {
				fmt.Fprintf(w, "%d\t%s\t%s\t%s\t%s\t%s\n", e.Seq, e.At.UTC().Format(time.RFC3339), e.Decision, orUnknown(e.Type), orUnknown(e.SubjectRef), strings.Join(e.Codes, ","))
			}
			return w.Flush()
		},
	}
	cmd.Flags().StringVar(&since, "since", "", "only entries at or after this time (RFC 3339 or YYYY-MM-DD)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the entries as JSON")
	return cmd
}

func nodeSyncCmd(dir *string) *cobra.Command {
	return &cobra.Command{
		Use:   "sync",
		Short: "Upload the ledger entries the issuer has not seen",
		Args:  cobra.NoArgs,
		RunE: withNode(dir, func(cmd *cobra.Command, n *node.Node) error {
			res, err := n.Sync(cmd.Context(), node.Client{})
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "sent %d entries, %d new to the issuer, %d flagged\n", res.Sent, res.Stored, res.Flagged)
			return nil
		}),
	}
}

func nodeServeCmd(dir *string) *cobra.Command {
	var addr, title string
	var allowHosts []string
	var every time.Duration
	cmd := &cobra.Command{
		Use:   "serve [--addr HOST:PORT] [--title NAME] [--sync-every DURATION]",
		Short: "Serve the door's kiosk page and JSON API (works with no internet)",
		Long: `Serve the kiosk: a page for door staff showing the current challenge as a QR code,
a field where the member's presentation arrives (a scanner types into it), and the
decision in large letters with its reasons; and the same as a JSON API
(GET /api/challenge, POST /api/checkin). Every asset is served by this binary.
It listens on loopback by default; put it on the site's own network only.
While it runs, it refreshes the bundle and uploads the ledger every --sync-every
when the issuer is reachable (0 turns that off).`,
		Args: cobra.NoArgs,
		RunE: withNode(dir, func(cmd *cobra.Command, n *node.Node) error {
			if title == "" {
				title = n.Bundle().Node.Name
			}
			log := slog.New(slog.NewJSONHandler(cmd.ErrOrStderr(), nil))
			ln, err := net.Listen("tcp", addr)
			if err != nil {
				return fmt.Errorf("listen on %s: %w", addr, err)
			}
			hosts := kioskHosts(ln.Addr().(*net.TCPAddr), allowHosts)
			srv := newHTTPServer(kiosk.New(n, kiosk.Options{Title: title, Logger: log, Hosts: hosts}), log)
			fmt.Fprintf(cmd.OutOrStdout(), "Civitas door %s\n  kiosk  http://%s/\n  did    %s\n  bundle version %d, expires %s\n",
				n.ID(), ln.Addr(), n.DID(), n.Bundle().Version, n.Bundle().ExpiresAt.UTC().Format(time.RFC3339))

			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			if every > 0 {
				go keepInSync(ctx, n, every, log)
			}
			errc := make(chan error, 1)
			go func() { errc <- srv.Serve(ln) }()
			select {
			case err := <-errc:
				return fmt.Errorf("serve: %w", err)
			case <-ctx.Done():
				log.Info("shutting down")
			}
			shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := srv.Shutdown(shutdownCtx); err != nil {
				log.Error("shutdown", "err", err)
			}
			if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
				return err
			}
			return nil
		}),
	}
	cmd.Flags().StringVar(&addr, "addr", "127.0.0.1:8081", "address to listen on")
	cmd.Flags().StringVar(&title, "title", "", "the page's heading (default: the node's name)")
	cmd.Flags().StringSliceVar(&allowHosts, "allow-host", nil, "a host:port the kiosk answers to besides its listening address (repeatable)")
	cmd.Flags().DurationVar(&every, "sync-every", 5*time.Minute, "refresh the bundle and upload the ledger this often when online (0: never)")
	return cmd
}

// kioskHosts lists the Host headers the kiosk answers: its listening address (with
// localhost when on loopback) and the extra ones given. On a wildcard address with no
// extra hosts it returns nil: any Host is answered.
func kioskHosts(addr *net.TCPAddr, extra []string) []string {
	port := strconv.Itoa(addr.Port)
	var hosts []string
	switch {
	case addr.IP.IsLoopback():
		hosts = []string{net.JoinHostPort(addr.IP.String(), port), "localhost:" + port, "127.0.0.1:" + port, "[::1]:" + port}
	case addr.IP.IsUnspecified():
		if len(extra) == 0 {
			return nil
		}
	default:
		hosts = []string{net.JoinHostPort(addr.IP.String(), port)}
	}
	return append(hosts, extra...)
}

// keepInSync refreshes the node's bundle and uploads its ledger every period until
// ctx ends. Being offline is normal for a door: failures are logged and retried.
func keepInSync(ctx context.Context, n *node.Node, period time.Duration, log *slog.Logger) {
	t := time.NewTicker(period)
	defer t.Stop()
	for {
		if changed, err := n.Refresh(ctx, node.Client{}); err != nil {
			log.Info("bundle refresh failed; will retry", "err", err.Error())
		} else if changed {
			log.Info("new bundle", "version", n.Bundle().Version)
		}
		if res, err := n.Sync(ctx, node.Client{}); err != nil {
			log.Info("ledger upload failed; will retry", "err", err.Error())
		} else if res.Sent > 0 {
			log.Info("ledger uploaded", "sent", res.Sent, "stored", res.Stored, "flagged", res.Flagged)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
