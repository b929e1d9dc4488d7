package lease

import (
	"context"
	"errors"
	"time"

	"go-leader-election/store"
)

// RenewTerm rewrites the hold of this Handle's Holder under term with ttl, on
// the store's judgement alone: the store renews it if the record still names
// Holder under term, and answers store.ErrNotHolder otherwise. Unlike Renew
// it does not ask whether the hold is Mine by this process's reckoning: it is
// for a process that renews on behalf of a holder whose earlier writes it may
// not have made itself (a lease server, whose clients move between servers
// and keep their term). On success the hold is Mine, counted from the send
// time, as after Renew; on store.ErrNotHolder the returned state shows the
// record as it stands (and a guard ends if the record names another holder).
func (l *Handle) RenewTerm(ctx context.Context, term int64, ttl time.Duration) (State, error) {
	sent := l.clk.Now()
	var rec store.Lease
	err := l.call(ctx, "renew", func(ctx context.Context) (err error) {
		rec, err = l.cfg.Store.Renew(ctx, store.RenewRequest{
			Job: l.cfg.Name, Holder: l.cfg.Holder, Term: term, TTL: ttl, Now: sent,
		})
		return err
	})
	switch {
	case err == nil:
		l.wrote(rec, sent)
	case errors.Is(err, store.ErrNotHolder) && rec.Version > 0:
		l.Observe(rec)
	}
	return l.State(), err
}

// ReleaseTerm hands the record back if it names this Handle's Holder under
// term, on the store's judgement alone (store.ErrNotHolder otherwise), for
// the same callers as RenewTerm. Unlike Release it calls the store even when
// this process has never seen the record.
func (l *Handle) ReleaseTerm(ctx context.Context, term int64) error {
	err := l.call(ctx, "release", func(ctx context.Context) error {
		return l.cfg.Store.Release(ctx, store.ReleaseRequest{Job: l.cfg.Name, Holder: l.cfg.Holder, Term: term})
	})
	if err == nil {
		l.mu.Lock()
		l.sentAt = time.Time{}
		if k := l.seen.known; k.Holder == l.cfg.Holder && k.Term == term {
			k.Holder, k.Node = "", ""
			k.Version++
			l.seen.note(k, l.clk.Now())
		}
		l.mu.Unlock()
	}
	return err
}
