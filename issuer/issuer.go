package issuer

import (
	"context"
	"crypto"
	"crypto/rand"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/civitas-net/civitas/credential"
	"github.com/civitas-net/civitas/credential/dataintegrity"
	"github.com/civitas-net/civitas/credential/jose"
	"github.com/civitas-net/civitas/schemas"
)

// Format is how an issued credential is secured.
type Format string

// Formats.
const (
	FormatJWT       Format = "jwt"           // application/vc+jwt
	FormatEdDSARDFC Format = "di-eddsa-rdfc" // Data Integrity, eddsa-rdfc-2022
	FormatEdDSAJCS  Format = "di-eddsa-jcs"  // Data Integrity, eddsa-jcs-2022
	FormatECDSARDFC Format = "di-ecdsa-rdfc" // Data Integrity, ecdsa-rdfc-2019 (P-256)
	// FormatSDJWT is an SD-JWT VC. It needs the holder's key (cnf), so the service
	// issues it only through OpenID4VCI, never through Issuer.Issue.
	FormatSDJWT Format = "dc+sd-jwt"
)

// Formats lists every format, in the order the CLI shows them.
var Formats = []Format{FormatJWT, FormatEdDSARDFC, FormatEdDSAJCS, FormatECDSARDFC}

// Sentinel errors.
var (
	// ErrFormat reports an unknown format, or one the issuer's key cannot produce.
	ErrFormat = errors.New("unsupported credential format")
	// ErrRequest reports an issuance request that cannot be turned into a credential:
	// unknown type, a subject that does not match the type's schema, bad dates.
	ErrRequest = errors.New("invalid issuance request")
)

// ParseFormat parses a format name.
func ParseFormat(s string) (Format, error) {
	for _, f := range Formats {
		if string(f) == s {
			return f, nil
		}
	}
	return "", fmt.Errorf("%w: %q (want one of %s)", ErrFormat, s, formatList())
}

func formatList() string {
	names := make([]string, len(Formats))
	for i, f := range Formats {
		names[i] = string(f)
	}
	return strings.Join(names, ", ")
}

// Cryptosuite returns the Data Integrity cryptosuite of f, or "" for FormatJWT.
func (f Format) Cryptosuite() string {
	switch f {
	case FormatEdDSARDFC:
		return dataintegrity.EdDSARDFC2022
	case FormatEdDSAJCS:
		return dataintegrity.EdDSAJCS2022
	case FormatECDSARDFC:
		return dataintegrity.ECDSARDFC2019
	}
	return ""
}

// Key is the issuer's signing key and the DID URL of its verification method.
type Key struct {
	// Signer signs; its public key must be the one the verification method lists.
	Signer crypto.Signer
	// KeyID is the verification method's DID URL, such as did:web:example.org#key-1.
	KeyID string
}

// DID returns the issuer DID, the part of KeyID before the fragment.
func (k Key) DID() string {
	d, _, _ := strings.Cut(k.KeyID, "#")
	return d
}

// Request describes one credential to issue.
type Request struct {
	// Type is a Civitas credential type name, such as MembershipCredential.
	Type string
	// Subject is the credentialSubject; its id is the subject's DID.
	Subject map[string]any
	// ID is the credential id; empty means a new urn:uuid.
	ID string
	// ValidFrom defaults to the issuer's current time.
	ValidFrom time.Time
	// ValidUntil is optional.
	ValidUntil time.Time
	// Status holds credentialStatus entries, filled in by a status list allocator.
	Status []map[string]any
	// Evidence holds evidence entries (contribution badges).
	Evidence []any
}

// Issuer builds and secures credentials. It is safe for concurrent use.
type Issuer struct {
	key Key
	di  *dataintegrity.Suite
	now func() time.Time
}

// Option configures an Issuer.
type Option func(*Issuer)

// WithClock sets the clock that fills validFrom and proof creation times.
func WithClock(now func() time.Time) Option { return func(i *Issuer) { i.now = now } }

// WithDataIntegrity sets the Data Integrity suite (and with it the known contexts).
func WithDataIntegrity(s *dataintegrity.Suite) Option { return func(i *Issuer) { i.di = s } }

// New returns an Issuer signing with key.
func New(key Key, opts ...Option) (*Issuer, error) {
	if key.Signer == nil || !strings.HasPrefix(key.KeyID, "did:") || !strings.Contains(key.KeyID, "#") {
		return nil, errors.New("issuer: a signer and a verification method DID URL are required")
	}
	i := &Issuer{key: key, now: time.Now}
	for _, o := range opts {
		o(i)
	}
	if i.di == nil {
		di, err := dataintegrity.New()
		if err != nil {
			return nil, fmt.Errorf("issuer: %w", err)
		}
		i.di = di
	}
	return i, nil
}

// DID returns the issuer's DID.
func (i *Issuer) DID() string { return i.key.DID() }

// Build returns the unsecured credential for req, checked against its type's schema.
func (i *Issuer) Build(req Request) (map[string]any, error) {
	t, ok := schemas.Lookup(req.Type)
	if !ok {
		return nil, fmt.Errorf("%w: unknown credential type %q", ErrRequest, req.Type)
	}
	if req.Subject == nil {
		return nil, fmt.Errorf("%w: a credential subject is required", ErrRequest)
	}
	if id, _ := req.Subject["id"].(string); !strings.HasPrefix(id, "did:") {
		return nil, fmt.Errorf("%w: the subject's id must be the subject's DID", ErrRequest)
	}
	from := req.ValidFrom
	if from.IsZero() {
		from = i.now()
	}
	id := req.ID
	if id == "" {
		id = NewURN()
	}
	types := make([]any, len(t.Types))
	for k, s := range t.Types {
		types[k] = s
	}
	doc := map[string]any{
		"@context":          []any{credential.ContextV2, schemas.ContextURL},
		"id":                id,
		"type":              types,
		"issuer":            i.key.DID(),
		"validFrom":         credential.FormatDateTime(from),
		"credentialSubject": req.Subject,
		// The schema's canonical $id: verifiers hold the schemas and never fetch them.
		"credentialSchema": map[string]any{"id": t.SchemaID, "type": "JsonSchema"},
	}
	if !req.ValidUntil.IsZero() {
		if !req.ValidUntil.After(from) {
			return nil, fmt.Errorf("%w: validUntil must be after validFrom", ErrRequest)
		}
		doc["validUntil"] = credential.FormatDateTime(req.ValidUntil)
	}
	if len(req.Status) > 0 {
		status := make([]any, len(req.Status))
		for k, s := range req.Status {
			status[k] = s
		}
		doc["credentialStatus"] = status
	}
	if len(req.Evidence) > 0 {
		doc["evidence"] = req.Evidence
	}
	if err := schemas.ValidateCredential(t.Name, doc); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrRequest, err)
	}
	if _, err := credential.FromDocument(doc); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrRequest, err)
	}
	return doc, nil
}

// Secured is an issued credential.
type Secured struct {
	// Format is how it is secured.
	Format Format
	// JWT is the compact vc+jwt, for FormatJWT.
	JWT string
	// Document is the credential: with its proof for Data Integrity formats, and the
	// JWT's payload for FormatJWT.
	Document map[string]any
}

// Bytes returns what a holder receives: the JWT, or the JSON document.
func (s Secured) Bytes() ([]byte, error) {
	if s.Format == FormatJWT {
		return []byte(s.JWT), nil
	}
	return credential.MarshalIndent(s.Document)
}

// Sign secures an unsecured credential document in the given format.
func (i *Issuer) Sign(ctx context.Context, doc map[string]any, f Format) (Secured, error) {
	switch f {
	case FormatJWT:
		token, err := jose.SignCredential(doc, i.key.Signer, i.key.KeyID)
		if err != nil {
			return Secured{}, err
		}
		return Secured{Format: f, JWT: token, Document: doc}, nil
	case FormatEdDSARDFC, FormatEdDSAJCS, FormatECDSARDFC:
		signed, err := i.di.Sign(ctx, doc, i.key.Signer, dataintegrity.Options{
			Cryptosuite:        f.Cryptosuite(),
			VerificationMethod: i.key.KeyID,
			Purpose:            dataintegrity.PurposeAssertion,
			Created:            i.now(),
		})
		if errors.Is(err, dataintegrity.ErrUnsupported) {
			return Secured{}, fmt.Errorf("%w: %w", ErrFormat, err)
		}
		if err != nil {
			return Secured{}, err
		}
		return Secured{Format: f, Document: signed}, nil
	default:
		return Secured{}, fmt.Errorf("%w: %q", ErrFormat, f)
	}
}

// Issue builds, checks and secures one credential.
func (i *Issuer) Issue(ctx context.Context, req Request, f Format) (Secured, error) {
	if _, err := ParseFormat(string(f)); err != nil {
		return Secured{}, err
	}
	doc, err := i.Build(req)
	if err != nil {
		return Secured{}, err
	}
	if f == FormatJWT {
		// Build has checked the document as SignCredential would (its issuer is this
		// key's DID): sign its bytes without parsing it again.
		payload, err := credential.Marshal(doc)
		if err != nil {
			return Secured{}, err
		}
		token, err := jose.SignJWS(payload, jose.TypCredential, i.key.KeyID, i.key.Signer)
		if err != nil {
			return Secured{}, err
		}
		return Secured{Format: f, JWT: token, Document: doc}, nil
	}
	return i.Sign(ctx, doc, f)
}

// NewURN returns a random urn:uuid (version 4) identifier.
func NewURN() string {
	var b [16]byte
	rand.Read(b[:]) // never returns an error; see crypto/rand.Read
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("urn:uuid:%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
