package node

import (
	"context"
	"crypto"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/civitas-net/civitas/credential/jose"
	"github.com/civitas-net/civitas/did"
	"github.com/civitas-net/civitas/internal/atomicfile"
	"github.com/civitas-net/civitas/internal/jsonstrict"
	"github.com/civitas-net/civitas/internal/keystore"
	"github.com/civitas-net/civitas/keys"
	"github.com/civitas-net/civitas/schemas"
	"github.com/civitas-net/civitas/verifier"
)

// Files in a node's folder.
const (
	configFile     = "node.json"
	keyFile        = "node.key"
	secretFile     = "node.secret"
	bundleFile     = "bundle.jwt"
	ledgerFile     = "ledger.jsonl"
	challengesFile = "challenges.json"
)

// PassphraseEnv names the environment variable holding the passphrase that seals the
// node's key; without it a random secret file in the node's folder is used.
const PassphraseEnv = "CIVITAS_NODE_PASSPHRASE"

// Sentinel errors.
var (
	// ErrExists reports a folder that already holds a node.
	ErrExists = errors.New("a node is already set up here")
	// ErrNotInitialized reports a folder without a node.
	ErrNotInitialized = errors.New("no node is set up here")
)

// config is node.json: what the node is, whom it trusts, and where its issuer is.
type config struct {
	NodeID string `json:"nodeId"`
	Issuer string `json:"issuer"`
	// Service is the issuer service's URL (for refresh and sync).
	Service string `json:"service"`
	// IssuerDocument is the issuer's DID document the node trusts (pinned at init,
	// updated only from bundles signed with a pinned key).
	IssuerDocument *did.Document `json:"issuerDocument"`
	// DID is the node's own DID.
	DID string `json:"did"`
	// Enrolled says whether the issuer knows the node's DID.
	Enrolled bool `json:"enrolled"`
	// PendingEnrollment is the enrollment of the first bundle, until it succeeds.
	PendingEnrollment *Enrollment `json:"pendingEnrollment,omitempty"`
}

// Node is a door: its key, bundle, ledger and challenges, in one folder.
type Node struct {
	dir    string
	now    func() time.Time
	cfg    config
	key    crypto.Signer
	kid    string
	ledger *Ledger

	mu         sync.Mutex
	bundle     *Bundle
	verifier   *verifier.Verifier
	pseudonym  []byte
	challenges *challengeSet
}

// Options tune Init and Open.
type Options struct {
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Passphrase seals the node's key (default: $CIVITAS_NODE_PASSPHRASE, else a random
	// secret file created 0600 in the folder).
	Passphrase []byte
	// Params are the Argon2id parameters sealing a new node's key (default
	// keystore.DefaultParams).
	Params keystore.Params
}

func (o *Options) defaults() {
	if o.Now == nil {
		o.Now = time.Now
	}
	if len(o.Passphrase) == 0 {
		o.Passphrase = []byte(os.Getenv(PassphraseEnv))
	}
	if o.Params == (keystore.Params{}) {
		o.Params = keystore.DefaultParams
	}
}

// Init sets a node up in dir from its first bundle. issuerDoc is the issuer's DID
// document, obtained by the caller from a source it trusts (resolving the issuer's
// did:web over HTTPS): the bundle must be signed by one of its keys. Init makes the
// node's own key (a did:key), seals it, and keeps the bundle; the caller then enrolls
// the node (Enroll) so the issuer learns its DID.
func Init(ctx context.Context, dir string, bundle []byte, issuerDoc *did.Document, o Options) (*Node, error) {
	o.defaults()
	if _, err := os.Stat(filepath.Join(dir, configFile)); err == nil {
		return nil, fmt.Errorf("%w in %s", ErrExists, dir)
	}
	t, err := jose.ParseJWS(bundle)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBundle, err)
	}
	var head struct {
		Node NodeInfo `json:"node"`
	}
	if err := jsonstrict.Unmarshal(t.Payload, &head, jsonstrict.Limits{MaxBytes: MaxBundleSize, MaxDepth: 32}); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBundle, err)
	}
	b, err := VerifyBundle(ctx, bundle, issuerDoc, head.Node.ID, o.Now())
	if err != nil {
		return nil, err
	}
	n, err := initFiles(dir, bundle, b, issuerDoc, o)
	if err != nil {
		return nil, err
	}
	return n, nil
}

// initFiles writes a new node's files and opens it; on failure it removes what it
// wrote (and the folder, when it made it), so that a failed init can be retried.
func initFiles(dir string, bundle []byte, b *Bundle, issuerDoc *did.Document, o Options) (n *Node, err error) {
	_, statErr := os.Stat(dir)
	madeDir := errors.Is(statErr, os.ErrNotExist)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	hadSecret := fileExists(filepath.Join(dir, secretFile))
	defer func() {
		if err == nil {
			return
		}
		for _, f := range []string{configFile, keyFile, bundleFile, ledgerFile, ledgerFile + ".lock", challengesFile} {
			os.Remove(filepath.Join(dir, f))
		}
		if !hadSecret {
			os.Remove(filepath.Join(dir, secretFile))
		}
		if madeDir {
			os.Remove(dir)
		}
	}()
	key, err := keys.Generate(keys.Ed25519)
	if err != nil {
		return nil, err
	}
	id, err := did.KeyDID(key.Public())
	if err != nil {
		return nil, err
	}
	secret, err := passphrase(dir, o.Passphrase)
	if err != nil {
		return nil, err
	}
	priv, err := keys.MarshalPrivateJWK(key)
	if err != nil {
		return nil, err
	}
	sealed, err := keystore.SealWithPassphrase(secret, priv, []byte("civitas-node-key"), o.Params)
	if err != nil {
		return nil, err
	}
	if err := atomicfile.Create(filepath.Join(dir, keyFile), sealed, 0o600); err != nil {
		return nil, fmt.Errorf("write node key: %w", err)
	}
	if err := atomicfile.Write(filepath.Join(dir, bundleFile), bundle, 0o600); err != nil {
		return nil, err
	}
	cfg := config{NodeID: b.Node.ID, Issuer: b.Issuer, Service: b.Service, IssuerDocument: issuerDoc, DID: id, PendingEnrollment: b.Enrollment}
	if b.Node.DID == id {
		cfg.Enrolled = true
	}
	if err := writeConfig(dir, cfg); err != nil {
		return nil, err
	}
	return Open(dir, o)
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// passphrase returns the given passphrase or the folder's secret file (creating it).
func passphrase(dir string, given []byte) ([]byte, error) {
	if len(given) > 0 {
		return given, nil
	}
	secret, err := keystore.SecretFile(filepath.Join(dir, secretFile))
	if err != nil {
		return nil, fmt.Errorf("node secret: %w", err)
	}
	return secret, nil
}

func writeConfig(dir string, cfg config) error {
	raw, err := json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.Write(filepath.Join(dir, configFile), raw, 0o600)
}

// Open opens the node in dir: its key, bundle and ledger. The ledger is locked for
// writing until Close.
func Open(dir string, o Options) (*Node, error) {
	o.defaults()
	cfg, err := readConfig(dir)
	if err != nil {
		return nil, err
	}
	n := &Node{dir: dir, now: o.Now, cfg: cfg}
	secret, err := passphrase(dir, o.Passphrase)
	if err != nil {
		return nil, err
	}
	sealed, err := os.ReadFile(filepath.Join(dir, keyFile))
	if err != nil {
		return nil, fmt.Errorf("read node key: %w", err)
	}
	priv, err := keystore.OpenWithPassphrase(secret, sealed, []byte("civitas-node-key"))
	if err != nil {
		return nil, fmt.Errorf("open node key (is %s right?): %w", PassphraseEnv, err)
	}
	if n.key, err = keys.ParsePrivateJWK(priv); err != nil {
		return nil, err
	}
	if n.kid, err = did.KeyURL(n.key.Public()); err != nil {
		return nil, err
	}
	bundle, err := os.ReadFile(filepath.Join(dir, bundleFile))
	if err != nil {
		return nil, err
	}
	if err := n.adopt(context.Background(), bundle); err != nil && !errors.Is(err, ErrBundleExpired) {
		return nil, err
	}
	if n.ledger, err = OpenLedger(filepath.Join(dir, ledgerFile), n.key); err != nil {
		return nil, err
	}
	if n.challenges, err = loadChallenges(filepath.Join(dir, challengesFile)); err != nil {
		n.ledger.Close()
		return nil, err
	}
	// Challenges live at most maxChallengeTTL: the entries of that long ago say which
	// of the open ones were answered.
	var answered []string
	for _, e := range n.ledger.Since(n.now().Add(-maxChallengeTTL - time.Hour)) {
		if e.Challenge != "" {
			answered = append(answered, e.Challenge)
		}
	}
	n.challenges.markUsed(answered...)
	return n, nil
}

// adopt verifies the bundle on disk against the pinned issuer document and makes it
// current. An expired bundle is kept (so the door can say why it refuses) and reported.
func (n *Node) adopt(ctx context.Context, raw []byte) error {
	b, lists, err := verifyBundle(ctx, raw, n.cfg.IssuerDocument, n.cfg.NodeID, n.now())
	// An expired bundle that is otherwise good is kept, so the door can say why it
	// refuses.
	expired := errors.Is(err, ErrBundleExpired) && b != nil
	if err != nil && !expired {
		return err
	}
	if err := n.install(raw, b, lists, false); err != nil {
		return err
	}
	if expired {
		return fmt.Errorf("%w: refresh the node's bundle", ErrBundleExpired)
	}
	return nil
}

// install makes a verified bundle current, with its verified status lists, and keeps
// raw on disk when save is set.
func (n *Node) install(raw []byte, b *Bundle, lists map[string]*listSnapshot, save bool) error {
	key, _ := base64.RawURLEncoding.DecodeString(b.PseudonymKey) // checked by verifyBundle
	// The door's challenge set makes each challenge single-use, durably (see
	// challengeSet); the verifier's own nonce check runs on top, in memory.
	v, err := verifier.New(verifier.WithResolver(b.resolver()), verifier.WithStatusChecker(bundleStatus{lists}),
		verifier.WithNonceStore(verifier.NewMemoryNonceStore(0, n.now)), verifier.WithClock(n.now))
	if err != nil {
		return err
	}
	if save {
		if err := atomicfile.Write(filepath.Join(n.dir, bundleFile), raw, 0o600); err != nil {
			return err
		}
	}
	n.mu.Lock()
	n.bundle, n.verifier, n.pseudonym = b, v, key
	n.mu.Unlock()
	return nil
}

// Close releases the ledger.
func (n *Node) Close() error { return n.ledger.Close() }

// DID returns the node's DID, the audience of its challenges.
func (n *Node) DID() string { return n.cfg.DID }

// ID returns the node's identifier.
func (n *Node) ID() string { return n.cfg.NodeID }

// Bundle returns the current bundle.
func (n *Node) Bundle() *Bundle {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.bundle
}

// Ledger returns the node's ledger.
func (n *Node) Ledger() *Ledger { return n.ledger }

// Enrolled reports whether the issuer knows the node's DID.
func (n *Node) Enrolled() bool { return n.cfg.Enrolled }

// Challenge makes a new challenge, valid for the policy's challenge lifetime, and
// remembers it so that CheckIn accepts presentations answering it.
func (n *Node) Challenge(ctx context.Context) (Challenge, error) {
	var raw [18]byte
	rand.Read(raw[:])
	ttl := 2 * time.Minute
	if b := n.Bundle(); b != nil {
		ttl = time.Duration(b.Policy.ChallengeTTL) * time.Second
	}
	c := Challenge{Nonce: base64.RawURLEncoding.EncodeToString(raw[:]), Audience: n.cfg.DID, Expires: n.now().Add(ttl).UTC().Truncate(time.Second)}
	if err := n.challenges.add(c.Nonce, c.Expires, n.now()); err != nil {
		return Challenge{}, fmt.Errorf("open a challenge: %w", err)
	}
	return c, nil
}

// CheckIn decides on a presentation fully offline and appends the decision to the
// ledger. See Door.
func (n *Node) CheckIn(ctx context.Context, raw []byte) (Decision, error) {
	now := n.now()
	o := n.decide(ctx, raw, now)
	e, err := n.ledger.Append(LedgerEntry{At: now, Type: o.typ, SubjectRef: o.ref, Decision: o.decision, Codes: o.codes, Challenge: o.challenge})
	if err != nil {
		return Decision{}, fmt.Errorf("the ledger could not be written, nobody is admitted: %w", err)
	}
	d := Decision{Decision: o.decision, Admitted: o.decision != Refused, Codes: o.codes, Type: o.typ, At: e.At, Seq: e.Seq}
	for _, c := range o.codes {
		d.Reasons = append(d.Reasons, Reason(c))
	}
	return d, nil
}

// outcome is a decision before it is recorded.
type outcome struct {
	decision string
	codes    []string
	// typ and ref are the credential's type and pseudonymous reference.
	typ, ref string
	// challenge is the hash of the challenge the presentation consumed.
	challenge string
}

// decide makes the decision on a presentation at now: everything but recording it.
func (n *Node) decide(ctx context.Context, raw []byte, now time.Time) outcome {
	n.mu.Lock()
	b, v, pseudonym := n.bundle, n.verifier, n.pseudonym
	n.mu.Unlock()
	var o outcome
	refuse := func(codes ...string) outcome {
		o.decision, o.codes = Refused, codes
		return o
	}
	if b == nil || !now.Before(b.ExpiresAt) {
		return refuse(CodeBundleExpired)
	}
	nonce, err := verifier.PresentationChallenge(raw)
	if errors.Is(err, verifier.ErrNoChallenge) {
		return refuse(string(verifier.ChallengeMismatch))
	} else if err != nil {
		return refuse(string(verifier.Malformed))
	}
	switch n.challenges.consume(nonce, now) {
	case challengeUnknown:
		return refuse(CodeUnknownChallenge)
	case challengeUsed:
		return refuse(string(verifier.Replayed))
	}
	o.challenge = challengeHash(nonce)
	p := verifier.Policy{Trust: b.Trust, Leeway: time.Duration(b.Policy.Leeway) * time.Second, Challenge: nonce, Audience: n.cfg.DID}
	res, verr := v.Verify(ctx, raw, p)
	if len(res.Credentials) > 0 {
		o.typ = mainType(res.Credentials[0].Types)
		o.ref = subjectRef(pseudonym, res.Credentials[0], raw)
	}
	if verr != nil {
		var codes []string
		for _, c := range res.Codes() {
			codes = append(codes, string(c))
		}
		if len(codes) == 0 {
			codes = []string{string(verifier.Internal)}
		}
		return refuse(codes...)
	}
	admitType, codes := admit(b, res, now)
	if admitType == "" {
		return refuse(codes...)
	}
	o.typ = admitType
	for _, c := range res.Credentials {
		if mainType(c.Types) == admitType {
			o.ref = subjectRef(pseudonym, c, raw)
			break
		}
	}
	if now.Sub(b.IssuedAt) > time.Duration(b.Policy.MaxStaleness)*time.Second {
		if b.Policy.StaleFallback == FallbackRefuse {
			return refuse(CodeBundleStale)
		}
		o.decision, o.codes = AdmittedFlagged, []string{CodeBundleStale}
		return o
	}
	o.decision = Admitted
	return o
}

// admit evaluates the policy's rules on a verified result: the type admitted on, or
// the codes saying why nothing was admitted.
func admit(b *Bundle, res verifier.Result, now time.Time) (string, []string) {
	today := now.UTC().Format(time.DateOnly)
	var codes []string
	for _, c := range res.Credentials {
		if !c.Verified {
			continue
		}
		name := mainType(c.Types)
		for _, r := range b.Policy.Rules {
			if r.Type != name {
				continue
			}
			if r.ResidentHere || r.CurrentResidency {
				node, _ := c.Subject["node"].(map[string]any)
				period, _ := c.Subject["residencePeriod"].(map[string]any)
				if r.ResidentHere && (node == nil || node["id"] != b.Node.ID) {
					codes = append(codes, CodeNotResidentHere)
					continue
				}
				from, _ := period["from"].(string)
				until, _ := period["until"].(string)
				if r.CurrentResidency && (period == nil || today < from || today > until) {
					codes = append(codes, CodeResidencyNotCurrent)
					continue
				}
			}
			return name, nil
		}
	}
	if len(codes) == 0 {
		codes = []string{CodeNoAdmittingCredential}
	}
	slices.Sort(codes)
	return "", slices.Compact(codes)
}

// subjectRef is the pseudonymous reference of a credential in the ledger: an HMAC, with
// the community's pseudonym key, of the issuer and the credential's id; for a
// credential without one (an SD-JWT VC, say), of the hash of its issuer-signed part or
// of its content. The same credential has the same reference at every node; a ledger
// alone names nobody.
func subjectRef(key []byte, c verifier.CredentialResult, raw []byte) string {
	id := c.ID
	if id == "" {
		var h [32]byte
		if c.Format == verifier.FormatSDJWT {
			issuerPart, _, _ := strings.Cut(string(raw), "~")
			h = sha256.Sum256([]byte(strings.TrimSpace(issuerPart)))
		} else if c.Credential != nil {
			// encoding/json writes map keys sorted: the same credential, the same bytes.
			doc, _ := json.Marshal(c.Credential.Document)
			h = sha256.Sum256(doc)
		} else {
			h = sha256.Sum256(raw)
		}
		id = "urn:sha256:" + hex.EncodeToString(h[:])
	}
	m := hmac.New(sha256.New, key)
	m.Write([]byte(c.Issuer + "\n" + id))
	return hex.EncodeToString(m.Sum(nil)[:16])
}

// mainType is a credential's Civitas type, or its last type.
func mainType(types []string) string {
	if t, ok := schemas.ByTypes(types); ok {
		return t.Name
	}
	if len(types) == 0 {
		return ""
	}
	return types[len(types)-1]
}

// ReadLedger reads and verifies the ledger of the node in dir without opening the node:
// it needs neither the node's passphrase nor its lock, so it works while a kiosk runs.
// Entries are checked against the node's DID (a did:key), their chain included; an
// entry being written at that moment (a torn last line) is left out.
func ReadLedger(ctx context.Context, dir string) ([]LedgerEntry, error) {
	cfg, err := readConfig(dir)
	if err != nil {
		return nil, err
	}
	pub, err := PublicKey(ctx, cfg.DID)
	if err != nil {
		return nil, fmt.Errorf("node.json: %w", err)
	}
	data, err := os.ReadFile(filepath.Join(dir, ledgerFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	entries, _, _, err := ledgerScan(data, pub)
	if err != nil {
		return nil, fmt.Errorf("ledger: %w", err)
	}
	return entries, nil
}

// readConfig reads node.json in dir.
func readConfig(dir string) (config, error) {
	var cfg config
	raw, err := os.ReadFile(filepath.Join(dir, configFile))
	if errors.Is(err, os.ErrNotExist) {
		return cfg, fmt.Errorf("%w in %s", ErrNotInitialized, dir)
	}
	if err != nil {
		return cfg, err
	}
	if err := jsonstrict.Unmarshal(raw, &cfg, jsonstrict.Limits{MaxBytes: 1 << 20}); err != nil {
		return cfg, fmt.Errorf("node.json: %w", err)
	}
	return cfg, nil
}

// keyResolver resolves node DIDs: did:key only, no network.
var keyResolver = did.NewResolver()

// PublicKey returns the public key of a node's DID, a did:key (read from the DID
// itself: no network).
func PublicKey(ctx context.Context, nodeDID string) (crypto.PublicKey, error) {
	if !strings.HasPrefix(nodeDID, "did:key:") {
		return nil, fmt.Errorf("the node DID %q is not a did:key", nodeDID)
	}
	doc, err := keyResolver.Resolve(ctx, nodeDID)
	if err != nil {
		return nil, err
	}
	if len(doc.VerificationMethod) == 0 {
		return nil, fmt.Errorf("%s has no key", nodeDID)
	}
	return doc.VerificationMethod[0].PublicKey()
}
