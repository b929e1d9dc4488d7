package schedulers

import (
	"context"
	"time"
)

// handOver gives the job up at tick t, before claiming it, when balance
// prefers another node: the same path as a graceful shutdown (release, so
// that the preferred node, reading FollowerDelay after the tick, claims t
// on time). It is called only between runs. It reports whether it did.
func (s *Scheduler) handOver(t time.Time) bool {
	if s.cfg.Balance == nil {
		return false
	}
	to, ok := s.cfg.Balance.Preferred(s.job.Name)
	if !ok || to.ID == s.id.Holder {
		return false
	}
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

// preferredHere reports whether balance prefers this node for the job;
// ifUnknown is the answer when balance is off or paused.
func (s *Scheduler) preferredHere(ifUnknown bool) bool {
	if s.cfg.Balance == nil {
		return ifUnknown
	}
	to, ok := s.cfg.Balance.Preferred(s.job.Name)
	if !ok {
		return ifUnknown
	}
	return to.ID == s.id.Holder
}

func earliest(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

// lookAgain is when a node waiting for the preferred node, until until,
// reads the record again: every FollowerDelay (at least Grace/10).
func (s *Scheduler) lookAgain(now, until time.Time) time.Time {
	return earliest(now.Add(max(s.t.FollowerDelay, s.t.Grace/10)), until)
}
