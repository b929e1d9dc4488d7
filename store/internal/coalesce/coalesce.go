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
// Under load, when a full batch waits behind the one in flight, up to Par
// batches go at once (never two holding the same key), so that a stream of
// calls faster than one batch at a time (a lease server's keepalives) is
// not held to one batch per round trip. Set Max, Par, Key and Do before the
// first call.
type Coalescer[Req, Res any] struct {
	Max int // batch size limit
	Par int // batches in flight at most (0: 1)
	// Key names a request's record: one batch holds each key at most once,
	// and no two batches in flight share one.
	Key func(Req) string
	// Do handles a batch, filling in each call's Res and Err.
	Do func(batch []*Call[Req, Res])

	mu      sync.Mutex
	queue   []*Call[Req, Res]
	running int             // drain goroutines
	flying  map[string]bool // the keys of the batches in flight
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
	if c.running == 0 || c.running < c.Par && len(c.queue) >= c.Max {
		c.running++
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

// drain runs batches until the queue is empty; of several drains, all but
// one end as soon as less than a full batch waits.
func (c *Coalescer[Req, Res]) drain() {
	for {
		c.mu.Lock()
		if c.running > 1 && len(c.queue) < c.Max {
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
		c.Do(batch)
		c.mu.Lock()
		for _, cl := range batch {
			delete(c.flying, c.Key(cl.Req))
		}
		c.mu.Unlock()
		for _, cl := range batch {
			close(cl.done)
		}
	}
}

// take splits the queue into a batch of distinct keys not in flight, in
// arrival order, which it marks in flight, and the rest.
func (c *Coalescer[Req, Res]) take() (batch, rest []*Call[Req, Res]) {
	if c.flying == nil {
		c.flying = map[string]bool{}
	}
	for _, cl := range c.queue {
		if cl.Ctx.Err() != nil {
			close(cl.done) // its caller has returned already
			continue
		}
		k := c.Key(cl.Req)
		if len(batch) == c.Max || c.flying[k] {
			rest = append(rest, cl)
			continue
		}
		c.flying[k] = true
		batch = append(batch, cl)
	}
	return batch, rest
}
