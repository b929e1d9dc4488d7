package electionclient

import (
	"context"
	"sync"
	"time"
)

// trusted is what a Leadership with a lease of its own and a Session share:
// a context that ends, with a cause, when the hold ends, and the time until
// which the hold is trusted, after which it ends by itself (ErrExpired)
// unless a renewal moved it.
type trusted struct {
	ctx    context.Context
	cancel context.CancelCauseFunc

	mu    sync.Mutex
	ttl   time.Duration // as last granted
	until time.Time
	timer *time.Timer
}

// start begins the hold, keeping parent's values but not its cancellation,
// with ttl granted and trusted until until (zero: it never expires by
// itself).
func (t *trusted) start(parent context.Context, ttl time.Duration, until time.Time) {
	t.ctx, t.cancel = context.WithCancelCause(context.WithoutCancel(parent))
	t.mu.Lock()
	t.ttl, t.until = ttl, until
	if !until.IsZero() {
		t.timer = time.AfterFunc(time.Until(until), t.expire)
	}
	t.mu.Unlock()
}

// grantedTTL returns the TTL last granted.
func (t *trusted) grantedTTL() time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.ttl
}

// trustedUntil returns when the hold ends unless renewed first.
func (t *trusted) trustedUntil() time.Time {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.until
}

// cause is nil while the hold lasts, and then why it ended.
func (t *trusted) cause() error {
	if t.ctx.Err() == nil {
		return nil
	}
	return context.Cause(t.ctx)
}

// renewed moves the trusted time to until, with ttl granted, unless the
// hold has ended or until is not later.
func (t *trusted) renewed(until time.Time, ttl time.Duration) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.ctx.Err() != nil || !until.After(t.until) {
		return
	}
	t.ttl, t.until = ttl, until
	t.timer.Reset(time.Until(until))
}

// expire ends the hold at the trusted time, unless a renewal moved it.
func (t *trusted) expire() {
	t.mu.Lock()
	if left := time.Until(t.until); left > 0 {
		t.timer.Reset(left)
		t.mu.Unlock()
		return
	}
	t.mu.Unlock()
	t.cancel(ErrExpired)
}

// stop ends the hold with cause, and its timer.
func (t *trusted) stop(cause error) {
	t.cancel(cause)
	t.mu.Lock()
	if t.timer != nil {
		t.timer.Stop()
	}
	t.mu.Unlock()
}
