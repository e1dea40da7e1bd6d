// Package qrcode renders text as a QR code (ISO/IEC 18004) in PNG, for credential
// offers, challenges and presentations shown on screens and paper. Encoding is done by
// rsc.io/qr; this package picks the error correction level, checks the size limits and
// names the error when text does not fit.
package qrcode

import (
	"errors"
	"fmt"

	"rsc.io/qr"
)

// MaxBytes is the most text a QR code holds at error correction level L (version 40,
// byte mode): 2953 bytes. Longer text does not fit in any QR code.
const MaxBytes = 2953

// ErrTooLarge reports text that does not fit in a QR code.
var ErrTooLarge = errors.New("too large for a QR code")

// PNG returns text as a QR code image in PNG, using medium error correction (level M)
// when the text fits at that level and low (level L) otherwise.
func PNG(text string) ([]byte, error) {
	if len(text) > MaxBytes {
		return nil, fmt.Errorf("%w: %d bytes, a QR code holds at most %d", ErrTooLarge, len(text), MaxBytes)
	}
	code, err := qr.Encode(text, qr.M)
	if err != nil {
		code, err = qr.Encode(text, qr.L)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %d bytes: %v", ErrTooLarge, len(text), err)
	}
	code.Scale = 6
	return code.PNG(), nil
}
