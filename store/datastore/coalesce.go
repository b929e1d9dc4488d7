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
type coalescer[Req, Res any] struct {
	max int // batch size limit
	// key names a request's entity: one batch holds each key at most once.
	key func(Req) string
	// do handles a batch, filling in each call's result.
	do func(batch []*call[Req, Res])

	mu    sync.Mutex
	queue []*call[Req, Res]
	busy  bool
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
	if !c.busy {
		c.busy = true
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

// drain runs batches until the queue is empty.
func (c *coalescer[Req, Res]) drain() {
	for {
		c.mu.Lock()
		batch, rest := c.take()
		c.queue = rest
		if len(batch) == 0 {
			c.busy = false
			c.mu.Unlock()
			return
		}
		c.mu.Unlock()
		c.do(batch)
		for _, cl := range batch {
			close(cl.done)
		}
	}
}

// take splits the queue into a batch of distinct keys, in arrival order,
// and the rest.
func (c *coalescer[Req, Res]) take() (batch, rest []*call[Req, Res]) {
	seen := make(map[string]bool, len(c.queue))
	for _, cl := range c.queue {
		if cl.ctx.Err() != nil {
			close(cl.done) // its caller has returned already
			continue
		}
		k := c.key(cl.req)
		if len(batch) == c.max || seen[k] {
			rest = append(rest, cl)
			continue
		}
		seen[k] = true
		batch = append(batch, cl)
	}
	return batch, rest
}
