package did

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/civitas-net/civitas/internal/jsonstrict"
	"github.com/civitas-net/civitas/keys"
)

// exampleDoc follows DID Core examples: relative and absolute references, an embedded
// method and a JsonWebKey2020 method.
const exampleDoc = `{
  "@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"],
  "id": "did:example:123",
  "controller": "did:example:123",
  "alsoKnownAs": ["https://example.com/alice"],
  "verificationMethod": [
    {"id": "#key-1", "type": "Multikey", "controller": "did:example:123",
     "publicKeyMultibase": "z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2"},
    {"id": "did:example:123#key-2", "type": "JsonWebKey2020", "controller": "did:example:123",
     "publicKeyJwk": {"kty": "EC", "crv": "P-256",
       "x": "igrFmi0whuihKnj9R3Om1SoMph72wUGeFaBbzG2vzns",
       "y": "efsX5b10x8yjyrj4ny3pGfLcY7Xby1KzgqOdqnsrJIM"}}
  ],
  "authentication": [
    "#key-1",
    {"id": "did:example:123#auth-1", "type": "Ed25519VerificationKey2020", "controller": "did:example:123",
     "publicKeyMultibase": "z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2"}
  ],
  "assertionMethod": ["did:example:123#key-1", "#key-2"],
  "service": [{"id": "#svc", "type": "LinkedDomains", "serviceEndpoint": "https://example.com"}]
}`

func TestParseDocument(t *testing.T) {
	doc, err := ParseDocument([]byte(exampleDoc))
	if err != nil {
		t.Fatal(err)
	}
	if err := doc.Validate(); err != nil {
		t.Fatal(err)
	}
	if doc.ID != "did:example:123" || len(doc.Controller) != 1 || len(doc.VerificationMethod) != 2 {
		t.Fatalf("unexpected document %+v", doc)
	}
	if got := doc.Authentication; len(got) != 2 || got[0].Reference != "#key-1" || got[1].Embedded == nil || got[1].Embedded.ID != "did:example:123#auth-1" {
		t.Fatalf("authentication = %+v", got)
	}
	if got := doc.AbsoluteID("#key-1"); got != "did:example:123#key-1" {
		t.Fatalf("AbsoluteID = %q", got)
	}
	for _, vm := range append(doc.VerificationMethod, *doc.Authentication[1].Embedded) {
		if _, err := vm.PublicKey(); err != nil {
			t.Errorf("%s: %v", vm.ID, err)
		}
	}
	// Marshal and parse again: nothing modelled is lost.
	out, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	back, err := ParseDocument(out)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(doc, back) {
		t.Fatalf("round trip changed the document:\n%+v\n%+v", doc, back)
	}
	if !strings.Contains(string(out), `"controller":"did:example:123"`) {
		t.Fatalf("single controller not written as a string: %s", out)
	}
}

func TestParseDocumentRejects(t *testing.T) {
	tests := []struct {
		name    string
		data    string
		wantErr error
	}{
		{"duplicate id", `{"id":"did:x:a","id":"did:x:b"}`, jsonstrict.ErrDuplicateKey},
		{"case duplicate id", `{"id":"did:x:a","ID":"did:x:b"}`, jsonstrict.ErrDuplicateKey},
		{"not an object", `[]`, ErrInvalidDocument},
		{"null", `null`, ErrInvalidDocument},
		{"trailing", `{"id":"did:x:a"} {}`, ErrInvalidDocument},
		{"relationship number", `{"id":"did:x:a","authentication":[1]}`, ErrInvalidDocument},
		{"relationship not array", `{"id":"did:x:a","authentication":"#k"}`, ErrInvalidDocument},
		{"id number", `{"id":1}`, ErrInvalidDocument},
		{"controller number", `{"id":"did:x:a","controller":[1]}`, ErrInvalidDocument},
		{"jwk not object", `{"id":"did:x:a","verificationMethod":[{"id":"#k","publicKeyJwk":"x"}]}`, ErrInvalidDocument},
		{"too large", `{"id":"did:x:a","alsoKnownAs":["` + strings.Repeat("a", DefaultWebMaxBody) + `"]}`, ErrTooLarge},
		{"too deep", `{"id":"did:x:a","@context":` + strings.Repeat("[", 40) + strings.Repeat("]", 40) + `}`, ErrInvalidDocument},
		{"bad utf-8", "{\"id\":\"did:x:\xff\"}", ErrInvalidDocument},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc, err := ParseDocument([]byte(tt.data))
			if !errors.Is(err, tt.wantErr) || doc != nil {
				t.Fatalf("ParseDocument = %+v, %v; want %v", doc, err, tt.wantErr)
			}
		})
	}
}

// TestParseDocumentExactNames: member names match exactly, so a differently cased name
// is ignored rather than taken as the real member.
func TestParseDocumentExactNames(t *testing.T) {
	doc, err := ParseDocument([]byte(`{"ID":"did:x:a","VerificationMethod":[{"id":"#k"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if doc.ID != "" || doc.VerificationMethod != nil {
		t.Fatalf("case-folded members were used: %+v", doc)
	}
	if err := doc.Validate(); !errors.Is(err, ErrInvalidDocument) {
		t.Fatalf("Validate = %v, want ErrInvalidDocument", err)
	}
}

func TestValidateRejects(t *testing.T) {
	vm := func(id string) string {
		return `{"id":"` + id + `","type":"Multikey","controller":"did:x:a","publicKeyMultibase":"z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2"}`
	}
	tests := []struct {
		name string
		doc  string
	}{
		{"bad id", `{"id":"did:x"}`},
		{"bad controller", `{"id":"did:x:a","controller":["nope"]}`},
		{"method id without fragment", `{"id":"did:x:a","verificationMethod":[` + vm("did:x:a") + `]}`},
		{"method id with path", `{"id":"did:x:a","verificationMethod":[` + vm("did:x:a/p#k") + `]}`},
		{"method id with query", `{"id":"did:x:a","verificationMethod":[` + vm("did:x:a?q=1#k") + `]}`},
		{"method id relative without #", `{"id":"did:x:a","verificationMethod":[` + vm("key-1") + `]}`},
		{"method id bare #", `{"id":"did:x:a","verificationMethod":[` + vm("#") + `]}`},
		{"duplicate ids", `{"id":"did:x:a","verificationMethod":[` + vm("#k") + `,` + vm("did:x:a#k") + `]}`},
		{"duplicate listed and embedded", `{"id":"did:x:a","verificationMethod":[` + vm("#k") + `],"assertionMethod":[` + vm("#k") + `]}`},
		{"missing type", `{"id":"did:x:a","verificationMethod":[{"id":"#k","controller":"did:x:a"}]}`},
		{"bad method controller", `{"id":"did:x:a","verificationMethod":[{"id":"#k","type":"Multikey","controller":"x"}]}`},
		{"reference without fragment", `{"id":"did:x:a","assertionMethod":["did:x:a"]}`},
		{"relative reference without #", `{"id":"did:x:a","assertionMethod":["key-1"]}`},
		{"reference with path", `{"id":"did:x:a","assertionMethod":["did:x:a/../b#k"]}`},
		{"reference https", `{"id":"did:x:a","assertionMethod":["https://evil.example/#k"]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc, err := ParseDocument([]byte(tt.doc))
			if err != nil {
				t.Fatal(err)
			}
			if err := doc.Validate(); !errors.Is(err, ErrInvalidDocument) {
				t.Fatalf("Validate = %v, want ErrInvalidDocument", err)
			}
		})
	}
}

func TestVerificationMethodPublicKey(t *testing.T) {
	const edMB = "z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2"
	const p256MB = "zDnaerx9CtbPJ1q36T5Ln5wYt3MQYeGRG5ehnPAmxcf5mDZpv"
	p256JWK := map[string]any{"kty": "EC", "crv": "P-256", "x": "igrFmi0whuihKnj9R3Om1SoMph72wUGeFaBbzG2vzns", "y": "efsX5b10x8yjyrj4ny3pGfLcY7Xby1KzgqOdqnsrJIM"}
	withD := map[string]any{"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo", "d": "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A"}
	tests := []struct {
		name    string
		vm      VerificationMethod
		wantErr error
	}{
		{"multikey ed25519", VerificationMethod{Type: TypeMultikey, PublicKeyMultibase: edMB}, nil},
		{"multikey p-256", VerificationMethod{Type: TypeMultikey, PublicKeyMultibase: p256MB}, nil},
		{"ed25519-2020", VerificationMethod{Type: TypeEd25519VerificationKey2020, PublicKeyMultibase: edMB}, nil},
		{"jsonwebkey", VerificationMethod{Type: TypeJSONWebKey, PublicKeyJwk: p256JWK}, nil},
		{"jsonwebkey2020", VerificationMethod{Type: TypeJSONWebKey2020, PublicKeyJwk: p256JWK}, nil},
		{"ed25519-2020 with p-256", VerificationMethod{Type: TypeEd25519VerificationKey2020, PublicKeyMultibase: p256MB}, keys.ErrInvalidKey},
		{"multikey with jwk", VerificationMethod{Type: TypeMultikey, PublicKeyMultibase: edMB, PublicKeyJwk: p256JWK}, keys.ErrInvalidKey},
		{"multikey without key", VerificationMethod{Type: TypeMultikey}, keys.ErrInvalidKey},
		{"jwk with multibase", VerificationMethod{Type: TypeJSONWebKey, PublicKeyJwk: p256JWK, PublicKeyMultibase: edMB}, keys.ErrInvalidKey},
		{"jwk without key", VerificationMethod{Type: TypeJSONWebKey}, keys.ErrInvalidKey},
		{"jwk with d", VerificationMethod{Type: TypeJSONWebKey, PublicKeyJwk: withD}, keys.ErrInvalidKey},
		{"legacy 2018 type", VerificationMethod{Type: "Ed25519VerificationKey2018", PublicKeyMultibase: edMB}, ErrUnsupportedKey},
		{"lower-case type", VerificationMethod{Type: "multikey", PublicKeyMultibase: edMB}, ErrUnsupportedKey},
		{"bad multibase", VerificationMethod{Type: TypeMultikey, PublicKeyMultibase: "z6Mk"}, keys.ErrInvalidKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pub, err := tt.vm.PublicKey()
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("PublicKey error = %v, want %v", err, tt.wantErr)
			}
			if (err == nil) != (pub != nil) {
				t.Fatalf("PublicKey = %v, %v", pub, err)
			}
		})
	}
}

func TestCloneIsDeep(t *testing.T) {
	doc, err := ParseDocument([]byte(exampleDoc))
	if err != nil {
		t.Fatal(err)
	}
	c := doc.Clone()
	if !reflect.DeepEqual(doc, c) {
		t.Fatal("clone differs")
	}
	c.VerificationMethod[1].PublicKeyJwk["x"] = "changed"
	c.Authentication[1].Embedded.ID = "changed"
	c.Context.([]any)[0] = "changed"
	c.Controller[0] = "changed"
	if doc.VerificationMethod[1].PublicKeyJwk["x"] == "changed" || doc.Authentication[1].Embedded.ID == "changed" ||
		doc.Context.([]any)[0] == "changed" || doc.Controller[0] == "changed" {
		t.Fatal("modifying the clone changed the original")
	}
	if (*Document)(nil).Clone() != nil {
		t.Fatal("nil clone")
	}
}

func TestStringSet(t *testing.T) {
	var s StringSet
	if err := json.Unmarshal([]byte(`"did:x:a"`), &s); err != nil || len(s) != 1 {
		t.Fatalf("single: %v %v", s, err)
	}
	if err := json.Unmarshal([]byte(`["did:x:a","did:x:b"]`), &s); err != nil || len(s) != 2 {
		t.Fatalf("array: %v %v", s, err)
	}
	if err := json.Unmarshal([]byte(`{}`), &s); err == nil {
		t.Fatal("object accepted")
	}
	out, err := json.Marshal(StringSet{"a", "b"})
	if err != nil || string(out) != `["a","b"]` {
		t.Fatalf("marshal = %s, %v", out, err)
	}
}

func FuzzParseDocument(f *testing.F) {
	f.Add([]byte(exampleDoc))
	f.Add([]byte(`{"id":"did:x:a","authentication":["#k",{"id":"#k"}]}`))
	f.Add([]byte(`{"id":"did:x:a","controller":"did:x:b","verificationMethod":[{"id":"#k","publicKeyJwk":{"kty":"OKP"}}]}`))
	f.Add([]byte(`{"id":"did:x:a","ID":"did:x:b"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		doc, err := ParseDocument(data)
		if err != nil {
			if doc != nil {
				t.Fatal("document returned with an error")
			}
			if !errors.Is(err, ErrInvalidDocument) && !errors.Is(err, ErrTooLarge) {
				t.Fatalf("error without sentinel: %v", err)
			}
			return
		}
		_ = doc.Validate()
		for i := range doc.VerificationMethod {
			_, _ = doc.VerificationMethod[i].PublicKey()
		}
		for _, rel := range relationships {
			for _, e := range doc.Relation(rel) {
				_ = doc.AbsoluteID(e.Reference)
			}
		}
		if !reflect.DeepEqual(doc, doc.Clone()) {
			t.Fatal("clone differs")
		}
		out, err := json.Marshal(doc)
		if err != nil {
			t.Fatalf("accepted document does not marshal: %v", err)
		}
		back, err := ParseDocument(out)
		if err != nil {
			t.Fatalf("marshalled document does not parse: %v", err)
		}
		if back.ID != doc.ID || len(back.VerificationMethod) != len(doc.VerificationMethod) {
			t.Fatal("round trip changed the document")
		}
	})
}
