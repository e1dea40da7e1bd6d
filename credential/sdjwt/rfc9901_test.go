package sdjwt

import (
	"encoding/base64"
	"errors"
	"testing"
)

// The example disclosure of RFC 9901 §4.2.1 (["_26bc4LT-ac6q2KI6cBW5es", "family_name",
// "Möbius"]) and its SHA-256 digest from §4.2.3, as the RFC prints them. The digest is
// taken over the base64url text, not over the JSON it encodes; these values were not
// produced by this package.
const (
	rfcDisclosure = "WyJfMjZiYzRMVC1hYzZxMktJNmNCVzVlcyIsICJmYW1pbHlfbmFtZSIsICJNw7ZiaXVzIl0"
	rfcDigest     = "X9yH0Ajrdm1Oij4tWso9UzzKJvPoDxwmuEcO3XAdRC0"
	rfcSalt       = "_26bc4LT-ac6q2KI6cBW5es"
	// rfcArrayElement is the array element disclosure of §4.2.2 (["lklxF5jMYlGTPUovMNIvCA", "FR"]).
	rfcArrayElement = "WyJsa2x4RjVqTVlsR1RQVW92TU5JdkNBIiwgIkZSIl0"
)

// rfcVariants are the other encodings §4.2.1 gives of the same claim: the umlaut
// escaped, no white space, and line breaks. Each is a valid disclosure of its own digest.
var rfcVariants = []string{
	"WyJfMjZiYzRMVC1hYzZxMktJNmNCVzVlcyIsICJmYW1pbHlfbmFtZSIsICJNXHUwMGY2Yml1cyJd",
	"WyJfMjZiYzRMVC1hYzZxMktJNmNCVzVlcyIsImZhbWlseV9uYW1lIiwiTcO2Yml1cyJd",
	"WwoiXzI2YmM0TFQtYWM2cTJLSTZjQlc1ZXMiLAoiZmFtaWx5X25hbWUiLAoiTcO2Yml1cyIKXQ",
}

func TestRFC9901Disclosure(t *testing.T) {
	raw, err := base64.RawURLEncoding.DecodeString(rfcDisclosure)
	if err != nil {
		t.Fatal(err)
	}
	if want := `["` + rfcSalt + `", "family_name", "Möbius"]`; string(raw) != want {
		t.Fatalf("vector decodes to %s, want %s", raw, want)
	}
	d, err := decodeDisclosure(rfcDisclosure)
	if err != nil {
		t.Fatal(err)
	}
	if d.digest != rfcDigest {
		t.Fatalf("digest %s, want %s (RFC 9901 §4.2.3)", d.digest, rfcDigest)
	}
	if d.name != "family_name" || d.value != "Möbius" || d.encoded != rfcDisclosure {
		t.Fatalf("decoded %+v", d)
	}
	seen := map[string]bool{rfcDigest: true}
	for _, v := range rfcVariants {
		dv, err := decodeDisclosure(v)
		if err != nil {
			t.Fatalf("variant %s: %v", v, err)
		}
		if dv.name != d.name || dv.value != d.value {
			t.Errorf("variant %s decodes to %s = %v", v, dv.name, dv.value)
		}
		if seen[dv.digest] {
			t.Errorf("variant %s shares a digest: digests must be over the text", v)
		}
		seen[dv.digest] = true
	}
	// The array element form is valid RFC 9901 but outside the Civitas profile.
	if _, err := decodeDisclosure(rfcArrayElement); !errors.Is(err, ErrMalformed) {
		t.Fatalf("array element disclosure: %v, want ErrMalformed", err)
	}
}
