package issuer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/civitas-net/civitas/credential/dataintegrity"
	"github.com/civitas-net/civitas/did"
	"github.com/civitas-net/civitas/internal/keystore"
	"github.com/civitas-net/civitas/issuer/store"
	"github.com/civitas-net/civitas/keys"
	"github.com/civitas-net/civitas/schemas"
	"github.com/civitas-net/civitas/statuslist"
	"github.com/civitas-net/civitas/verifier"
	"github.com/civitas-net/civitas/verifier/node"
)

// Options configure a Service. Store, PublicURL and KEK are required.
type Options struct {
	// Store is where everything is kept.
	Store store.Store
	// PublicURL is the service's base URL as the world sees it; the issuer's did:web
	// and the status list URLs derive from it.
	PublicURL string
	// KEK seals and unseals the signing keys in the store.
	KEK *keystore.Key
	// KeyAlgorithm is the algorithm of the first signing key (default Ed25519).
	KeyAlgorithm keys.Algorithm
	// Approvals maps credential types to the number of distinct approvals their issuance
	// needs. Nil means DefaultApprovals; an empty map means no approvals.
	Approvals map[string]int
	// ApprovalTTL is how long an approval request stays open (default 7 days).
	ApprovalTTL time.Duration
	// StatusListSize is the number of entries of each new status list (default and
	// minimum 131072, the Bitstring Status List minimum).
	StatusListSize int
	// StatusCacheTTL bounds how long the service's own verifier reuses a status list read
	// from the store (default 1 second). Changes made through this process are seen at
	// once; changes made by another replica within this time.
	StatusCacheTTL time.Duration
	// OfferTTL is how long an OpenID4VCI offer's pre-authorized code stays valid
	// (default 15 minutes).
	OfferTTL time.Duration
	// NodePolicy is the admission policy put in node bundles (default DefaultNodePolicy).
	NodePolicy *node.Policy
	// CheckInWindow is how close in time two admissions of one credential at two nodes
	// must be to be flagged (default one hour).
	CheckInWindow time.Duration
	// KeyReload is how often keys are re-read from the store to pick up a rotation done
	// elsewhere (default 5 seconds; negative disables).
	KeyReload time.Duration
	// Clock is the time source (default time.Now).
	Clock func() time.Time
	// Logger receives structured logs (default slog.Default()).
	Logger *slog.Logger
	// Registerer receives the service's Prometheus metrics (nil: not registered).
	Registerer prometheus.Registerer
	// WebResolver resolves did:web DIDs other than the issuer's own (default: a
	// did.NewWebResolver with its SSRF protections).
	WebResolver did.MethodResolver
}

// DefaultApprovals: a residency needs two approvals.
var DefaultApprovals = map[string]int{schemas.Residency: 2}

// Service is the issuer service's domain: members, tokens, issuance with approvals,
// status lists, the DID document, the audit log and reports. HTTP handlers call it; it
// knows nothing of HTTP.
type Service struct {
	store     store.Store
	now       func() time.Time
	log       *slog.Logger
	kek       *keystore.Key
	publicURL string
	did       string
	di        *dataintegrity.Suite
	keys      keyring
	verifier  *verifier.Verifier
	approvals map[string]int
	approvalT time.Duration
	listSize  int
	slots     map[string]*slotPool
	committer *committer
	lists     statusCache
	bits      bitsCache
	statusTTL time.Duration
	resolver  *did.Resolver
	codeKey   []byte
	offerTTL  time.Duration

	nodePolicy    node.Policy
	checkInWindow time.Duration
	denied        rateLimiter
	nonces        rateLimiter
	metrics       *metrics

	stop     chan struct{}
	stopOnce sync.Once
	wg       sync.WaitGroup
}

// Settings keys.
const (
	settingDID = "issuer.did"
)

// Open prepares the service on its store: it records the issuer DID on first start
// (and refuses to start with another public URL later, since credentials name the DID),
// creates the first signing key if there is none, loads the keys and starts the
// background work (group commit, key reload). Close stops it.
func Open(ctx context.Context, o Options) (*Service, error) {
	if o.Store == nil || o.KEK == nil {
		return nil, errors.New("issuer: a store and a key-encryption key are required")
	}
	d, err := did.WebDIDFromURL(o.PublicURL)
	if err != nil {
		return nil, fmt.Errorf("issuer: public URL: %w", err)
	}
	s := &Service{
		store:     o.Store,
		now:       o.Clock,
		log:       o.Logger,
		kek:       o.KEK,
		publicURL: strings.TrimSuffix(o.PublicURL, "/"),
		approvals: o.Approvals,
		approvalT: o.ApprovalTTL,
		listSize:  o.StatusListSize,
		stop:      make(chan struct{}),
	}
	if s.now == nil {
		s.now = time.Now
	}
	// The store keeps microseconds in UTC; so does everything the service reports.
	clock := s.now
	s.now = func() time.Time { return clock().UTC().Truncate(time.Microsecond) }
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.approvals == nil {
		s.approvals = DefaultApprovals
	}
	if s.approvalT <= 0 {
		s.approvalT = 7 * 24 * time.Hour
	}
	s.nodePolicy = DefaultNodePolicy
	if o.NodePolicy != nil {
		if err := o.NodePolicy.Validate(); err != nil {
			return nil, fmt.Errorf("issuer: node policy: %w", err)
		}
		s.nodePolicy = *o.NodePolicy
	}
	if s.checkInWindow = o.CheckInWindow; s.checkInWindow <= 0 {
		s.checkInWindow = defaultCheckInWindow
	}
	if s.offerTTL = o.OfferTTL; s.offerTTL <= 0 {
		s.offerTTL = defaultOfferTTL
	}
	if s.statusTTL = o.StatusCacheTTL; s.statusTTL <= 0 {
		s.statusTTL = time.Second
	}
	if s.listSize < statuslist.MinSize {
		s.listSize = statuslist.MinSize
	}
	s.metrics = newMetrics(o.Registerer)
	s.denied.max, s.nonces.max = maxDeniedPerSecond, maxNoncesPerSecond
	if s.did, err = o.Store.InitSetting(ctx, settingDID, d); err != nil {
		return nil, fmt.Errorf("issuer: record DID: %w", err)
	}
	if s.did != d {
		return nil, fmt.Errorf("issuer: this store belongs to %s, not %s (credentials name the issuer's DID, so the public URL cannot change)", s.did, d)
	}
	if s.di, err = dataintegrity.New(); err != nil {
		return nil, err
	}
	existing, err := o.Store.SigningKeys(ctx)
	if err != nil {
		return nil, fmt.Errorf("issuer: read signing keys: %w", err)
	}
	if len(existing) == 0 {
		alg := o.KeyAlgorithm
		if alg == "" {
			alg = keys.Ed25519
		}
		if _, err := addSigningKey(ctx, o.Store, o.KEK, alg, s.now, "system"); err != nil {
			return nil, fmt.Errorf("issuer: create the first signing key: %w", err)
		}
	}
	if err := s.loadKeys(ctx); err != nil {
		return nil, fmt.Errorf("issuer: %w", err)
	}
	web := o.WebResolver
	if web == nil {
		web = did.NewWebResolver()
	}
	s.resolver = did.NewResolver(did.WithMethod("web", selfResolver{s: s, web: web}))
	if err := s.loadCodeKey(ctx); err != nil {
		return nil, fmt.Errorf("issuer: %w", err)
	}
	if s.verifier, err = verifier.New(verifier.WithResolver(s.resolver), verifier.WithClock(s.now), verifier.WithStatusChecker(localStatus{s})); err != nil {
		return nil, err
	}
	s.slots = map[string]*slotPool{
		store.PurposeRevocation: {s: s, purpose: store.PurposeRevocation},
		store.PurposeSuspension: {s: s, purpose: store.PurposeSuspension},
	}
	s.committer = newCommitter(s)
	s.wg.Add(1)
	go func() { defer s.wg.Done(); s.committer.run() }()
	if reload := o.KeyReload; reload >= 0 {
		if reload == 0 {
			reload = 5 * time.Second
		}
		s.wg.Add(1)
		go func() { defer s.wg.Done(); s.reloadKeys(reload) }()
	}
	return s, nil
}

// Close stops the background work after pending commits finish. It does not close the
// store.
func (s *Service) Close() {
	s.stopOnce.Do(func() {
		close(s.stop)
		s.wg.Wait()
	})
}

// DID returns the issuer's DID.
func (s *Service) DID() string { return s.did }

// PublicURL returns the service's public base URL.
func (s *Service) PublicURL() string { return s.publicURL }

// Ready reports whether the service can serve: its store answers.
func (s *Service) Ready(ctx context.Context) error {
	if err := s.store.Ping(ctx); err != nil {
		return &Error{Code: CodeUnavailable, Message: "the store does not answer", Err: err}
	}
	return nil
}

func (s *Service) reloadKeys(every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
			ctx, cancel := context.WithTimeout(context.Background(), every)
			if err := s.loadKeys(ctx); err != nil {
				s.log.Error("reload signing keys", "err", err)
			}
			cancel()
		}
	}
}

// InitAdminToken creates the first admin token when the store has no token at all and
// returns its secret (shown once); created is false when tokens already exist.
func (s *Service) InitAdminToken(ctx context.Context) (secret string, created bool, err error) {
	existing, err := s.store.Tokens(ctx)
	if err != nil {
		return "", false, internal("list tokens", err)
	}
	if len(existing) > 0 {
		return "", false, nil
	}
	secret, t := newToken("first admin", store.RoleAdmin, nil, s.now())
	err = s.store.CreateToken(ctx, t, s.entry("system", "token.create", t.ID, map[string]any{"role": t.Role, "name": t.Name}))
	if err != nil {
		return "", false, internal("create the first admin token", err)
	}
	return secret, true, nil
}

// urlFor returns the public URL of a path.
func (s *Service) urlFor(path string) string {
	return s.publicURL + path
}

// statusListURL returns the URL of a status list credential.
func (s *Service) statusListURL(listID string) string {
	return s.urlFor("/status/" + url.PathEscape(listID))
}
