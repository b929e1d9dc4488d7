package lease

import (
	"context"
	"sync"
	"time"
)

// Guard returns a context derived from parent that is cancelled, with cause
// ErrExpired or ErrNotHolder, as soon as this process can no longer trust
// its hold: its trusted time passes with no newer write, or a renewal is
// refused. onLost, if set, is called once just before the cancellation (so
// that a log line can precede whatever the cancellation causes), and
// returns the cause to cancel with (its argument, or an error wrapping it).
// Calling
// the returned cancel function stops the guard and cancels the context with
// the given cause. One guard is active per Handle at a time; a new one
// replaces the old. A guard on a hold that is not trusted now fires at once.
func (l *Handle) Guard(parent context.Context, onLost func(cause error) error) (context.Context, context.CancelCauseFunc) {
	ctx, cancel := context.WithCancelCause(parent)
	g := &guard{l: l, cancel: cancel, onLost: onLost}
	l.mu.Lock()
	now := l.clk.Now()
	g.timer = l.clk.AfterFunc(l.stateLocked(now).TrustedUntil.Sub(now), g.check)
	l.guard = g
	l.mu.Unlock()
	return ctx, func(cause error) {
		g.stop()
		cancel(cause)
	}
}

// guard cancels one context when the hold it watches is lost.
type guard struct {
	l      *Handle
	cancel context.CancelCauseFunc
	onLost func(error) error
	timer  *time.Timer
	once   sync.Once
}

// rearm moves the deadline to trusted; l.mu is held. A nil guard is a no-op.
func (g *guard) rearm(trusted, now time.Time) {
	if g != nil {
		g.timer.Reset(trusted.Sub(now))
	}
}

// check runs at the deadline: it re-arms if a write moved it, and otherwise
// gives the hold up.
func (g *guard) check() {
	l := g.l
	l.mu.Lock()
	now := l.clk.Now()
	st := l.stateLocked(now)
	if l.guard != g {
		l.mu.Unlock()
		return
	}
	if st.Trusted(now) {
		g.timer.Reset(st.TrustedUntil.Sub(now))
		l.mu.Unlock()
		return
	}
	l.sentAt = time.Time{}
	l.mu.Unlock()
	g.fire(ErrExpired)
}

func (g *guard) fire(cause error) {
	g.once.Do(func() {
		g.stop()
		if g.onLost != nil {
			cause = g.onLost(cause)
		}
		g.cancel(cause)
	})
}

func (g *guard) stop() {
	g.timer.Stop()
	l := g.l
	l.mu.Lock()
	if l.guard == g {
		l.guard = nil
	}
	l.mu.Unlock()
}

// lose ends the active guard, if any, with cause.
func (l *Handle) lose(cause error) {
	l.mu.Lock()
	g := l.guard
	l.mu.Unlock()
	if g != nil {
		g.fire(cause)
	}
}
