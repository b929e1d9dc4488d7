package schedulers

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go-leader-election/lease"
	"go-leader-election/store"
)

// A tick that comes while the job's previous run still runs on this node is
// handled by the job's overlap policy (Policy.Overlap). Each keeps to the
// rule that no two runs of a job ever run at once: only the node running
// the job, which holds its lease throughout, ever starts the next run
// before the lease is free, and it starts it only after the running run
// has returned.
//
//   - Forbid (skipOverlap): the tick is marked taken and run by no one.
//   - Replace (replace): the run's context is cancelled; the tick is
//     claimed and started as usual once the run has returned, if before
//     its StartBy, else marked taken as Forbid does.
//   - BufferOne (buffer, startBuffered): the tick is claimed at once (so no
//     other node looks further), and started by this node's Run loop as
//     soon as the run returns, if before its StartBy; a later tick that
//     comes meanwhile takes its place.

// errReplaced is the cause of a run cancelled by the next tick (Replace).
var errReplaced = errors.New("replaced by the next tick")

// skipOverlap marks t taken while the previous run still runs (overlap
// policy Forbid), so that no node runs it. The write also renews the lease,
// as a claim does (until the next tick plus Grace), or for LeaseDuration if
// that is longer, so that the run needs no renewal of its own meanwhile.
func (s *Scheduler) skipOverlap(ctx context.Context, t time.Time) {
	if st, ok := s.markTaken(ctx, t); ok {
		s.obs.Skipped(s.job.Name, SkipOverlap)
		s.log.Info().Str("tick", formatTick(t)).Int64("term", st.Record.Term).
			Str("reason", "previous run still running").Msg("Skipped")
	}
}

// markTaken claims t for this node while its run still runs, renewing the
// lease as skipOverlap says. It reports whether t is now taken by this node
// (or, after a failed write, is still this node's to take); it logs the
// other outcomes.
func (s *Scheduler) markTaken(ctx context.Context, t time.Time) (lease.State, bool) {
	sent := s.clk.Now()
	ttl := max(s.cfg.Schedule.Next(t).Add(s.t.Grace).Sub(sent), s.t.LeaseDuration)
	st, err := s.lease.Claim(ctx, t, ttl)
	switch {
	case err == nil:
		return st, true
	case errors.Is(err, store.ErrPaused):
		s.pausedTick(t) // nothing new runs while paused; the run goes on
	case errors.Is(err, store.ErrTickTaken), errors.Is(err, store.ErrHeld):
		// The lease is another node's: the run's guard has fired (the
		// record shows the other holder), and the run is being cancelled.
		s.sitOut(t, st.Record, "lease held")
	default:
		// Not marked taken, but the lease is still this node's: no other
		// node can claim t before it lapses, and by then the run is
		// cancelled unless a renewal gets through.
		s.log.Warn().Err(err).Str("tick", formatTick(t)).Msg("Skipped tick not recorded")
		s.obs.Skipped(s.job.Name, SkipOverlap)
	}
	return st, false
}

// replace cancels the running run for c's tick (Replace) and waits until it
// has returned, or until the tick's StartBy (then the tick is marked taken,
// as Forbid does) or shutdown. It reports whether the tick may now be
// claimed.
func (s *Scheduler) replace(ctx context.Context, c *tickClaim) bool {
	r := s.running()
	if r == nil {
		return true
	}
	s.log.Info().Str("tick", formatTick(c.t)).Str("replaced", formatTick(r.tok.Tick)).Int64("term", r.tok.Term).
		Msg("Replacing")
	r.cancel(fmt.Errorf("%w (%s)", errReplaced, formatTick(c.t)))
	timer := s.clk.NewTimer(c.startBy.Sub(s.clk.Now()))
	defer timer.Stop()
	select {
	case <-r.ended:
		return true
	case <-ctx.Done():
		return false
	case <-timer.C:
		s.skipOverlap(ctx, c.t)
		return false
	}
}

// buffered is a tick claimed during a run, to start when the run ends
// (BufferOne).
type buffered struct {
	t, startBy time.Time
	after      *activeRun // the run it waits for
}

// buffer claims c's tick while the previous run still runs (BufferOne) and
// keeps it, in place of any tick kept before, to start when that run ends.
func (s *Scheduler) buffer(ctx context.Context, c *tickClaim) {
	r := s.running()
	if _, ok := s.markTaken(ctx, c.t); !ok || r == nil {
		return
	}
	s.mu.Lock()
	old := s.waiting
	s.waiting = &buffered{t: c.t, startBy: c.startBy, after: r}
	s.mu.Unlock()
	if old != nil {
		s.dropBuffered(old, "a later tick came")
	}
	s.log.Info().Str("tick", formatTick(c.t)).Str("running", formatTick(r.tok.Tick)).Msg("Buffered")
}

// bufferedEnded returns a channel closed when the run a buffered tick waits
// for has ended, or nil when no tick waits.
func (s *Scheduler) bufferedEnded() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.waiting == nil {
		return nil
	}
	return s.waiting.after.ended
}

// takeBuffered removes the buffered tick, if any, and returns it.
func (s *Scheduler) takeBuffered() *buffered {
	s.mu.Lock()
	defer s.mu.Unlock()
	b := s.waiting
	s.waiting = nil
	return b
}

// startBuffered starts the buffered tick if the run it waits for has ended:
// at once if before its StartBy, else it is dropped. Only the Run loop
// calls it, as it is the one that starts runs.
func (s *Scheduler) startBuffered(ctx context.Context) {
	s.mu.Lock()
	b := s.waiting
	if b != nil {
		select {
		case <-b.after.ended:
			s.waiting = nil
		default:
			b = nil // its run still runs
		}
	}
	s.mu.Unlock()
	switch {
	case b == nil:
	case !s.clk.Now().Before(b.startBy):
		s.dropBuffered(b, "its run ended past its starting deadline")
	default:
		s.start(ctx, b.t, s.lease.State())
	}
}

// dropBuffered gives up a buffered tick: it is taken, and runs nowhere.
func (s *Scheduler) dropBuffered(b *buffered, reason string) {
	s.obs.Skipped(s.job.Name, SkipOverlap)
	s.log.Info().Str("tick", formatTick(b.t)).Str("reason", reason).Msg("Skipped")
}
