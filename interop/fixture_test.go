package interop_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/piprate/json-gold/ld"
	ldembed "github.com/trustbloc/did-go/doc/ld/context/embed"
	utiltime "github.com/trustbloc/did-go/doc/util/time"
	didkey "github.com/trustbloc/did-go/method/key"
	"github.com/trustbloc/did-go/vdr"
	"github.com/trustbloc/kms-go/doc/jose"
	"github.com/trustbloc/kms-go/doc/util/fingerprint"
	"github.com/trustbloc/vc-go/dataintegrity"
	"github.com/trustbloc/vc-go/dataintegrity/suite/ecdsa2019"
	"github.com/trustbloc/vc-go/dataintegrity/suite/eddsa2022"
	vcjwt "github.com/trustbloc/vc-go/jwt"
	"github.com/trustbloc/vc-go/proof/checker"
	"github.com/trustbloc/vc-go/proof/creator"
	"github.com/trustbloc/vc-go/proof/defaults"
	"github.com/trustbloc/vc-go/proof/jwtproofs/eddsa"
	"github.com/trustbloc/vc-go/proof/jwtproofs/es256"
	"github.com/trustbloc/vc-go/verifiable"
	"github.com/trustbloc/vc-go/vermethod"

	civdi "github.com/civitas-net/civitas/credential/dataintegrity"
	"github.com/civitas-net/civitas/did"
	"github.com/civitas-net/civitas/issuer"
	"github.com/civitas-net/civitas/keys"
	"github.com/civitas-net/civitas/schemas"
	"github.com/civitas-net/civitas/verifier"
)

// The Civitas credential types every interop row covers.
var civitasTypes = []string{schemas.Membership, schemas.Residency, schemas.Contribution}

// The formats both implementations produce and read. eddsa-jcs-2022 is Civitas-only:
// vc-go v1.3.6 has no JCS cryptosuite (see TestVCGoLacksEdDSAJCS).
var sharedFormats = []issuer.Format{issuer.FormatJWT, issuer.FormatEdDSARDFC, issuer.FormatECDSARDFC}

// world holds one instant, and for each implementation its keys, its issuers and
// its verifier. Nothing in it touches the network: contexts come from memory and every
// DID is a did:key.
type world struct {
	t   testing.TB
	now time.Time

	holderDID string

	// Civitas: an Ed25519 and a P-256 issuer (with their keys, for the Data Integrity
	// layer tests), its Data Integrity suite, and a verifier on the fixed clock.
	civEd, civP256       *issuer.Issuer
	civEdKey, civP256Key civitasKey
	civDI                *civdi.Suite
	civV                 *verifier.Verifier

	// vc-go: its did:key registry, document loader, proof checkers and signers.
	vdr      *vdr.Registry
	loader   *contextLoader
	checker  *checker.ProofChecker
	diVerify *dataintegrity.Verifier
	vgEd     vcgoKey
	vgP256   vcgoKey
}

// civitasKey is a Civitas issuer's key and the DID URL of its verification method.
type civitasKey struct {
	signer crypto.Signer
	kid    string
}

// vcgoKey is a key vc-go issues with: its did:key (computed by kms-go), the DID URL of
// its verification method as did-go's key VDR names it, and vc-go signers for it.
type vcgoKey struct {
	did, kid string
	signer   crypto.Signer
	alg      verifiable.JWSAlgorithm
	jwtAlg   string
	suite    string // Data Integrity cryptosuite
	creator  *creator.ProofCreator
	di       *dataintegrity.Signer
}

var (
	worldOnce sync.Once
	shared    *world
)

// sharedWorld returns one world per test binary: the keys are fresh each run, the rest
// is stateless, and building vc-go's suites once keeps the tests quick.
func sharedWorld(t testing.TB) *world {
	t.Helper()
	worldOnce.Do(func() { shared = newWorld(t) })
	if shared == nil {
		t.Fatal("the interop world could not be built (see the first failure)")
	}
	shared.t = t
	return shared
}

func newWorld(t testing.TB) *world {
	t.Helper()
	// One instant, taken once and injected into Civitas as its clock. It is the real
	// time because vc-go's SD-JWT verifier checks iat, nbf and exp against time.Now and
	// takes no clock; nothing waits for time to pass.
	w := &world{t: t, now: time.Now().UTC().Truncate(time.Second)}
	clock := func() time.Time { return w.now }
	issued := func() time.Time { return w.now.Add(-24 * time.Hour) }

	holder, err := keys.Generate(keys.Ed25519)
	must(t, err)
	w.holderDID, err = did.KeyDID(holder.Public())
	must(t, err)

	newCivitas := func(alg keys.Algorithm) (*issuer.Issuer, civitasKey) {
		key, err := keys.Generate(alg)
		must(t, err)
		kid, err := did.KeyURL(key.Public())
		must(t, err)
		iss, err := issuer.New(issuer.Key{Signer: key, KeyID: kid}, issuer.WithClock(issued))
		must(t, err)
		return iss, civitasKey{signer: key, kid: kid}
	}
	w.civEd, w.civEdKey = newCivitas(keys.Ed25519)
	w.civP256, w.civP256Key = newCivitas(keys.P256)
	w.civDI, err = civdi.New()
	must(t, err)
	w.civV, err = verifier.New(verifier.WithClock(clock))
	must(t, err)

	w.loader = newContextLoader(t)
	w.vdr = vdr.New(vdr.WithVDR(didkey.New()))
	w.checker = defaults.NewDefaultProofChecker(vermethod.NewVDRResolver(w.vdr))
	w.diVerify, err = dataintegrity.NewVerifier(&dataintegrity.Options{DIDResolver: w.vdr},
		eddsa2022.NewVerifierInitializer(&eddsa2022.VerifierInitializerOptions{LDDocumentLoader: w.loader}),
		ecdsa2019.NewVerifierInitializer(&ecdsa2019.VerifierInitializerOptions{LDDocumentLoader: w.loader}))
	must(t, err)
	w.vgEd = w.newVCGoKey(ed25519Key(t))
	w.vgP256 = w.newVCGoKey(p256Key(t))
	return w
}

func ed25519Key(t testing.TB) crypto.Signer {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	must(t, err)
	return priv
}

func p256Key(t testing.TB) crypto.Signer {
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	must(t, err)
	return priv
}

// newVCGoKey derives the key's did:key with kms-go (not with Civitas) and builds vc-go's
// JWT proof creator and Data Integrity signer for it.
func (w *world) newVCGoKey(key crypto.Signer) vcgoKey {
	k := vcgoKey{signer: key}
	s := rawSigner{key}
	switch pub := key.Public().(type) {
	case ed25519.PublicKey:
		k.did, k.kid = fingerprint.CreateDIDKey(pub)
		k.alg, k.jwtAlg, k.suite = verifiable.EdDSA, "EdDSA", eddsa2022.SuiteType
		k.creator = creator.New(creator.WithJWTAlg(eddsa.New(), s))
		var err error
		k.di, err = dataintegrity.NewSigner(&dataintegrity.Options{DIDResolver: w.vdr},
			eddsa2022.NewSignerInitializer(&eddsa2022.SignerInitializerOptions{
				LDDocumentLoader: w.loader, SignerGetter: eddsa2022.WithStaticSigner(s)}))
		must(w.t, err)
	case *ecdsa.PublicKey:
		k.did, k.kid = fingerprint.CreateDIDKeyByCode(fingerprint.P256PubKeyMultiCodec, compressP256(w.t, pub))
		k.alg, k.jwtAlg, k.suite = verifiable.ECDSASecp256r1, "ES256", ecdsa2019.SuiteTypeNew
		k.creator = creator.New(creator.WithJWTAlg(es256.New(), s))
		var err error
		k.di, err = dataintegrity.NewSigner(&dataintegrity.Options{DIDResolver: w.vdr},
			ecdsa2019.NewSignerInitializer(&ecdsa2019.SignerInitializerOptions{
				LDDocumentLoader: w.loader, SignerGetter: ecdsa2019.WithStaticSigner(s)}))
		must(w.t, err)
	default:
		w.t.Fatalf("unsupported key %T", pub)
	}
	return k
}

// compressP256 returns the compressed SEC 1 form of a P-256 public key (the did:key
// encoding of a P-256 key).
func compressP256(t testing.TB, pub *ecdsa.PublicKey) []byte {
	raw, err := pub.Bytes() // 0x04 || X || Y
	must(t, err)
	out := append([]byte{0x02 | raw[64]&1}, raw[1:33]...)
	return out
}

// rawSigner gives vc-go the signature shapes its suites expect: Ed25519 over the
// message, and ECDSA P-256 over SHA-256 of the message as r||s (IEEE P1363), which is
// what both ES256 and ecdsa-rdfc-2019 use.
type rawSigner struct{ key crypto.Signer }

func (s rawSigner) Sign(msg []byte) ([]byte, error) {
	switch k := s.key.(type) {
	case ed25519.PrivateKey:
		return ed25519.Sign(k, msg), nil
	case *ecdsa.PrivateKey:
		h := sha256.Sum256(msg)
		r, sig, err := ecdsa.Sign(rand.Reader, k, h[:])
		if err != nil {
			return nil, err
		}
		out := make([]byte, 64)
		r.FillBytes(out[:32])
		sig.FillBytes(out[32:])
		return out, nil
	}
	return nil, fmt.Errorf("unsupported key %T", s.key)
}

// contextLoader is the JSON-LD document loader vc-go gets: the W3C VC 2.0 context (the
// copy did-go embeds, the one Civitas embeds too) and the Civitas context, parsed once.
// Any other URL fails and is counted: a test that needs the network fails loudly.
type contextLoader struct {
	docs   map[string]*ld.RemoteDocument
	misses atomic.Int64
}

func newContextLoader(t testing.TB) *contextLoader {
	t.Helper()
	l := &contextLoader{docs: map[string]*ld.RemoteDocument{}}
	add := func(url string, content []byte) {
		doc, err := ld.DocumentFromReader(bytes.NewReader(content))
		must(t, err)
		l.docs[url] = &ld.RemoteDocument{DocumentURL: url, Document: doc}
	}
	for _, c := range ldembed.Contexts {
		if c.URL == schemas.CredentialsV2URL {
			add(c.URL, c.Content)
		}
	}
	if len(l.docs) != 1 {
		t.Fatal("did-go embeds no credentials/v2 context")
	}
	add(schemas.ContextURL, schemas.Context())
	return l
}

// LoadDocument implements ld.DocumentLoader. json-gold's own caching loader returns the
// same parsed document on every call too; json-gold does not modify it.
func (l *contextLoader) LoadDocument(u string) (*ld.RemoteDocument, error) {
	if d, ok := l.docs[u]; ok {
		return d, nil
	}
	l.misses.Add(1)
	return nil, ld.NewJsonLdError(ld.LoadingDocumentFailed, "context not served by the interop loader: "+u)
}

// subject returns the example subject of a Civitas type, naming the world's holder.
func (w *world) subject(typ string) map[string]any {
	var s map[string]any
	must(w.t, json.Unmarshal(schemas.ExampleSubject(typ), &s))
	s["id"] = w.holderDID
	return s
}

// civitasIssuer returns the Civitas issuer whose key fits the format.
func (w *world) civitasIssuer(f issuer.Format) *issuer.Issuer {
	if f == issuer.FormatECDSARDFC {
		return w.civP256
	}
	return w.civEd
}

// civitasIssue issues a credential of type typ with Civitas and returns what a holder
// receives: the compact JWT or the JSON document.
func (w *world) civitasIssue(typ string, f issuer.Format) []byte {
	w.t.Helper()
	sec, err := w.civitasIssuer(f).Issue(context.Background(),
		issuer.Request{Type: typ, Subject: w.subject(typ), ValidUntil: w.now.AddDate(1, 0, 0)}, f)
	must(w.t, err)
	out, err := sec.Bytes()
	must(w.t, err)
	return out
}

// civitasVerify verifies raw with the Civitas verifier, trusting only trusted.
func (w *world) civitasVerify(raw []byte, trusted string) (verifier.Result, error) {
	p := verifier.DefaultPolicy(trusted)
	p.Status = verifier.StatusSkip
	return w.civV.Verify(context.Background(), raw, p)
}

// vcgoParseOpts are the options vc-go verifies with: its default proof checker over
// did-go's key VDR, its Data Integrity verifier with both RDFC suites, the in-memory
// context loader, and no custom schema check (vc-go would download credentialSchema.id;
// its VC 2.0 envelope schema still applies).
func (w *world) vcgoParseOpts() []verifiable.CredentialOpt {
	return []verifiable.CredentialOpt{
		verifiable.WithProofChecker(w.checker),
		verifiable.WithDataIntegrityVerifier(w.diVerify),
		verifiable.WithJSONLDDocumentLoader(w.loader),
		verifiable.WithNoCustomSchemaCheck(),
	}
}

// vcgoVerify parses and verifies raw (a JWT or a JSON document) with vc-go.
func (w *world) vcgoVerify(raw []byte) (*verifiable.Credential, error) {
	return verifiable.ParseCredential(raw, w.vcgoParseOpts()...)
}

// vcgoVerifyJOSE verifies an application/vc+jwt credential with vc-go's parts, because
// verifiable.ParseCredential panics on a VC-JOSE-COSE payload that has no JWT registered
// claim (TestVCGoPanicsOnJOSEWithoutRegisteredClaims): vc-go's JWS check with its default
// proof checker, which resolves the issuer DID with did-go's key VDR and requires the kid
// to be one of its verification methods, then vc-go's credential parser and validation
// (VC 2.0 JSON Schema, JSON-LD) on the payload.
func (w *world) vcgoVerifyJOSE(token []byte) (*verifiable.Credential, error) {
	_, payload, err := vcjwt.Parse(string(token))
	if err != nil {
		return nil, err
	}
	var doc map[string]any
	if err := json.Unmarshal(payload, &doc); err != nil {
		return nil, err
	}
	iss, _ := doc["issuer"].(string)
	if err := vcjwt.CheckProof(string(token), w.checker, &iss, nil); err != nil {
		return nil, fmt.Errorf("JWS proof check: %w", err)
	}
	return verifiable.ParseCredentialJSON(doc, verifiable.WithDisabledProofCheck(),
		verifiable.WithJSONLDDocumentLoader(w.loader), verifiable.WithNoCustomSchemaCheck())
}

// vcgoKeyFor returns the vc-go key that fits the format.
func (w *world) vcgoKeyFor(f issuer.Format) vcgoKey {
	if f == issuer.FormatECDSARDFC {
		return w.vgP256
	}
	return w.vgEd
}

// vcgoCredential builds, with vc-go's data model, the VC 2.0 credential of type typ
// that Civitas would build: the same contexts, types, schema reference and subject.
func (w *world) vcgoCredential(typ string, k vcgoKey) *verifiable.Credential {
	w.t.Helper()
	ct, ok := schemas.Lookup(typ)
	if !ok {
		w.t.Fatalf("unknown type %s", typ)
	}
	subj := w.subject(typ)
	id, _ := subj["id"].(string)
	delete(subj, "id")
	contents := verifiable.CredentialContents{
		Context: []string{verifiable.V2ContextURI, schemas.ContextURL},
		ID:      issuer.NewURN(),
		Types:   ct.Types,
		Issuer:  &verifiable.Issuer{ID: k.did},
		Subject: []verifiable.Subject{{ID: id, CustomFields: subj}},
		Issued:  utiltime.NewTime(w.now.Add(-24 * time.Hour)),
		Expired: utiltime.NewTime(w.now.AddDate(1, 0, 0)),
		Schemas: []verifiable.TypedID{{ID: ct.SchemaID, Type: "JsonSchema"}},
	}
	vc, err := verifiable.CreateCredential(contents, nil)
	must(w.t, err)
	return vc
}

// vcgoIssue issues a credential of type typ with vc-go in format f. For FormatJWT it is
// VC-JOSE-COSE: vc-go's JWT library signs the credential itself as the payload, with
// typ vc+jwt (vc-go's Credential.CreateSignedJWTVC makes the older VC 1.1 shape instead;
// see TestVCGoNativeJWTIsVC11Shaped).
func (w *world) vcgoIssue(typ string, f issuer.Format) []byte {
	w.t.Helper()
	k := w.vcgoKeyFor(f)
	vc := w.vcgoCredential(typ, k)
	switch f {
	case issuer.FormatJWT:
		return []byte(w.vcgoJOSE(vc.ToRawJSON(), k))
	case issuer.FormatEdDSARDFC, issuer.FormatECDSARDFC:
		created := w.now.Add(-24 * time.Hour)
		must(w.t, vc.AddDataIntegrityProof(&verifiable.DataIntegrityProofContext{
			SigningKeyID: k.kid, CryptoSuite: k.suite, Created: &created,
		}, k.di))
		out, err := vc.MarshalJSON()
		must(w.t, err)
		return out
	}
	w.t.Fatalf("vc-go does not issue %s", f)
	return nil
}

// vcgoJOSE signs payload as application/vc+jwt with vc-go's JWT library.
func (w *world) vcgoJOSE(payload map[string]any, k vcgoKey) string {
	w.t.Helper()
	tok, err := vcjwt.NewSigned(payload, vcjwt.SignParameters{
		KeyID: k.kid, JWTAlg: k.jwtAlg, AdditionalHeaders: jose.Headers{jose.HeaderType: "vc+jwt"},
	}, k.creator)
	must(w.t, err)
	s, err := tok.Serialize(false)
	must(w.t, err)
	return s
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
