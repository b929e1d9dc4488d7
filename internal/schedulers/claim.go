package schedulers

import (
	"context"
	"errors"
	"time"

	"github.com/rs/zerolog"

	"go-leader-election/lease"
	"go-leader-election/store"
)

// tick handles tick t: claim it and run the job, or sit out. prev is the
// tick this node handled before t, if any.
//
// A node that holds the lease claims at once. Any other node first reads the
// record (one plain read), and claims only if the tick is free and the lease
// is released, absent, or lapsed by its own observation. If the holder has
// not claimed t and its lease lapses before the following tick, the node
// looks again every Grace/2 until the lapse and then claims: a holder that
// died still gets its tick run, late by at most Grace.
func (s *Scheduler) tick(ctx context.Context, t, prev time.Time) {
	if s.running() != nil {
		s.skipOverlap(ctx, t)
		return
	}
	deadline := s.cfg.Schedule.Next(t)
	failures := 0
	read := !s.leading()
	if !read && s.handOver(t) {
		// Now a follower: look FollowerDelay later, so as to see the
		// preferred node's claim at once (its lapse is judged from that
		// sight), and to claim the tick after all should it not come.
		if !s.sleepUntil(ctx, t.Add(s.t.FollowerDelay)) {
			return
		}
		read = true
	}
	before := s.lease.State().Record.Tick // the latest tick on record before this claim
	// deferUntil is when this node stops waiting for the preferred node to
	// claim (zero: it has not begun waiting). Meanwhile it looks often, so
	// that it sees the preferred node's claim early: a lapse is judged from
	// a node's first sight of a record.
	var deferUntil time.Time
	deferring := func(now time.Time) bool {
		if deferUntil.IsZero() {
			deferUntil = earliest(now.Add(s.t.Grace/2), deadline)
		}
		return now.Before(deferUntil)
	}
	for {
		if read {
			st, err := s.lease.Read(ctx)
			if err != nil {
				if !s.backoff(ctx, t, deadline, &failures, "get", err) {
					return
				}
				continue
			}
			before = st.Record.Tick
			now := s.clk.Now()
			switch {
			case st.Record.Tick.Equal(t) && st.Record.Holder == s.id.Holder:
				// This node's own claim of t is on record although no
				// answer said so (an answer lost on the network): claim
				// again, and the lease recognises it.
			case !st.Record.Tick.Before(t):
				s.sitOut(t, st.Record, "tick taken")
				return
			case st.Record.Paused:
				s.pausedTick(t) // actions.go
				return
			case st.Kind == lease.Held && !st.Lapsed(now):
				if !st.Until.Before(deadline) {
					if s.preferredHere(false) && deferring(now) {
						// The holder is handing this job over to this
						// node: its release may still be on its way.
						if !s.sleepUntil(ctx, s.lookAgain(now, deferUntil)) {
							return
						}
						continue
					}
					s.sitOut(t, st.Record, "lease held")
					return
				}
				// Look again before the lapse too: a holder that is merely
				// late (a slower clock) claims meanwhile, and seeing its
				// write early keeps the next lapse close to the truth.
				at := earliest(now.Add(s.t.Grace/2), st.Until)
				s.log.Debug().Str("tick", formatTick(t)).Str("leader", st.Record.Node).
					Time("lapse", st.Until).Msg("Waiting for the lease to lapse")
				if !s.sleepUntil(ctx, at) {
					return
				}
				continue
			default:
				// Free (handed over, released): the preferred node claims
				// first; the others look again until Grace/2 later and
				// claim only if it has not (it may be gone). A lapsed
				// lease is claimed at once by whoever sees it first: the
				// holder died, and views of who is alive may disagree for
				// a period; balance moves the job at a later tick.
				if st.Kind != lease.Held && !s.preferredHere(true) && deferring(now) {
					if !s.sleepUntil(ctx, s.lookAgain(now, deferUntil)) {
						return
					}
					continue
				}
			}
		}
		read = true

		sent := s.clk.Now()
		if !sent.Before(deadline) {
			// A slow store made this node look until the following tick:
			// that tick supersedes t, which it leaves unclaimed.
			s.sitOut(t, s.lease.State().Record, "following tick reached")
			return
		}
		from := s.lease.State() // for tookOver (history.go)
		st, err := s.lease.Claim(ctx, t, max(deadline.Add(s.t.Grace).Sub(sent), s.t.Grace))
		switch {
		case err == nil:
			s.tookOver(from, st)
			if !prev.IsZero() && !before.IsZero() && before.Before(prev) {
				s.obs.Skipped(s.job.Name, SkipMissed)
				s.log.Warn().Str("tick", formatTick(prev)).Str("last_run_tick", formatTick(before)).
					Msg("Tick missed by every node")
			}
			s.start(ctx, t, st)
			return
		case errors.Is(err, store.ErrTickTaken):
			s.sitOut(t, st.Record, "tick taken")
			return
		case errors.Is(err, store.ErrPaused):
			s.pausedTick(t) // actions.go
			return
		case errors.Is(err, store.ErrHeld):
			// someone renewed or took over since the read: read again
		default:
			if !s.backoff(ctx, t, deadline, &failures, "claim", err) {
				return
			}
		}
	}
}

// backoff logs a failed store call and waits before the next try, doubling
// from 100ms up to RetryPeriod. It gives up (false) when the next try would
// come after deadline or shutdown begins, and then sits out: no store claim,
// no run.
func (s *Scheduler) backoff(ctx context.Context, t, deadline time.Time, failures *int, op string, err error) bool {
	*failures++
	wait := min(s.t.RetryPeriod, 100*time.Millisecond<<min(*failures-1, 10))
	lvl := s.cfg.Health.FailureLevel() // debug during an outage Health has logged
	s.log.WithLevel(lvl).Err(err).Str("op", op).Str("tick", formatTick(t)).Int("attempt", *failures).
		Dur("retry_in", wait).Msg("Store call failed")
	at := s.clk.Now().Add(wait)
	if !at.Before(deadline) {
		s.sitOutAt(lvl, t, s.lease.State().Record, "store unavailable")
		return false
	}
	return s.sleepUntil(ctx, at)
}

func (s *Scheduler) sitOut(t time.Time, l store.Lease, reason string) {
	s.sitOutAt(zerolog.InfoLevel, t, l, reason)
}

func (s *Scheduler) sitOutAt(lvl zerolog.Level, t time.Time, l store.Lease, reason string) {
	s.obs.Skipped(s.job.Name, SkipSatOut)
	s.log.WithLevel(lvl).Str("tick", formatTick(t)).Str("leader", l.Node).Int64("term", l.Term).
		Str("reason", reason).Msg("Sitting out")
}
