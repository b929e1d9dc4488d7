package schedulers

import (
	"fmt"
	"time"
)

// Timing tunes the lease protocol. Its defaults suit ticks of a second and
// up. Validate reports the first broken invariant.
//
// The lease a node holds follows its schedule: a claim (and a tick marked
// taken during a run) holds the lease until the next tick plus Grace, so
// that between runs and in most runs no renewal is written at all. Only a
// run that outlasts its claim's trusted time is renewed, LeaseDuration at a
// time, so that a holder that dies in a run holds up its peers for at most
// about LeaseDuration.
type Timing struct {
	// LeaseDuration is the lease a renewal grants while a run outlasts its
	// claim: a follower takes the lease over only after it has seen the
	// record unchanged for this long by its own clock, so it is also about
	// how late a peer runs the next tick when a holder dies in such a run.
	// Default 3s. Invariant: greater than RenewDeadline.
	LeaseDuration time.Duration
	// RenewDeadline is how long after sending a LeaseDuration renewal the
	// holder still trusts it; past it, the run's context is cancelled. The
	// fraction RenewDeadline/LeaseDuration applies to every write (a claim
	// held until the next tick too), and the rest of each lease is the time
	// a cancelled job has to stop before a peer may take over.
	// Default 2s. Invariant: greater than RetryPeriod and StoreTimeout.
	RenewDeadline time.Duration
	// RetryPeriod is the wait between two renewals while a run outlasts its
	// claim (so a job's lease is written at most about once per RetryPeriod
	// besides its tick writes: Datastore sustains about one write per second
	// per entity), and the cap of the backoff between failed store calls.
	// Default 1s. Invariant: positive.
	RetryPeriod time.Duration
	// Grace is how long past its next tick the holder keeps the lease
	// between runs. It bounds how late a peer runs the tick of a holder that
	// died (the lease lapses Grace after that tick), and must cover the
	// holder's lateness in claiming (store latency, scheduling delay).
	// Default 500ms. Invariant: greater than FollowerDelay.
	Grace time.Duration
	// FollowerDelay is how long after a tick a node that does not hold the
	// lease first reads it, so that the holder's claim is usually stored
	// already and sitting out costs one read. Default 50ms. Invariant: >= 0.
	FollowerDelay time.Duration
	// StoreTimeout bounds every store call. Default 1.5s. Invariant:
	// positive and less than RenewDeadline, so that a renewal that hangs
	// gives way to a retry while the run is still trusted.
	StoreTimeout time.Duration
	// ShutdownTimeout is how long a run may go on after shutdown begins
	// before its context is cancelled. Default 25s. Invariant: >= 0.
	ShutdownTimeout time.Duration
}

// DefaultTiming returns the defaults documented on Timing.
func DefaultTiming() Timing {
	return Timing{
		LeaseDuration:   3 * time.Second,
		RenewDeadline:   2 * time.Second,
		RetryPeriod:     time.Second,
		Grace:           500 * time.Millisecond,
		FollowerDelay:   50 * time.Millisecond,
		StoreTimeout:    1500 * time.Millisecond,
		ShutdownTimeout: 25 * time.Second,
	}
}

// Validate checks the invariants documented on each field. Its messages name
// the fields; package config maps them to variables.
func (t Timing) Validate() error {
	switch {
	case t.RetryPeriod <= 0:
		return fmt.Errorf("timing: RetryPeriod %s must be positive", t.RetryPeriod)
	case t.StoreTimeout <= 0:
		return fmt.Errorf("timing: StoreTimeout %s must be positive", t.StoreTimeout)
	case t.RenewDeadline <= t.RetryPeriod:
		return fmt.Errorf("timing: RenewDeadline %s must be greater than RetryPeriod %s", t.RenewDeadline, t.RetryPeriod)
	case t.RenewDeadline <= t.StoreTimeout:
		return fmt.Errorf("timing: RenewDeadline %s must be greater than StoreTimeout %s", t.RenewDeadline, t.StoreTimeout)
	case t.LeaseDuration <= t.RenewDeadline:
		return fmt.Errorf("timing: LeaseDuration %s must be greater than RenewDeadline %s", t.LeaseDuration, t.RenewDeadline)
	case t.FollowerDelay < 0:
		return fmt.Errorf("timing: FollowerDelay %s must not be negative", t.FollowerDelay)
	case t.Grace <= t.FollowerDelay:
		return fmt.Errorf("timing: Grace %s must be greater than FollowerDelay %s", t.Grace, t.FollowerDelay)
	case t.ShutdownTimeout < 0:
		return fmt.Errorf("timing: ShutdownTimeout %s must not be negative", t.ShutdownTimeout)
	}
	return nil
}

// trust is the fraction of a granted TTL the holder acts on:
// RenewDeadline/LeaseDuration, the same for a LeaseDuration renewal and for
// a claim held until the next tick.
func (t Timing) trust() float64 { return float64(t.RenewDeadline) / float64(t.LeaseDuration) }

// KillGrace is how long a process a run started has, once the run's context
// ends, between SIGTERM and SIGKILL: half of what is left of the lease when
// a run is cancelled for want of a renewal (LeaseDuration - RenewDeadline),
// so that the process is gone before a peer may take the lease over.
func (t Timing) KillGrace() time.Duration { return (t.LeaseDuration - t.RenewDeadline) / 2 }
