package schedulers

import (
	"context"
	"errors"

	"go-leader-election/store"
)

// shutdown waits for a running job (cancelling it after ShutdownTimeout),
// then releases the lease if the record still names this node. The release
// names the successor, the node balance prefers among the others: the
// others see this node release the job, and none defers to it.
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
	if b := s.takeBuffered(); b != nil {
		s.dropBuffered(b, "shutdown") // overlap.go
	}
	st := s.lease.State()
	if st.Record.Holder == s.id.Holder {
		err := s.lease.Release(context.Background())
		switch {
		case err == nil:
			ev := s.log.Info().Int64("term", st.Record.Term)
			if to := s.successor(s.id.Holder); to.Known {
				ev = ev.Str("to", to.To.Node)
			}
			ev.Msg("Released")
		case errors.Is(err, store.ErrNotHolder):
			s.log.Info().Int64("term", st.Record.Term).Msg("Lease already taken over; nothing to release")
		default:
			s.log.Warn().Err(err).Int64("term", st.Record.Term).Msg("Release failed; peers take over when the lease lapses")
		}
	}
	s.log.Info().Msg("Scheduler stopped")
}
