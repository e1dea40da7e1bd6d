package kiosk

import (
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/civitas-net/civitas/internal/qrcode"
	"github.com/civitas-net/civitas/verifier/node"
)

// maxRemembered bounds how many challenges the kiosk remembers for their QR codes.
const maxRemembered = 256

// shown is a challenge the kiosk handed out, with its QR code once rendered.
type shown struct {
	c   node.Challenge
	png []byte
}

// recent remembers the challenges handed out until they expire, so that the QR code of
// a given nonce shows the same challenge as the JSON the page read. It is bounded:
// past maxRemembered the oldest are forgotten.
type recent struct {
	mu    sync.Mutex
	now   func() time.Time
	byKey map[string]*shown
	order []string
}

func newRecent(now func() time.Time) *recent {
	return &recent{now: now, byKey: make(map[string]*shown)}
}

// add remembers c.
func (r *recent) add(c node.Challenge) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.prune()
	if _, ok := r.byKey[c.Nonce]; ok {
		return
	}
	r.byKey[c.Nonce] = &shown{c: c}
	r.order = append(r.order, c.Nonce)
	for len(r.order) > maxRemembered {
		delete(r.byKey, r.order[0])
		r.order = r.order[1:]
	}
}

// png returns the QR code of the remembered challenge with nonce, rendering it once.
func (r *recent) png(nonce string) (node.Challenge, []byte, bool, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.prune()
	s, ok := r.byKey[nonce]
	if !ok {
		return node.Challenge{}, nil, false, nil
	}
	if s.png == nil {
		img, err := challengePNG(s.c)
		if err != nil {
			return s.c, nil, true, err
		}
		s.png = img
	}
	return s.c, s.png, true, nil
}

// prune forgets expired challenges from the front. Challenges come in order of issue,
// and a door gives them all the same lifetime, so the front expires first; one with a
// longer life behind an expired one waits its turn.
func (r *recent) prune() {
	now := r.now()
	n := 0
	for n < len(r.order) && r.byKey[r.order[n]].c.Expires.Before(now) {
		delete(r.byKey, r.order[n])
		n++
	}
	if n > 0 {
		r.order = append(r.order[:0:0], r.order[n:]...)
	}
}

// challengePNG renders the challenge JSON as a QR code, as `civitas node challenge
// --qr` does, for the member's wallet to scan.
func challengePNG(c node.Challenge) ([]byte, error) {
	raw, err := json.Marshal(c)
	if err != nil {
		return nil, fmt.Errorf("kiosk: challenge: %w", err)
	}
	img, err := qrcode.PNG(string(raw))
	if err != nil {
		return nil, fmt.Errorf("kiosk: challenge qr code: %w", err)
	}
	return img, nil
}
