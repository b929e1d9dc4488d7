package datastore

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/status"
)

// Calls counts the gRPC calls a Store's client makes, by method short name
// ("Lookup", "Commit", "BeginTransaction", "Rollback", "RunQuery", ...) and
// status code ("OK", "Aborted", "DeadlineExceeded", ...), and the time they
// took. A call the gRPC layer retries on its own (UNAVAILABLE) counts once. It
// is safe for concurrent use.
type Calls struct {
	total    atomic.Int64
	observer atomic.Pointer[func(method, code string, d time.Duration)]

	mu      sync.Mutex
	methods map[string]*MethodStats
	// clock, if set, is fed the commit timestamps (clockskew.go).
	clock *clockSamples
}

// MethodStats is what Calls knows about one method.
type MethodStats struct {
	Calls int64            // calls made, whatever their outcome
	Codes map[string]int64 // calls by gRPC status code
	Time  time.Duration    // total time spent in the calls
}

func newCalls() *Calls { return &Calls{methods: make(map[string]*MethodStats)} }

// Snapshot returns the number of calls made so far by method, all status
// codes together.
func (c *Calls) Snapshot() map[string]int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string]int64, len(c.methods))
	for m, st := range c.methods {
		out[m] = st.Calls
	}
	return out
}

// Stats returns a copy of the counts, codes and durations by method.
func (c *Calls) Stats() map[string]MethodStats {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string]MethodStats, len(c.methods))
	for m, st := range c.methods {
		cp := *st
		cp.Codes = make(map[string]int64, len(st.Codes))
		for k, v := range st.Codes {
			cp.Codes[k] = v
		}
		out[m] = cp
	}
	return out
}

// Total returns the number of calls made so far.
func (c *Calls) Total() int64 { return c.total.Load() }

// SetObserver installs fn (nil removes it) to be called after every call,
// from the calling goroutine, with the method's short name, the status code
// and the call's duration. fn must be quick and safe for concurrent use.
func (c *Calls) SetObserver(fn func(method, code string, d time.Duration)) {
	if fn == nil {
		c.observer.Store(nil)
		return
	}
	c.observer.Store(&fn)
}

func (c *Calls) record(method, code string, d time.Duration) {
	c.mu.Lock()
	st := c.methods[method]
	if st == nil {
		st = &MethodStats{Codes: make(map[string]int64)}
		c.methods[method] = st
	}
	st.Calls++
	st.Codes[code]++
	st.Time += d
	c.mu.Unlock()
	c.total.Add(1)
	if fn := c.observer.Load(); fn != nil {
		(*fn)(method, code, d)
	}
}

// interceptor is the unary client interceptor that feeds c.
func (c *Calls) interceptor(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
	start := time.Now()
	err := invoker(ctx, method, req, reply, cc, opts...)
	end := time.Now()
	c.record(shortMethod(method), status.Code(err).String(), end.Sub(start))
	if err == nil && c.clock != nil {
		c.clock.observe(reply, start, end)
	}
	return err
}

// shortMethod turns "/google.datastore.v1.Datastore/Lookup" into "Lookup".
func shortMethod(full string) string {
	if i := strings.LastIndexByte(full, '/'); i >= 0 {
		return full[i+1:]
	}
	return full
}
