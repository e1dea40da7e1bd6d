package issuer

import (
	"context"
	"time"

	"github.com/civitas-net/civitas/issuer/store"
)

// maxBatch bounds how many issuances one transaction carries.
const maxBatch = 256

// commitRequest is one issuance waiting to be stored.
type commitRequest struct {
	ctx  context.Context
	iss  store.Issuance
	done chan error
}

// committer stores issuances with group commit: requests that arrive while a
// transaction is being written wait and go together in the next one, so that many
// issuances share one durable commit. A request is acknowledged only after its
// transaction is on disk.
type committer struct {
	s    *Service
	reqs chan commitRequest
}

func newCommitter(s *Service) *committer {
	return &committer{s: s, reqs: make(chan commitRequest, 4*maxBatch)}
}

// commit queues iss and waits until it is durably stored (or failed).
func (c *committer) commit(ctx context.Context, iss store.Issuance) error {
	req := commitRequest{ctx: ctx, iss: iss, done: make(chan error, 1)}
	select {
	case c.reqs <- req:
	case <-c.s.stop:
		return errorf(CodeUnavailable, "the service is shutting down")
	case <-ctx.Done():
		return ctx.Err()
	}
	// Once queued, the request is written even if the client goes away: waiting for the
	// outcome keeps the response truthful.
	return <-req.done
}

func (c *committer) run() {
	for {
		var first commitRequest
		select {
		case first = <-c.reqs:
		case <-c.s.stop:
			c.drain()
			return
		}
		batch := []commitRequest{first}
	gather:
		for len(batch) < maxBatch {
			select {
			case r := <-c.reqs:
				batch = append(batch, r)
			default:
				break gather
			}
		}
		c.write(batch)
	}
}

// drain writes whatever is queued when the service stops.
func (c *committer) drain() {
	for {
		select {
		case r := <-c.reqs:
			c.write([]commitRequest{r})
		default:
			return
		}
	}
}

// write commits a batch in one transaction. If the batch fails as a whole, each request
// is retried alone, so that one bad request cannot fail the others.
func (c *committer) write(batch []commitRequest) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	items := make([]store.Issuance, len(batch))
	for i, r := range batch {
		items[i] = r.iss
	}
	start := time.Now()
	err := c.s.store.CommitIssuance(ctx, items)
	c.s.metrics.commit(len(batch), time.Since(start), err)
	if err == nil || len(batch) == 1 {
		for _, r := range batch {
			r.done <- err
		}
		return
	}
	for _, r := range batch {
		r.done <- c.s.store.CommitIssuance(ctx, []store.Issuance{r.iss})
	}
}
