package lease

import (
	"context"
	"time"

	"go-leader-election/store"
)

// ClaimWith is Claim through another store call of the same shape, such as
// store.Control.ClaimManual: it names the record's Version as lapsed when
// this process has judged another holder's lease lapsed, and on success
// holds the lease from the send time, as Claim does. op names the call for
// Config.OnCall.
//
// Unlike Claim, it does not recognise a retry of an attempt whose answer was
// lost: a caller of ClaimWith makes one attempt and reports the outcome.
// If such an attempt was applied, the record names this process and a
// later Claim takes it as its own.
func (l *Handle) ClaimWith(ctx context.Context, op string, tick time.Time, ttl time.Duration,
	claim func(context.Context, store.ClaimRequest) (store.Lease, error)) (State, error) {
	rec, sent, err := l.sendClaim(ctx, op, tick, ttl, claim)
	switch {
	case err == nil:
		l.wrote(rec, sent)
	case store.IsRefusal(err):
		l.Observe(rec)
	}
	return l.State(), err
}

// ObserveUnlessOlder is Observe, except that a record older than the one
// this process knows (a lower Version) is ignored: the answer of a write
// that keeps the Version (store.Control.SetPaused) may come after this
// process has seen a newer write.
func (l *Handle) ObserveUnlessOlder(rec store.Lease) State {
	l.mu.Lock()
	if rec.Version < l.seen.known.Version {
		st := l.stateLocked(l.clk.Now())
		l.mu.Unlock()
		return st
	}
	l.mu.Unlock()
	return l.Observe(rec)
}
