package schedulers

import (
	"context"
	"errors"
	"time"

	"go-leader-election/store"
)

// skipOverlap marks t taken while the previous run still runs (overlap
// policy Forbid), so that no node runs it. The write also renews the lease,
// as a claim does (until the next tick plus Grace), or for LeaseDuration if
// that is longer, so that the run needs no renewal of its own meanwhile.
func (s *Scheduler) skipOverlap(ctx context.Context, t time.Time) {
	sent := s.clk.Now()
	ttl := max(s.cfg.Schedule.Next(t).Add(s.t.Grace).Sub(sent), s.t.LeaseDuration)
	st, err := s.lease.Claim(ctx, t, ttl)
	switch {
	case err == nil:
		s.obs.Skipped(s.job.Name, SkipOverlap)
		s.log.Info().Str("tick", formatTick(t)).Int64("term", st.Record.Term).
			Str("reason", "previous run still running").Msg("Skipped")
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
}
