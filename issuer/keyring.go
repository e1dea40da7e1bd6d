package issuer

import (
	"context"
	"crypto"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/civitas-net/civitas/did"
	"github.com/civitas-net/civitas/internal/keystore"
	"github.com/civitas-net/civitas/issuer/store"
	"github.com/civitas-net/civitas/keys"
)

// signingKey is one unsealed signing key.
type signingKey struct {
	id     string // fragment, "key-1"
	alg    keys.Algorithm
	signer crypto.Signer
}

// keyring holds the issuer's signing keys, oldest first; the newest signs. Old keys stay
// in the DID document so that credentials they signed keep verifying.
type keyring struct {
	mu   sync.RWMutex
	did  string
	keys []signingKey
	// issuer signs with the newest key.
	issuer *Issuer
}

// sealAD binds a sealed private key to its key ID, so that sealed keys cannot be
// swapped between rows.
func sealAD(id string) []byte { return []byte("civitas-signing-key:" + id) }

// loadKeys unseals every signing key in the store and makes the newest the active one.
// It is called at start and whenever keys may have changed (rotation by another
// process or the CLI).
func (s *Service) loadKeys(ctx context.Context) error {
	recs, err := s.store.SigningKeys(ctx)
	if err != nil {
		return fmt.Errorf("read signing keys: %w", err)
	}
	if len(recs) == 0 {
		return errors.New("the store has no signing key")
	}
	s.keys.mu.RLock()
	unchanged := len(recs) == len(s.keys.keys) && recs[len(recs)-1].ID == s.keys.keys[len(s.keys.keys)-1].id
	s.keys.mu.RUnlock()
	if unchanged {
		return nil
	}
	// Newest last. Key numbers only grow (each new key takes the highest number plus
	// one), so they order keys even when the processes that made them disagree on time.
	sort.SliceStable(recs, func(i, j int) bool { return keyNumber(recs[i].ID) < keyNumber(recs[j].ID) })
	ks := make([]signingKey, 0, len(recs))
	for _, r := range recs {
		pem, err := s.kek.Open(r.Sealed, sealAD(r.ID))
		if err != nil {
			return fmt.Errorf("unseal signing key %s (is the keystore passphrase right?): %w", r.ID, err)
		}
		signer, err := keys.ParsePrivateJWK(pem)
		if err != nil {
			return fmt.Errorf("signing key %s: %w", r.ID, err)
		}
		alg, err := keys.AlgorithmOf(signer.Public())
		if err != nil {
			return err
		}
		ks = append(ks, signingKey{id: r.ID, alg: alg, signer: signer})
	}
	active := ks[len(ks)-1]
	iss, err := New(Key{Signer: active.signer, KeyID: s.did + "#" + active.id}, WithClock(s.now), WithDataIntegrity(s.di))
	if err != nil {
		return err
	}
	s.keys.mu.Lock()
	s.keys.did, s.keys.keys, s.keys.issuer = s.did, ks, iss
	s.keys.mu.Unlock()
	s.log.Info("signing keys loaded", "count", len(ks), "active", active.id)
	return nil
}

// activeIssuer returns the Issuer signing with the newest key.
func (s *Service) activeIssuer() *Issuer {
	s.keys.mu.RLock()
	defer s.keys.mu.RUnlock()
	return s.keys.issuer
}

// RotateKey creates a new signing key of alg, seals it and stores it; from then on it
// signs (in this process at once, in others when they next reload keys). The old keys
// stay in the DID document. It returns the new key's ID.
func (s *Service) RotateKey(ctx context.Context, actor string, alg keys.Algorithm) (string, error) {
	id, err := addSigningKey(ctx, s.store, s.kek, alg, s.now, actor)
	if err != nil {
		return "", err
	}
	if err := s.loadKeys(ctx); err != nil {
		return "", err
	}
	return id, nil
}

// addSigningKey generates and stores the next signing key ("key-N"), retrying when
// another process takes the same ID first.
func addSigningKey(ctx context.Context, st store.Store, kek *keystore.Key, alg keys.Algorithm, now func() time.Time, actor string) (string, error) {
	for range 5 {
		existing, err := st.SigningKeys(ctx)
		if err != nil {
			return "", fmt.Errorf("read signing keys: %w", err)
		}
		next := 1
		for _, k := range existing {
			if n := keyNumber(k.ID); n >= next {
				next = n + 1
			}
		}
		id := "key-" + strconv.Itoa(next)
		signer, err := keys.Generate(alg)
		if err != nil {
			return "", err
		}
		priv, err := keys.MarshalPrivateJWK(signer)
		if err != nil {
			return "", err
		}
		pub, err := keys.PublicJWK(signer.Public())
		if err != nil {
			return "", err
		}
		pubJSON, err := json.Marshal(pub)
		if err != nil {
			return "", err
		}
		t := now()
		rec := store.SigningKey{ID: id, Algorithm: string(alg), PublicJWK: pubJSON, Sealed: kek.Seal(priv, sealAD(id)), CreatedAt: t}
		audit := store.AuditEntry{At: t, Actor: actor, Action: "key.create", Target: id, Details: []byte(`{"algorithm":"` + string(alg) + `"}`)}
		err = st.AddSigningKey(ctx, rec, audit)
		if errors.Is(err, store.ErrConflict) {
			continue
		}
		if err != nil {
			return "", fmt.Errorf("store signing key: %w", err)
		}
		return id, nil
	}
	return "", errors.New("could not allocate a signing key id")
}

// DIDDocument returns the issuer's did:web document: every signing key as a Multikey
// verification method, all of them for assertionMethod (so old credentials verify), the
// newest also for authentication.
func (s *Service) DIDDocument() (*did.Document, error) {
	s.keys.mu.RLock()
	defer s.keys.mu.RUnlock()
	doc := &did.Document{
		Context: []any{"https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"},
		ID:      s.did,
	}
	for i, k := range s.keys.keys {
		mb, err := keys.EncodeMultikey(k.signer.Public())
		if err != nil {
			return nil, err
		}
		vmID := s.did + "#" + k.id
		doc.VerificationMethod = append(doc.VerificationMethod, did.VerificationMethod{
			ID: vmID, Type: did.TypeMultikey, Controller: s.did, PublicKeyMultibase: mb,
		})
		doc.AssertionMethod = append(doc.AssertionMethod, did.VerificationRelationship{Reference: vmID})
		if i == len(s.keys.keys)-1 {
			doc.Authentication = []did.VerificationRelationship{{Reference: vmID}}
		}
	}
	return doc, nil
}

// selfResolver resolves the issuer's own did:web from memory, and every other did:web
// over the network, so that the service can verify its own credentials without fetching
// its own document (and behind a loopback public URL).
type selfResolver struct {
	s   *Service
	web did.MethodResolver
}

// Resolve implements did.MethodResolver.
func (r selfResolver) Resolve(ctx context.Context, d did.DID) (*did.Document, error) {
	if d.String() == r.s.did {
		return r.s.DIDDocument()
	}
	return r.web.Resolve(ctx, d)
}

// RotateKey adds a new signing key of alg to st, sealed with kek, for use outside a
// running service (the CLI). Running services pick it up at their next key reload. It
// refuses to run with a key-encryption key that cannot open the existing keys, so that a
// wrong passphrase cannot leave a key no service can use.
func RotateKey(ctx context.Context, st store.Store, kek *keystore.Key, alg keys.Algorithm, actor string) (string, error) {
	existing, err := st.SigningKeys(ctx)
	if err != nil {
		return "", fmt.Errorf("read signing keys: %w", err)
	}
	for _, k := range existing {
		if _, err := kek.Open(k.Sealed, sealAD(k.ID)); err != nil {
			return "", fmt.Errorf("signing key %s does not open with this keystore secret: %w", k.ID, err)
		}
	}
	return addSigningKey(ctx, st, kek, alg, time.Now, actor)
}

// keyNumber returns N of a key ID "key-N", or 0.
func keyNumber(id string) int {
	n, err := strconv.Atoi(strings.TrimPrefix(id, "key-"))
	if err != nil {
		return 0
	}
	return n
}
