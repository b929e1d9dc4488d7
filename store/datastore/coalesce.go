package datastore

import (
	"context"
	"sync"
)

// coalescer turns calls that arrive together into one batch, the way a
// database groups commits: a call that finds no batch in flight starts one at
// once, and calls that arrive meanwhile wait and go together in the next. A
// lone call waits for nothing; the many reads and claims of one node at a
// tick shared by hundreds of jobs cost a few RPCs instead of one or two each.
// Under load, when a full batch waits behind the one in flight, up to par
// batches go at once (never two holding the same key), so that a stream of
// calls faster than one batch at a time (a lease server's keepalives) is
// not held to one batch per round trip.
type coalescer[Req, Res any] struct {
	max int // batch size limit
	par int // batches in flight at most (0: 1)
	// key names a request's entity: one batch holds each key at most once,
	// and no two batches in flight share one.
	key func(Req) string
	// do handles a batch, filling in each call's result.
	do func(batch []*call[Req, Res])

	mu      sync.Mutex
	queue   []*call[Req, Res]
	running int             // drain goroutines
	flying  map[string]bool // the keys of the batches in flight
}

type call[Req, Res any] struct {
	ctx  context.Context // the caller's: once it ends, the call is not made
	req  Req
	res  Res
	err  error
	done chan struct{}
}

// submit queues req and waits for its result or for ctx to end. A call
// abandoned by its context while queued is dropped; one abandoned while its
// batch is in flight may still be carried out, as an RPC may.
func (c *coalescer[Req, Res]) submit(ctx context.Context, req Req) (Res, error) {
	cl := &call[Req, Res]{ctx: ctx, req: req, done: make(chan struct{})}
	c.mu.Lock()
	c.queue = append(c.queue, cl)
	if c.running == 0 || c.running < c.par && len(c.queue) >= c.max {
		c.running++
		go c.drain()
	}
	c.mu.Unlock()
	select {
	case <-cl.done:
		return cl.res, cl.err
	case <-ctx.Done():
		var zero Res
		return zero, ctx.Err()
	}
}

// drain runs batches until the queue is empty; of several drains, all but
// one end as soon as less than a full batch waits.
func (c *coalescer[Req, Res]) drain() {
	for {
		c.mu.Lock()
		if c.running > 1 && len(c.queue) < c.max {
			c.running--
			c.mu.Unlock()
			return
		}
		batch, rest := c.take()
		c.queue = rest
		if len(batch) == 0 {
			c.running--
			c.mu.Unlock()
			return
		}
		c.mu.Unlock()
		c.do(batch)
		c.mu.Lock()
		for _, cl := range batch {
			delete(c.flying, c.key(cl.req))
		}
		c.mu.Unlock()
		for _, cl := range batch {
			close(cl.done)
		}
	}
}

// take splits the queue into a batch of distinct keys not in flight, in
// arrival order, which it marks in flight, and the rest.
func (c *coalescer[Req, Res]) take() (batch, rest []*call[Req, Res]) {
	if c.flying == nil {
		c.flying = map[string]bool{}
	}
	for _, cl := range c.queue {
		if cl.ctx.Err() != nil {
			close(cl.done) // its caller has returned already
			continue
		}
		k := c.key(cl.req)
		if len(batch) == c.max || c.flying[k] {
			rest = append(rest, cl)
			continue
		}
		c.flying[k] = true
		batch = append(batch, cl)
	}
	return batch, rest
}
