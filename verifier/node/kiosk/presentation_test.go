package kiosk_test

import (
	"bytes"
	"errors"
	"testing"
	"unicode/utf8"

	"github.com/civitas-net/civitas/verifier/node/kiosk"
)

func TestReadPresentation(t *testing.T) {
	const jwt = "eyJhbGciOiJFZERTQSJ9.eyJub25jZSI6Im4ifQ.c2ln"
	const sd = "eyJhbGciOiJFZERTQSJ9.e30.c2ln~WyJzIiwiYSIsMV0~eyJ0eXAiOiJrYitqd3QifQ.e30.c2ln"
	const di = `{"@context":["https://www.w3.org/ns/credentials/v2"],"type":"VerifiablePresentation"}`
	tests := []struct {
		name, ctype, body, want string
		err                     error
	}{
		{"jwt", "", jwt, jwt, nil},
		{"jwt with scanner line end", "text/plain", jwt + "\r\n", jwt, nil},
		{"jwt with BOM", "text/plain; charset=utf-8", "\ufeff" + jwt, jwt, nil},
		{"sd-jwt", "application/dc+sd-jwt", sd, sd, nil},
		{"vp+jwt media type", "application/vp+jwt", jwt, jwt, nil},
		{"octet stream", "application/octet-stream", jwt, jwt, nil},
		{"data URL", "", "data:application/vp+jwt," + jwt, "data:application/vp+jwt," + jwt, nil},
		{"DI presentation", "", di, di, nil},
		{"DI presentation, pretty", "application/ld+json", "{\n  \"type\": \"VerifiablePresentation\"\n}\n", "{\n  \"type\": \"VerifiablePresentation\"\n}", nil},
		{"wrapped jwt", "application/json", `{"presentation":"` + jwt + `"}`, jwt, nil},
		{"wrapped DI", "application/json", `{ "presentation" : ` + di + ` }`, di, nil},
		{"wrapped DI in a string", "application/json", `{"presentation":"{\"type\": \"VerifiablePresentation\"}"}`, `{"type": "VerifiablePresentation"}`, nil},
		{"JSON string", "application/json", `"` + jwt + `"`, jwt, nil},
		{"JSON string untyped", "", `"` + jwt + `"`, jwt, nil},
		{"US-ASCII", "text/plain; charset=US-ASCII", jwt, jwt, nil},

		{"empty", "", "", "", kiosk.ErrEmptyPresentation},
		{"white space", "text/plain", " \n\t", "", kiosk.ErrEmptyPresentation},
		{"empty wrapped", "application/json", `{"presentation":""}`, "", kiosk.ErrEmptyPresentation},
		{"null wrapped", "application/json", `{"presentation":null}`, "", kiosk.ErrEmptyPresentation},
		{"empty JSON string", "", `"  "`, "", kiosk.ErrEmptyPresentation},
		{"truncated JSON", "application/json", `{"presentation":"a`, "", kiosk.ErrMalformedRequest},
		{"trailing data", "application/json", `{"presentation":"a"} x`, "", kiosk.ErrMalformedRequest},
		{"duplicate key", "", `{"type":"a","type":"b"}`, "", kiosk.ErrMalformedRequest},
		{"JSON array", "", `["a"]`, "", kiosk.ErrMalformedRequest},
		{"JSON number", "application/json", `42`, "", kiosk.ErrMalformedRequest},
		{"JSON true", "application/json", `true`, "", kiosk.ErrMalformedRequest},
		{"wrapper array", "application/json", `{"presentation":["a"]}`, "", kiosk.ErrMalformedRequest},
		{"wrapper extra", "application/json", `{"presentation":"a","also":"b"}`, "", kiosk.ErrMalformedRequest},
		{"space inside", "", "eyJ hbGc.e30.c2ln", "", kiosk.ErrMalformedRequest},
		{"line break inside", "", "eyJhbGc\n.e30.c2ln", "", kiosk.ErrMalformedRequest},
		{"NUL", "", "eyJ\x00.e30.c2ln", "", kiosk.ErrMalformedRequest},
		{"escape", "", "eyJ\x1b[2J.e30.c2ln", "", kiosk.ErrMalformedRequest},
		{"DEL", "", "eyJ\x7f.e30.c2ln", "", kiosk.ErrMalformedRequest},
		{"no-break space inside", "", "eyJ\u00a0.e30.c2ln", "", kiosk.ErrMalformedRequest},
		{"C1 control", "", "eyJ\u0085.e30.c2ln", "", kiosk.ErrMalformedRequest},
		{"invalid UTF-8", "", "eyJ\xc3.e30.c2ln", "", kiosk.ErrMalformedRequest},
		{"control in wrapped string", "application/json", `{"presentation":"a\u0000b"}`, "", kiosk.ErrMalformedRequest},
		{"form", "application/x-www-form-urlencoded", "presentation=" + jwt, "", kiosk.ErrUnsupportedMediaType},
		{"multipart", "multipart/form-data; boundary=b", "--b--", "", kiosk.ErrUnsupportedMediaType},
		{"image", "image/png", jwt, "", kiosk.ErrUnsupportedMediaType},
		{"html", "text/html", jwt, "", kiosk.ErrUnsupportedMediaType},
		{"latin-1", "text/plain; charset=latin1", jwt, "", kiosk.ErrUnsupportedMediaType},
		{"unparsable media type", "text/plain; charset", jwt, "", kiosk.ErrUnsupportedMediaType},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := kiosk.ReadPresentation(tt.ctype, []byte(tt.body))
			if tt.err != nil {
				if !errors.Is(err, tt.err) || got != nil {
					t.Fatalf("got %q, %v; want %v", got, err, tt.err)
				}
				return
			}
			if err != nil || string(got) != tt.want {
				t.Fatalf("got %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

func FuzzReadPresentation(f *testing.F) {
	for _, s := range []struct{ ctype, body string }{
		{"", "eyJhbGciOiJFZERTQSJ9.e30.c2ln"},
		{"text/plain", "a.b.c~d~\r\n"},
		{"application/json", `{"presentation":"a.b.c"}`},
		{"application/json", `{"presentation":{"type":"VerifiablePresentation"}}`},
		{"", `{"@context":[],"type":"VerifiablePresentation","proof":{}}`},
		{"application/json", `"a.b.c"`},
		{"application/x-www-form-urlencoded", "presentation=x"},
		{"", "\ufeff  "},
		{"", `{"a":1,"a":2}`},
	} {
		f.Add(s.ctype, []byte(s.body))
	}
	f.Fuzz(func(t *testing.T, ctype string, body []byte) {
		got, err := kiosk.ReadPresentation(ctype, body)
		if err != nil {
			if got != nil {
				t.Fatal("bytes with an error")
			}
			if !errors.Is(err, kiosk.ErrEmptyPresentation) && !errors.Is(err, kiosk.ErrMalformedRequest) && !errors.Is(err, kiosk.ErrUnsupportedMediaType) {
				t.Fatalf("error without a sentinel: %v", err)
			}
			return
		}
		if len(got) == 0 || !utf8.Valid(got) || len(got) > len(body) {
			t.Fatalf("got %q from %q", got, body)
		}
		if bytes.TrimSpace(got)[0] != got[0] {
			t.Fatalf("untrimmed %q", got)
		}
		if got[0] != '"' && got[0] != '{' && got[0] != '[' {
			// A token read once reads the same again: it is its own body.
			again, err := kiosk.ReadPresentation("", got)
			if err != nil || !bytes.Equal(again, got) {
				t.Fatalf("not stable: %q -> %q, %v", got, again, err)
			}
		}
	})
}
