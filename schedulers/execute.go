package schedulers

import (
	"context"
	"errors"
	"sync"
	"time"

	"go-leader-election/jobs"
	"go-leader-election/store"
)

var (
	errLostLeadership  = errors.New("lost leadership")
	errShutdownTimeout = errors.New("shutdown timeout")
)

// activeRun is one run of the job on this node.
type activeRun struct {
	tok     jobs.Token
	ctx     context.Context
	cancel  context.CancelCauseFunc
	start   time.Time
	done    chan struct{} // closed when the job has returned
	ended   chan struct{} // closed when the run's bookkeeping is over
	lost    sync.Once
	expiry  *time.Timer // re-checks the trust deadline
	renewal *time.Timer // starts renewWhileRunning when the first renewal is due
}

// start runs the job for tick t under lease l, just claimed.
func (s *Scheduler) start(ctx context.Context, t time.Time, l store.Lease) {
	s.mu.Lock()
	trusted := s.trustedUntilLocked()
	s.mu.Unlock()
	if !s.clk.Now().Before(trusted) {
		// The claim took so long to confirm that a peer may soon judge it
		// lapsed: the tick stays taken, and unrun, rather than risk overlap.
		s.obs.LeaseLost(s.job.Name)
		s.obs.Skipped(s.job.Name, SkipMissed) // taken, so no other node runs it either
		s.log.Warn().Str("tick", formatTick(t)).Int64("term", l.Term).
			Str("reason", "claim confirmed too late to run safely").Msg("Lost leadership")
		return
	}
	tok := jobs.Token{Job: s.job.Name, Tick: t, Term: l.Term}
	runCtx, cancel := context.WithCancelCause(jobs.WithToken(context.WithoutCancel(ctx), tok))
	r := &activeRun{tok: tok, ctx: runCtx, cancel: cancel, start: s.clk.Now(),
		done: make(chan struct{}), ended: make(chan struct{})}
	r.expiry = s.clk.AfterFunc(trusted.Sub(r.start), func() { s.checkTrust(r) })
	s.mu.Lock()
	s.run = r
	s.mu.Unlock()

	s.obs.Started(s.job.Name, r.start.Sub(t))
	s.log.Info().Str("tick", formatTick(t)).Int64("term", l.Term).Msg("Running")
	// Most runs end before their first renewal is due: a timer, not a
	// goroutine, waits for it.
	r.renewal = s.clk.AfterFunc(s.renewWait(r.start, trusted), func() { s.renewWhileRunning(r) })
	go s.execute(r)
}

func (s *Scheduler) running() *activeRun {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.run
}

func (s *Scheduler) execute(r *activeRun) {
	defer close(r.ended)
	err := s.job.Run(r.ctx)
	if cause := context.Cause(r.ctx); cause != nil && (err == nil || errors.Is(err, context.Canceled)) {
		err = cause // why the run was cancelled says more than "context canceled"
	}
	close(r.done)
	r.expiry.Stop()
	r.renewal.Stop()
	dur := s.clk.Now().Sub(r.start)
	r.cancel(nil)

	rec := &RunRecord{Tick: r.tok.Tick, Start: r.start, Duration: dur}
	ev := s.log.Info()
	if err != nil {
		rec.Error = err.Error()
		ev = s.log.Error().Err(err)
	}
	ev.Str("tick", formatTick(r.tok.Tick)).Int64("term", r.tok.Term).Str("duration", dur.String()).Msg("Finished")
	s.obs.Finished(s.job.Name, dur, err)

	s.mu.Lock()
	s.run, s.last = nil, rec
	holding := s.known.Holder == s.id.Holder && !s.sentAt.IsZero()
	until := s.sentAt.Add(s.ttl)
	s.mu.Unlock()

	// Renewals during the run shortened the lease to LeaseDuration; hold it
	// again until the next tick plus Grace, as between any two runs.
	want := s.cfg.Schedule.Next(s.clk.Now()).Add(s.t.Grace)
	if holding && until.Before(want) {
		s.renew(r, want.Sub(s.clk.Now()))
	}
}

// renewWhileRunning renews the lease until the job returns: now, then again
// within RetryPeriod and before half the trusted time is gone.
func (s *Scheduler) renewWhileRunning(r *activeRun) {
	for {
		select {
		case <-r.done:
			return
		default:
		}
		last := s.clk.Now()
		if !s.renew(r, s.t.LeaseDuration) {
			return
		}
		s.mu.Lock()
		trusted := s.trustedUntilLocked()
		s.mu.Unlock()
		if trusted.IsZero() {
			return
		}
		timer := s.clk.NewTimer(last.Add(s.renewWait(last, trusted)).Sub(s.clk.Now()))
		select {
		case <-r.done:
			timer.Stop()
			return
		case <-timer.C:
		}
	}
}

// renewWait is how long after last to renew a lease trusted until trusted:
// half the trust left, but not hammering a failing store either.
func (s *Scheduler) renewWait(last, trusted time.Time) time.Duration {
	return min(s.t.RetryPeriod, max(trusted.Sub(last)/2, s.t.RetryPeriod/8))
}

// renew extends the lease by ttl. It reports false once leadership is lost.
func (s *Scheduler) renew(r *activeRun, ttl time.Duration) bool {
	sent := s.clk.Now()
	var l store.Lease
	err := s.call("renew", func(ctx context.Context) (err error) {
		l, err = s.cfg.Store.Renew(ctx, store.RenewRequest{
			Job: s.job.Name, Holder: s.id.Holder, Term: r.tok.Term, TTL: ttl, Now: sent,
		})
		return err
	})
	switch {
	case err == nil:
		s.noteWrite(l, sent)
		return true
	case errors.Is(err, store.ErrNotHolder):
		s.note(l)
		s.lose(r, "another node holds the lease")
		return false
	default:
		s.log.WithLevel(s.cfg.Health.failureLevel()).Err(err).Str("tick", formatTick(r.tok.Tick)).Msg("Renew failed")
		return true
	}
}

// checkTrust runs when the trust deadline may have passed: it re-arms the
// timer if a renewal moved the deadline, and otherwise gives the run up.
func (s *Scheduler) checkTrust(r *activeRun) {
	s.mu.Lock()
	trusted := s.trustedUntilLocked()
	now := s.clk.Now()
	s.mu.Unlock()
	if now.Before(trusted) {
		r.expiry.Reset(trusted.Sub(now))
		return
	}
	s.lose(r, "lease not renewed within the renew deadline")
}

// lose cancels r: this node can no longer be sure it holds the lease.
func (s *Scheduler) lose(r *activeRun, reason string) {
	r.lost.Do(func() {
		s.mu.Lock()
		s.sentAt = time.Time{}
		s.mu.Unlock()
		s.obs.LeaseLost(s.job.Name)
		// Logged before the cancellation, so that it precedes the run's
		// Finished event.
		s.log.Warn().Str("tick", formatTick(r.tok.Tick)).Int64("term", r.tok.Term).
			Str("reason", reason).Msg("Lost leadership")
		r.cancel(errLostLeadership)
	})
}

// shutdown waits for a running job (cancelling it after ShutdownTimeout),
// then releases the lease if this node holds it.
func (s *Scheduler) shutdown() {
	if r := s.running(); r != nil {
		timer := s.clk.NewTimer(s.t.ShutdownTimeout)
		select {
		case <-r.ended:
			timer.Stop()
		case <-timer.C:
			s.log.Warn().Str("tick", formatTick(r.tok.Tick)).Dur("timeout", s.t.ShutdownTimeout).
				Msg("Shutdown timeout: cancelling the run")
			r.cancel(errShutdownTimeout)
			<-r.ended
		}
	}
	s.mu.Lock()
	// Even a hold this node no longer trusts may still be on record: the
	// store checks the term, so trying costs nothing and frees peers early.
	l, mine := s.known, s.known.Holder == s.id.Holder
	s.mu.Unlock()
	if mine {
		err := s.call("release", func(ctx context.Context) error {
			return s.cfg.Store.Release(ctx, s.job.Name, s.id.Holder, l.Term)
		})
		switch {
		case err == nil:
			s.mu.Lock()
			s.sentAt = time.Time{}
			s.known.Holder, s.known.Node = "", ""
			s.mu.Unlock()
			s.log.Info().Int64("term", l.Term).Msg("Released")
		case errors.Is(err, store.ErrNotHolder):
			s.log.Info().Int64("term", l.Term).Msg("Lease already taken over; nothing to release")
		default:
			s.log.Warn().Err(err).Int64("term", l.Term).Msg("Release failed; peers take over when the lease lapses")
		}
	}
	s.log.Info().Msg("Scheduler stopped")
}
