package schedulers

import (
	"context"
	"errors"
	"time"

	"github.com/rs/zerolog"

	"go-leader-election/store"
)

// tick handles tick t: claim it and run the job, or sit out, as decide
// (decide.go) chooses from what this node observes. prev is the tick this
// node handled before t, if any.
func (s *Scheduler) tick(ctx context.Context, t, prev time.Time) {
	c := &tickClaim{t: t, prev: prev, deadline: s.cfg.Schedule.Next(t)}
	read := false
	switch pref := s.preference(); decideStart(s.running() != nil, s.leading(), pref, s.id.Holder) {
	case stepSkipOverlap:
		s.skipOverlap(ctx, t)
		return
	case stepRead:
		read = true
	case stepHandOver:
		if s.handOver(t, pref.To) {
			// Now a follower: look FollowerDelay later, so as to see the
			// preferred node's claim at once (its lapse is judged from that
			// sight), and to claim the tick after all should it not come.
			if !s.sleepUntil(ctx, t.Add(s.t.FollowerDelay)) {
				return
			}
			read = true
		}
	}
	c.before = s.lease.State().Record.Tick // the latest tick on record before this claim
	for {
		st := s.lease.State()
		if read {
			var err error
			if st, err = s.lease.Read(ctx); err != nil {
				if !s.backoff(ctx, t, c.deadline, &c.failures, "get", err) {
					return
				}
				continue
			}
			c.before = st.Record.Tick
		}
		now := s.clk.Now()
		d := decide(tickView{Tick: t, Deadline: c.deadline, Now: now, Read: read, Lease: st, Self: s.id.Holder,
			Pref: s.preference(), DeferUntil: c.deferUntil, Timing: s.t})
		c.deferUntil, read = d.DeferUntil, true
		switch d.Step {
		case stepSitOut:
			s.sitOut(t, st.Record, d.Why)
			return
		case stepPaused:
			s.pausedTick(t) // actions.go
			return
		case stepAwaitLapse:
			s.log.Debug().Str("tick", formatTick(t)).Str("leader", st.Record.Node).
				Time("lapse", st.Until).Msg("Waiting for the lease to lapse")
		}
		if d.Step != stepClaim {
			if !s.sleepUntil(ctx, d.At) {
				return
			}
			continue
		}
		if s.claim(ctx, c, now) {
			return
		}
	}
}

// tickClaim is tick's state across its reads and claims of one tick.
type tickClaim struct {
	t, prev, deadline time.Time
	before            time.Time // the latest tick on record before this claim
	failures          int       // store calls failed in a row
	deferUntil        time.Time // see tickView.DeferUntil
}

// claim claims c's tick, sent at sent, and acts on the answer: it starts
// the run, sits out, or backs off after a failure. It reports whether the
// tick is done with; false means read the record again.
func (s *Scheduler) claim(ctx context.Context, c *tickClaim, sent time.Time) bool {
	from := s.lease.State() // for tookOver (history.go)
	st, err := s.lease.Claim(ctx, c.t, max(c.deadline.Add(s.t.Grace).Sub(sent), s.t.Grace))
	switch {
	case err == nil:
		s.tookOver(from, st)
		if missedByEveryNode(c.prev, c.before) {
			s.obs.Skipped(s.job.Name, SkipMissed)
			s.log.Warn().Str("tick", formatTick(c.prev)).Str("last_run_tick", formatTick(c.before)).
				Msg("Tick missed by every node")
		}
		s.start(ctx, c.t, st)
	case errors.Is(err, store.ErrTickTaken):
		s.sitOut(c.t, st.Record, "tick taken")
	case errors.Is(err, store.ErrPaused):
		s.pausedTick(c.t) // actions.go
	case errors.Is(err, store.ErrHeld):
		return false // someone renewed or took over since the read: read again
	default:
		return !s.backoff(ctx, c.t, c.deadline, &c.failures, "claim", err)
	}
	return true
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
