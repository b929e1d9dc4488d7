package schedulers

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go-leader-election/internal/runctx"
	"go-leader-election/jobs"
	"go-leader-election/lease"
	"go-leader-election/store"
)

var (
	errLostLeadership  = errors.New("lost leadership")
	errShutdownTimeout = errors.New("shutdown timeout")
)

// activeRun is one run of the job on this node.
type activeRun struct {
	tok    jobs.Token
	info   *runctx.Run // what the job is told of its run, and reports to
	ctx    context.Context
	cancel context.CancelCauseFunc
	// loop is the Run loop's context: once it ends (shutdown), no retry
	// starts.
	loop    context.Context
	startBy time.Time // no retry starts at or after it
	start   time.Time
	done    chan struct{}            // closed when the job has returned
	ended   chan struct{}            // closed when the run's bookkeeping is over
	renewal interface{ Stop() bool } // starts renewWhileRunning when the first renewal is due
	renewed chan struct{}            // closed when renewWhileRunning has returned, if it started
	// renewedAt is the send time of the run's latest successful renewal,
	// triedAt that of its latest attempt (renewWhileRunning's goroutine only).
	renewedAt, triedAt time.Time
}

// start runs the job for tick t under the hold st, just claimed, and
// returns the run, or nil when it did not start.
func (s *Scheduler) start(ctx context.Context, t time.Time, st lease.State) *activeRun {
	now := s.clk.Now()
	if !st.Trusted(now) {
		// The claim took so long to confirm that a peer may soon judge it
		// lapsed: the tick stays taken, and unrun, rather than risk overlap.
		s.obs.LeaseLost(s.job.Name)
		s.obs.Skipped(s.job.Name, SkipMissed) // taken, so no other node runs it either
		s.log.Warn().Str("tick", formatTick(t)).Int64("term", st.Record.Term).
			Str("reason", "claim confirmed too late to run safely").Msg("Lost leadership")
		return nil
	}
	tok := jobs.Token{Name: s.job.Name, Tick: t, Term: st.Record.Term}
	info := &runctx.Run{Job: s.job.Name, Tick: t, Term: tok.Term, Node: s.id.Node, ID: store.RunID(s.job.Name, t),
		Attempt: 1, KillGrace: s.t.KillGrace(), Output: s.outputTo(t)}
	r := &activeRun{tok: tok, info: info, loop: ctx, startBy: s.startBy(t, s.cfg.Schedule.Next(t)), start: now,
		done: make(chan struct{}), ended: make(chan struct{}), renewed: make(chan struct{})}
	jobCtx := runctx.With(jobs.WithToken(context.WithoutCancel(ctx), tok), info)
	r.ctx, r.cancel = s.lease.Guard(jobCtx, func(cause error) error { return s.lost(r, cause) })
	s.mu.Lock()
	s.run = r
	s.mu.Unlock()

	s.obs.Started(s.job.Name, r.start.Sub(t))
	s.log.Info().Str("tick", formatTick(t)).Int64("term", tok.Term).Msg("Running")
	// Most runs end while their claim still covers them, and are never
	// renewed: a timer, not a goroutine, waits for the first renewal.
	r.renewal = s.clk.AfterFunc(s.renewDue(r, st).Sub(now), func() { s.renewWhileRunning(r) })
	go s.execute(r)
	return r
}

func (s *Scheduler) running() *activeRun {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.run
}

// lost is called by the lease's guard, before it cancels the run, when this
// node can no longer be sure it holds the lease.
func (s *Scheduler) lost(r *activeRun, cause error) error {
	reason := "lease not renewed within the renew deadline"
	if errors.Is(cause, lease.ErrNotHolder) {
		reason = "another node holds the lease"
	}
	s.obs.LeaseLost(s.job.Name)
	s.log.Warn().Str("tick", formatTick(r.tok.Tick)).Int64("term", r.tok.Term).
		Str("reason", reason).Msg("Lost leadership")
	return fmt.Errorf("%w: %w", errLostLeadership, cause)
}

func (s *Scheduler) execute(r *activeRun) {
	defer close(r.ended)
	err := withCause(r.ctx, s.call(r)(r.ctx))
	close(r.done)
	renewing := !r.renewal.Stop() // renewWhileRunning has started, and sees done
	dur := s.clk.Now().Sub(r.start)
	r.cancel(nil)

	rec := &LastRun{Tick: r.tok.Tick, Start: r.start, Duration: dur}
	ev := s.log.Info()
	if err != nil {
		rec.Error = err.Error()
		ev = s.log.Error().Err(err)
		if p := (*panicError)(nil); errors.As(err, &p) {
			ev = ev.Str("stack", p.stack)
		}
	}
	if r.info.Attempt > 1 {
		ev = ev.Int("attempts", r.info.Attempt)
	}
	ev.Str("tick", formatTick(r.tok.Tick)).Int64("term", r.tok.Term).Str("duration", dur.String()).Msg("Finished")
	s.obs.Finished(s.job.Name, dur, err)
	s.recordRun(r, dur, err) // history.go

	s.mu.Lock()
	s.run, s.last = nil, rec
	s.mu.Unlock()

	// Renewals during the run may have shortened the lease to
	// LeaseDuration; hold it again until the next tick plus Grace, as
	// between any two runs.
	if renewing {
		<-r.renewed // its renewal in flight, if any, first
	}
	st := s.lease.State()
	want := s.cfg.Schedule.Next(s.clk.Now()).Add(s.t.Grace)
	if st.Kind == lease.Mine && st.Until.Before(want) {
		s.renew(r, want.Sub(s.clk.Now()))
	}
}

// renewWhileRunning keeps the lease trusted until the job returns, writing
// it only when renewDue says so.
func (s *Scheduler) renewWhileRunning(r *activeRun) {
	defer close(r.renewed)
	for {
		select {
		case <-r.done:
			return
		default:
		}
		st := s.lease.State()
		if st.Kind != lease.Mine {
			return // the guard has cancelled the run, or is about to
		}
		if wait := s.renewDue(r, st).Sub(s.clk.Now()); wait > 0 {
			timer := s.clk.NewTimer(wait)
			select {
			case <-r.done:
				timer.Stop()
				return
			case <-timer.C:
			}
			continue // a tick written meanwhile may have moved the due time
		}
		r.triedAt = s.clk.Now()
		if _, ok := s.renew(r, s.t.LeaseDuration); !ok {
			return
		}
	}
}

// renewDue is when the run's next renewal is due, given the hold st.
//
// A tick write (the claim, or a tick marked taken during the run) holds the
// lease until the next tick plus Grace; it is left alone until RetryPeriod/8
// before its trusted time ends, so that a run that ends within it writes
// nothing more, and a holder that dies in it leaves its peers the record
// they saw at the tick. After a renewal, the next is due RetryPeriod later:
// a LeaseDuration lease stays trusted for RenewDeadline, so a failed
// renewal has time to be retried. A failed attempt is retried after half
// the trust left, at least RetryPeriod/8 and at most RetryPeriod later.
func (s *Scheduler) renewDue(r *activeRun, st lease.State) time.Time {
	sent := st.Until.Add(-st.Record.TTL) // the latest write's send time
	due := st.TrustedUntil.Add(-s.t.RetryPeriod / 8)
	if sent.Equal(r.renewedAt) {
		due = sent.Add(s.t.RetryPeriod)
	}
	if !r.triedAt.IsZero() {
		retry := min(s.t.RetryPeriod, max(st.TrustedUntil.Sub(r.triedAt)/2, s.t.RetryPeriod/8))
		if at := r.triedAt.Add(retry); at.After(due) {
			due = at
		}
	}
	return due
}

// renew extends the lease by ttl. It reports false once leadership is lost
// (the lease's guard has then cancelled the run).
func (s *Scheduler) renew(r *activeRun, ttl time.Duration) (lease.State, bool) {
	sent := s.clk.Now()
	st, err := s.lease.Renew(r.ctx, ttl)
	switch {
	case err == nil:
		r.renewedAt = sent
		return st, true
	case errors.Is(err, lease.ErrNotHolder), errors.Is(err, lease.ErrNotMine):
		return st, false
	default:
		s.log.WithLevel(s.cfg.Health.FailureLevel()).Err(err).Str("tick", formatTick(r.tok.Tick)).Msg("Renew failed")
		return st, true
	}
}

// outputTo logs the output of tick t's run, a line an event.
func (s *Scheduler) outputTo(t time.Time) func(stream, line string) {
	tick := formatTick(t)
	return func(stream, line string) {
		s.log.Info().Str("tick", tick).Str("stream", stream).Str("line", line).Msg("Output")
	}
}
