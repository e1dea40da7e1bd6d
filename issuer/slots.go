package issuer

import (
	"context"
	"sync"

	"github.com/civitas-net/civitas/issuer/store"
)

// slotBatch is how many status slots a pool reserves in one store transaction.
const slotBatch = 256

// slotPool hands out status list slots of one purpose, reserved in batches. The store
// picks them at random among unused indexes and records them durably before they are
// handed out, so a slot is never given twice, even across processes or after a crash
// (a crash only leaves some reserved slots unused).
type slotPool struct {
	s       *Service
	purpose string
	mu      sync.Mutex
	free    []store.Slot
}

// take returns one reserved slot.
func (p *slotPool) take(ctx context.Context) (store.Slot, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.free) == 0 {
		slots, err := p.s.store.ReserveSlots(ctx, p.purpose, slotBatch, p.s.listSize)
		if err != nil {
			return store.Slot{}, internal("reserve status list entries", err)
		}
		p.free = slots
	}
	sl := p.free[len(p.free)-1]
	p.free = p.free[:len(p.free)-1]
	return sl, nil
}
