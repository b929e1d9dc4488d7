package store

import (
	"sync"
	"time"
)

// healthWindow is how long a failed store operation keeps the node unready
// unless the same operation succeeds meanwhile: long enough to span the
// retries of a tick, short enough that an operation not tried again (a
// renewal of a run that ended) does not hold readiness down.
const healthWindow = 15 * time.Second

// Health tracks whether the store answers, from the outcome of every store
// call its users make, per operation: a store whose reads work but
// whose commits fail is unhealthy too. A nil *Health ignores reports.
type Health struct {
	mu  sync.Mutex
	ops map[string]*opHealth
}

type opHealth struct {
	okAt, failedAt time.Time
	err            error
}

// Report records a store call's outcome. The protocol's sentinel errors are
// answers, not failures. A nil *Health ignores it.
func (h *Health) Report(op string, err error) {
	if h == nil {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.ops == nil {
		h.ops = map[string]*opHealth{}
	}
	o := h.ops[op]
	if o == nil {
		o = &opHealth{}
		h.ops[op] = o
	}
	if err == nil || IsRefusal(err) {
		o.okAt = time.Now()
		return
	}
	o.failedAt, o.err = time.Now(), err
}

// Err returns a recent failure of an operation that has not succeeded
// since, or nil.
func (h *Health) Err() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, o := range h.ops {
		if o.failedAt.After(o.okAt) && time.Since(o.failedAt) < healthWindow {
			return o.err
		}
	}
	return nil
}
