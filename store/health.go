package store

import (
	"sync"
	"time"

	"github.com/rs/zerolog"
)

// healthWindow is how long a failed store operation keeps the node unready
// unless the same operation succeeds meanwhile: long enough to span the
// retries of a tick, short enough that an operation not tried again (a
// renewal of a run that ended) does not hold readiness down.
const healthWindow = 15 * time.Second

// Health tracks whether the store answers, from the outcome of every store
// call its users make, per job and operation: a store whose reads work
// but whose commits fail is unhealthy too. A nil *Health ignores reports.
//
// With Log set, it also logs outages, once each, rather than leaving every
// scheduler to log every failed call of every tick: "Store unavailable"
// (warn) at the first failure while no call was failing, and "Store
// recovered" (info) once every call that failed has succeeded since, or
// has not been tried again for healthWindow and another call succeeded.
// Meanwhile its users log their own failed calls at debug (FailureLevel).
type Health struct {
	// Log, if set, receives the outage events. The zero Health logs none.
	Log *zerolog.Logger
	// Store names the store in the outage events, with the address tried,
	// e.g. "datastore at localhost:8081".
	Store string

	mu  sync.Mutex
	ops map[callKey]*opHealth
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
// protocol's sentinel errors are answers, not failures. A nil *Health
// ignores it.
func (h *Health) ReportCall(job, op string, err error) {
	if h == nil {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.ops == nil {
		h.ops = map[callKey]*opHealth{}
	}
	k := callKey{job, op}
	o := h.ops[k]
	if o == nil {
		o = &opHealth{}
		h.ops[k] = o
	}
	now := time.Now()
	if err == nil || IsRefusal(err) {
		o.okAt = now
		if !h.down.IsZero() && h.failingLocked(now) == nil {
			if h.Log != nil {
				h.Log.Info().Str("store", h.Store).Str("down_for", now.Sub(h.down).Round(time.Millisecond).String()).
					Int("failed_calls", h.failed).Msg("Store recovered")
			}
			h.down, h.failed = time.Time{}, 0
		}
		return
	}
	o.failedAt, o.err = now, err
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
	return h.failingLocked(time.Now())
}

func (h *Health) failingLocked(now time.Time) error {
	for _, o := range h.ops {
		if o.failedAt.After(o.okAt) && now.Sub(o.failedAt) < healthWindow {
			return o.err
		}
	}
	return nil
}

// FailureLevel is the level of a caller's own event about a failed store
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
