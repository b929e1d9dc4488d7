package schedulers

import (
	"context"
	"time"

	"go-leader-election/internal/balance"
)

// handOver gives the job up at tick t, before claiming it, to the node
// balance prefers (to): the same path as a graceful shutdown (release, so
// that the preferred node, reading FollowerDelay after the tick, claims t
// on time). It is called only between runs. It reports whether it did.
func (s *Scheduler) handOver(t time.Time, to balance.Candidate) bool {
	term := s.lease.State().Record.Term
	if err := s.lease.Release(context.Background()); err != nil {
		s.log.Warn().Err(err).Str("tick", formatTick(t)).Str("to", to.Node).
			Msg("Hand-over failed; keeping the job")
		return false
	}
	s.obs.Skipped(s.job.Name, SkipSatOut)
	s.log.Info().Str("tick", formatTick(t)).Str("to", to.Node).Int64("term", term).Msg("Handing over")
	return true
}

// successor is balance's preference for the job among the nodes other than
// the process without, which released it: the node that claims next in its
// place, as a hand-over names the node it gives the job to.
func (s *Scheduler) successor(without string) preference {
	if s.cfg.Balance == nil {
		return preference{}
	}
	to, ok := s.cfg.Balance.PreferredWithout(s.job.Name, without)
	return preference{Known: ok, To: to}
}

// preference is balance's current answer for the job.
func (s *Scheduler) preference() preference {
	if s.cfg.Balance == nil {
		return preference{}
	}
	to, ok := s.cfg.Balance.Preferred(s.job.Name)
	return preference{Known: ok, To: to}
}
