package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/spf13/cobra"

	"github.com/civitas-net/civitas/internal/atomicfile"
	"github.com/civitas-net/civitas/internal/jsonstrict"
	"github.com/civitas-net/civitas/issuer"
	"github.com/civitas-net/civitas/issuer/httpapi"
	"github.com/civitas-net/civitas/schemas"
	"github.com/civitas-net/civitas/verifier/node"
)

// serveConfig is the issuer service's configuration, read once from flags.
type serveConfig struct {
	storeConfig
	Addr      string
	PublicURL string
	Approvals map[string]int
	// NodePolicy is the admission policy in node bundles (nil: the default).
	NodePolicy *node.Policy
	// CheckInWindow is how close two admissions of one credential at two nodes must be
	// to be flagged.
	CheckInWindow time.Duration
}

// shutdownGrace bounds how long in-flight requests may take to finish on SIGTERM.
const shutdownGrace = 20 * time.Second

// Validate checks the configuration.
func (c serveConfig) Validate() error {
	if err := c.storeConfig.Validate(); err != nil {
		return err
	}
	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		return fmt.Errorf("--addr %q is not host:port", c.Addr)
	}
	if !strings.HasPrefix(c.PublicURL, "http://") && !strings.HasPrefix(c.PublicURL, "https://") {
		return fmt.Errorf("--public-url %q must be an http(s) URL", c.PublicURL)
	}
	if c.CheckInWindow <= 0 {
		return fmt.Errorf("--checkin-window must be positive")
	}
	if c.NodePolicy != nil {
		if err := c.NodePolicy.Validate(); err != nil {
			return fmt.Errorf("--node-policy: %w", err)
		}
	}
	for typ, n := range c.Approvals {
		if _, ok := schemas.Lookup(typ); !ok || n < 0 || n > 20 {
			return fmt.Errorf("--approvals %s=%d: want a credential type and 0 to 20", typ, n)
		}
	}
	return nil
}

func newServeCmd() *cobra.Command {
	var cfg serveConfig
	var approvals []string
	var policyFile string
	cmd := &cobra.Command{
		Use:   "serve [--data DIR] [--addr HOST:PORT] [--public-url URL] [--db URL]",
		Short: "Run the issuer service",
		Long: `Run the issuer service. The first start initializes the data folder: the issuer's
did:web identity (from --public-url), its signing key (sealed in the store with a
key-encryption key from ` + passphraseEnv + `, or from a random secret file
in the data folder), and a first admin API token written once to DATA/admin.token.
The embedded SQLite store lives in the data folder; --db postgres://… uses PostgreSQL
instead, shared by any number of replicas.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg.Approvals = maps.Clone(issuer.DefaultApprovals)
			for _, a := range approvals {
				typ, n, ok := strings.Cut(a, "=")
				count, err := strconv.Atoi(n)
				if !ok || err != nil {
					return usageError("--approvals %q: want TYPE=N", a)
				}
				cfg.Approvals[typ] = count
			}
			if policyFile != "" {
				raw, err := os.ReadFile(policyFile)
				if err != nil {
					return usageError("--node-policy: %w", err)
				}
				cfg.NodePolicy = new(node.Policy)
				if err := jsonstrict.Unmarshal(raw, cfg.NodePolicy, jsonstrict.Limits{MaxBytes: 64 << 10, DisallowUnknownFields: true}); err != nil {
					return usageError("--node-policy %s: %w", policyFile, err)
				}
			}
			if err := cfg.Validate(); err != nil {
				return usageError("%w", err)
			}
			return serve(cmd.Context(), cfg, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	f := cmd.Flags()
	f.StringVar(&cfg.DataDir, "data", "./civitas-data", "data folder")
	f.StringVar(&cfg.Addr, "addr", "127.0.0.1:8080", "address to listen on")
	f.StringVar(&cfg.PublicURL, "public-url", "http://127.0.0.1:8080", "public base URL; the issuer's did:web derives from it")
	f.StringVar(&cfg.DBURL, "db", "", "postgres:// URL (default: SQLite in the data folder)")
	f.StringArrayVar(&approvals, "approvals", nil, "approvals a type needs, TYPE=N (default ResidencyCredential=2; 0 turns them off)")
	f.StringVar(&policyFile, "node-policy", "", "a JSON file with the admission policy put in node bundles (default: membership, or a residency here covering today)")
	f.DurationVar(&cfg.CheckInWindow, "checkin-window", time.Hour, "flag one credential admitted at two nodes within this long")
	return cmd
}

// serve runs the service until SIGINT or SIGTERM, then drains in-flight requests.
func serve(ctx context.Context, cfg serveConfig, stdout, stderr io.Writer) error {
	log := slog.New(slog.NewJSONHandler(stderr, nil))
	if err := cfg.ensureDataDir(); err != nil {
		return err
	}
	st, err := cfg.openStore(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	kek, err := cfg.keyEncryptionKey(ctx, st)
	if err != nil {
		return err
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	svc, err := issuer.Open(ctx, issuer.Options{
		Store: st, PublicURL: cfg.PublicURL, KEK: kek, Approvals: cfg.Approvals, Logger: log, Registerer: reg,
		NodePolicy: cfg.NodePolicy, CheckInWindow: cfg.CheckInWindow,
	})
	if err != nil {
		return err
	}
	defer svc.Close()

	tokenPath := filepath.Join(cfg.DataDir, adminTokenFile)
	secret, created, err := svc.InitAdminToken(ctx)
	if err != nil {
		return err
	}
	if created {
		if err := atomicfile.Write(tokenPath, []byte(secret+"\n"), 0o600); err != nil {
			return fmt.Errorf("write the first admin token: %w", err)
		}
	}

	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Addr, err)
	}
	srv := newHTTPServer(httpapi.New(svc, httpapi.Options{Logger: log, Registry: reg}), log)
	fmt.Fprintf(stdout, "Civitas issuer service\n  url    %s (listening on %s)\n  did    %s\n  store  %s\n", cfg.PublicURL, ln.Addr(), svc.DID(), cfg.describe())
	if created {
		fmt.Fprintf(stdout, "  admin  first admin token written to %s (shown nowhere else)\n", tokenPath)
	} else {
		fmt.Fprintf(stdout, "  admin  tokens exist; the first one was written to %s\n", tokenPath)
	}
	log.Info("serving", "addr", ln.Addr().String(), "did", svc.DID(), "store", cfg.describe())

	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(sigs)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case sig := <-sigs:
		log.Info("shutting down", "signal", sig.String())
	case <-ctx.Done():
		log.Info("shutting down", "reason", ctx.Err().Error())
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		log.Error("shutdown", "err", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	log.Info("stopped")
	return nil
}

// newHTTPServer is an http.Server for h with the timeouts and header limit of every
// Civitas server, logging its errors to log.
func newHTTPServer(h http.Handler, log *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
}
