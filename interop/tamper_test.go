package interop_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
)

// A tamper changes one thing in a secured credential and leaves the signature as it
// was, so that a verifier that checks the signature over what it received must refuse
// the result. Each keeps the credential well formed and valid under its schema, so a
// refusal can only come from the signature.
type tamper struct {
	name string
	doc  func(doc map[string]any) // changes the credential (JWT payload or JSON document)
	sig  func(sig string) string  // changes the signature (JWS signature or proofValue)
}

var tampers = []tamper{
	{name: "subject id", doc: func(doc map[string]any) {
		doc["credentialSubject"].(map[string]any)["id"] = "did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp"
	}},
	{name: "validUntil extended", doc: func(doc map[string]any) {
		doc["validUntil"] = "2099-01-01T00:00:00Z"
	}},
	{name: "type list", doc: func(doc map[string]any) {
		// Drop the Civitas type: still a VerifiableCredential, no longer the same claim.
		doc["type"] = []any{"VerifiableCredential"}
	}},
	{name: "signature", sig: flipSignature},
}

// flipSignature changes the middle character of a base64url JWS signature or a
// base58btc proofValue ("z…") to another character of the same alphabet. The middle,
// not the start: raising the leading base58 digit can carry the value past 64 bytes,
// and the verifier then (rightly) calls the proof malformed instead of its signature
// invalid, which made this test fail at random.
func flipSignature(sig string) string {
	b := []byte(sig)
	i := len(b) / 2
	if b[i] == '2' {
		b[i] = '3'
	} else {
		b[i] = '2'
	}
	return string(b)
}

// apply returns raw (a compact JWT or a JSON document) with the tamper applied.
func (tp tamper) apply(t testing.TB, raw []byte) []byte {
	t.Helper()
	if !bytes.HasPrefix(bytes.TrimSpace(raw), []byte("{")) {
		parts := strings.Split(string(raw), ".")
		if len(parts) != 3 {
			t.Fatalf("not a compact JWS: %d parts", len(parts))
		}
		if tp.sig != nil {
			parts[2] = tp.sig(parts[2])
		} else {
			payload, err := base64.RawURLEncoding.DecodeString(parts[1])
			must(t, err)
			doc := decode(t, payload)
			tp.doc(doc)
			parts[1] = base64.RawURLEncoding.EncodeToString(encode(t, doc))
		}
		return []byte(strings.Join(parts, "."))
	}
	doc := decode(t, raw)
	if tp.sig != nil {
		proof := doc["proof"].(map[string]any)
		proof["proofValue"] = tp.sig(proof["proofValue"].(string))
	} else {
		tp.doc(doc)
	}
	return encode(t, doc)
}

func decode(t testing.TB, data []byte) map[string]any {
	t.Helper()
	d := json.NewDecoder(bytes.NewReader(data))
	d.UseNumber()
	var doc map[string]any
	must(t, d.Decode(&doc))
	return doc
}

func encode(t testing.TB, doc map[string]any) []byte {
	t.Helper()
	out, err := json.Marshal(doc)
	must(t, err)
	return out
}
