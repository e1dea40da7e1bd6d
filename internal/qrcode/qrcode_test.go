package qrcode

import (
	"bytes"
	"errors"
	"image/png"
	"strings"
	"testing"
)

func TestPNG(t *testing.T) {
	for _, n := range []int{1, 100, 1000, 2000} {
		raw, err := PNG(strings.Repeat("a", n))
		if err != nil {
			t.Fatalf("%d bytes: %v", n, err)
		}
		img, err := png.Decode(bytes.NewReader(raw))
		if err != nil {
			t.Fatalf("%d bytes: not a PNG: %v", n, err)
		}
		if b := img.Bounds(); b.Dx() != b.Dy() || b.Dx() < 21*6 {
			t.Fatalf("%d bytes: image %v", n, b)
		}
	}
	for _, n := range []int{MaxBytes + 1, 10000} {
		if _, err := PNG(strings.Repeat("a", n)); !errors.Is(err, ErrTooLarge) {
			t.Fatalf("%d bytes: %v, want ErrTooLarge", n, err)
		}
	}
}
