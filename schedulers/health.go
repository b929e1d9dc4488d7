package schedulers

import (
	"errors"
	"sync"

	"go-leader-election/store"
)

// Health tracks whether the store answers, from the outcome of every store
// call the schedulers make. A nil *Health ignores reports.
type Health struct {
	mu       sync.Mutex
	failures int
	lastErr  error
	lastOp   string
}

func (h *Health) report(op string, err error) {
	if h == nil {
		return
	}
	h.Report(op, err)
}

// Report records a store call's outcome. The protocol's sentinel errors are
// answers, not failures.
func (h *Health) Report(op string, err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if err == nil || errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrTickTaken) ||
		errors.Is(err, store.ErrHeld) || errors.Is(err, store.ErrNotHolder) {
		h.failures, h.lastErr = 0, nil
		return
	}
	h.failures++
	h.lastErr, h.lastOp = err, op
}

// Err returns the latest failure if the most recent call failed, else nil.
func (h *Health) Err() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.failures == 0 {
		return nil
	}
	return h.lastErr
}
