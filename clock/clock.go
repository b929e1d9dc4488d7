// Package clock is the time source the daemon is given, so that tests can
// run the lease protocol on synthetic time and operators can shift a node's
// wall clock (CLOCK_OFFSET) to rehearse clock skew.
package clock

import "time"

// Clock tells the time and makes timers. Durations are measured the same way
// by every Clock; only the wall-clock reading differs.
type Clock interface {
	Now() time.Time
	NewTimer(d time.Duration) *time.Timer
	AfterFunc(d time.Duration, f func()) *time.Timer
}

// Real is the system clock.
type Real struct{}

// Now implements Clock.
func (Real) Now() time.Time { return time.Now() }

// NewTimer implements Clock.
func (Real) NewTimer(d time.Duration) *time.Timer { return time.NewTimer(d) }

// AfterFunc implements Clock.
func (Real) AfterFunc(d time.Duration, f func()) *time.Timer { return time.AfterFunc(d, f) }

// Offset returns c with its wall-clock reading shifted by d (which may be
// negative). Timers are unaffected: a skewed clock still ticks at one second
// per second.
func Offset(c Clock, d time.Duration) Clock {
	if d == 0 {
		return c
	}
	return offset{c, d}
}

type offset struct {
	Clock
	d time.Duration
}

func (o offset) Now() time.Time { return o.Clock.Now().Add(o.d) }

// OffsetOf returns the shift of a clock made by Offset, 0 for any other.
func OffsetOf(c Clock) time.Duration {
	if o, ok := c.(offset); ok {
		return o.d
	}
	return 0
}
