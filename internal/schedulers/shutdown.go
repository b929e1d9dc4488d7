package schedulers

import (
	"context"
	"errors"

	"go-leader-election/store"
)

// shutdown waits for a running job (cancelling it after ShutdownTimeout),
// then releases the lease if the record still names this node.
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
	st := s.lease.State()
	if st.Record.Holder == s.id.Holder {
		err := s.lease.Release(context.Background())
		switch {
		case err == nil:
			s.log.Info().Int64("term", st.Record.Term).Msg("Released")
		case errors.Is(err, store.ErrNotHolder):
			s.log.Info().Int64("term", st.Record.Term).Msg("Lease already taken over; nothing to release")
		default:
			s.log.Warn().Err(err).Int64("term", st.Record.Term).Msg("Release failed; peers take over when the lease lapses")
		}
	}
	s.log.Info().Msg("Scheduler stopped")
}
