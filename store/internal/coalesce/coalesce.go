// Package coalesce turns a store's calls that arrive together into batches,
// so that a backend makes one round trip for the reads (or claims, or
// appends) of many jobs made at the same moment. It promises that a lone
// call waits for nothing and that a batch holds each key at most once; it
// does not retry, time out or make the calls itself (Do does).
package coalesce

import (
	"context"
	"sync"
)

// Coalescer turns calls that arrive together into one batch, the way a
// database groups commits: a call that finds no batch in flight starts one at
// once, and calls that arrive meanwhile wait and go together in the next. A
// lone call waits for nothing; the many reads and claims of one node at a
// tick shared by hundreds of jobs cost a few RPCs instead of one or two each.
// Set Max, Key and Do before the first call.
type Coalescer[Req, Res any] struct {
	Max int // batch size limit
	// Key names a request's record: one batch holds each key at most once.
	Key func(Req) string
	// Do handles a batch, filling in each call's Res and Err.
	Do func(batch []*Call[Req, Res])

	mu    sync.Mutex
	queue []*Call[Req, Res]
	busy  bool
}

// Call is one call of a batch.
type Call[Req, Res any] struct {
	Ctx  context.Context // the caller's: once it ends, the call is not made
	Req  Req
	Res  Res
	Err  error
	done chan struct{}
}

// Submit queues req and waits for its result or for ctx to end. A call
// abandoned by its context while queued is dropped; one abandoned while its
// batch is in flight may still be carried out, as an RPC may.
func (c *Coalescer[Req, Res]) Submit(ctx context.Context, req Req) (Res, error) {
	cl := &Call[Req, Res]{Ctx: ctx, Req: req, done: make(chan struct{})}
	c.mu.Lock()
	c.queue = append(c.queue, cl)
	if !c.busy {
		c.busy = true
		go c.drain()
	}
	c.mu.Unlock()
	select {
	case <-cl.done:
		return cl.Res, cl.Err
	case <-ctx.Done():
		var zero Res
		return zero, ctx.Err()
	}
}

// drain runs batches until the queue is empty.
func (c *Coalescer[Req, Res]) drain() {
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
		c.Do(batch)
		for _, cl := range batch {
			close(cl.done)
		}
	}
}

// take splits the queue into a batch of distinct keys, in arrival order,
// and the rest.
func (c *Coalescer[Req, Res]) take() (batch, rest []*Call[Req, Res]) {
	seen := make(map[string]bool, len(c.queue))
	for _, cl := range c.queue {
		if cl.Ctx.Err() != nil {
			close(cl.done) // its caller has returned already
			continue
		}
		k := c.Key(cl.Req)
		if len(batch) == c.Max || seen[k] {
			rest = append(rest, cl)
			continue
		}
		seen[k] = true
		batch = append(batch, cl)
	}
	return batch, rest
}
