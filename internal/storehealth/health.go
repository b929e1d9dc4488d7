// Package storehealth tells whether the store answers, from the outcome of
// every store call a node makes, and logs each outage once (Health). It is
// the node's view, for its readiness probe and its logs; it promises
// nothing about the store itself, and makes no store call of its own.
package storehealth

import (
	"sync"
	"time"

	"github.com/rs/zerolog"

	"go-leader-election/store"
)

// healthWindow is how long a failed store operation keeps the node unready
// unless the same operation succeeds meanwhile: long enough to span the
// retries of a tick, short enough that an operation not tried again (a
// renewal of a run that ended) does not hold readiness down.
const healthWindow = 15 * time.Second

// Health tracks whether the store answers, from the outcome of every store
// call the schedulers make, per operation: a store whose reads work but
// whose commits fail is unhealthy too. A nil *Health ignores reports.
//
// With Log set, it also logs outages, once each, rather than leaving every
// scheduler to log every failed call of every tick: "Store unavailable"
// (warn) at the first failure while no call was failing, and "Store
// recovered" (info) once every job's calls that failed have succeeded
// since, or have not been tried again for healthWindow and another call
// succeeded. Meanwhile the schedulers log their own failed calls at debug.
type Health struct {
	// Log, if set, receives the outage events. The zero Health logs none.
	Log *zerolog.Logger
	// Store names the store in the outage events, with the address tried,
	// e.g. "datastore at localhost:8081".
	Store string

	mu sync.Mutex
	// ops is by operation, for Err; calls by job and operation, for the
	// outage events, so that one job's failing calls are not taken for a
	// recovery by another's succeeding.
	ops   map[string]*opHealth
	calls map[callKey]*opHealth
	// down is when the current outage began, zero when there is none;
	// failed counts its failed calls.
	down   time.Time
	failed int
}

type callKey struct{ job, op string }

type opHealth struct {
	okAt, failedAt time.Time
	err            error
}

// Report records a store call's outcome, for no job in particular.
func (h *Health) Report(op string, err error) { h.ReportCall("", op, err) }

// ReportCall records the outcome of a store call op made for job. The
// protocol's sentinel errors are answers, not failures.
func (h *Health) ReportCall(job, op string, err error) {
	if h == nil {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.ops == nil {
		h.ops, h.calls = map[string]*opHealth{}, map[callKey]*opHealth{}
	}
	o, c := h.ops[op], h.calls[callKey{job, op}]
	if o == nil {
		o = &opHealth{}
		h.ops[op] = o
	}
	if c == nil {
		c = &opHealth{}
		h.calls[callKey{job, op}] = c
	}
	now := time.Now()
	if err == nil || store.IsRefusal(err) {
		o.okAt, c.okAt = now, now
		if !h.down.IsZero() && failing(h.calls, now) == nil {
			if h.Log != nil {
				h.Log.Info().Str("store", h.Store).Str("down_for", now.Sub(h.down).Round(time.Millisecond).String()).
					Int("failed_calls", h.failed).Msg("Store recovered")
			}
			h.down, h.failed = time.Time{}, 0
		}
		return
	}
	o.failedAt, o.err = now, err
	c.failedAt, c.err = now, err
	if h.down.IsZero() {
		h.down = now
		if h.Log != nil {
			ev := h.Log.Warn().Err(err).Str("store", h.Store).Str("op", op)
			if job != "" {
				ev = ev.Str("job", job)
			}
			ev.Msg("Store unavailable")
		}
	}
	h.failed++
}

// Err returns a recent failure of an operation that has not succeeded
// since, or nil.
func (h *Health) Err() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	return failing(h.ops, time.Now())
}

// failing returns the error of an entry that failed within healthWindow
// and has not succeeded since, or nil.
func failing[K comparable](m map[K]*opHealth, now time.Time) error {
	for _, o := range m {
		if o.failedAt.After(o.okAt) && now.Sub(o.failedAt) < healthWindow {
			return o.err
		}
	}
	return nil
}

// FailureLevel is the level of a scheduler's own event about a failed store
// call: debug while an outage this Health has logged goes on, as the outage
// is logged once, and warn otherwise.
func (h *Health) FailureLevel() zerolog.Level {
	if h == nil || h.Log == nil {
		return zerolog.WarnLevel
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.down.IsZero() {
		return zerolog.WarnLevel
	}
	return zerolog.DebugLevel
}
