package schedulers

import (
	"context"
	"errors"
	"time"

	"github.com/rs/zerolog"

	"go-leader-election/internal/schedule"
	"go-leader-election/lease"
	"go-leader-election/store"
)

// tick handles tick t: claim it and run the job, or sit out, as decide
// (decide.go) chooses from what this node observes. prev is the tick this
// node handled before t, if any.
func (s *Scheduler) tick(ctx context.Context, t, prev time.Time) {
	s.startBuffered(ctx) // a tick buffered during a run that has just ended (overlap.go)
	c := &tickClaim{t: t, prev: prev, deadline: s.cfg.Schedule.Next(t)}
	c.startBy = s.startBy(t, c.deadline)
	read, ok := s.startStep(ctx, c)
	if !ok {
		return
	}
	c.before = s.lease.State().Record.Tick // the latest tick on record before this claim
	s.handle(ctx, c, read)
}

// handle reads (when read is true, or after the first decision), decides
// and acts until c's tick is claimed and started, sat out, or given up.
func (s *Scheduler) handle(ctx context.Context, c *tickClaim, read bool) {
	t := c.t
	for {
		st := s.lease.State()
		if read {
			var err error
			if st, err = s.readFor(ctx, c); err != nil {
				if !s.backoff(ctx, c, "get", err) {
					return
				}
				continue
			}
		}
		now := s.clk.Now()
		d := decide(s.view(c, now, read, st))
		c.deferUntil, read = d.DeferUntil, true
		switch d.Step {
		case stepSitOut, stepPaused:
			s.passOver(c, d.Step, zerolog.InfoLevel, st.Record, d.Why)
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

// startStep takes a node's first step at c's tick (decideStart): it applies
// the overlap policy while a run still runs, and hands the job over when
// balance prefers another node. It reports whether to read the record
// before deciding, and false for ok when the tick is done with.
func (s *Scheduler) startStep(ctx context.Context, c *tickClaim) (read, ok bool) {
	pref := s.preference()
	switch decideStart(s.running() != nil, s.cfg.Policy.Overlap, s.leading(), pref, s.id.Holder) {
	case stepSkipOverlap:
		s.skipOverlap(ctx, c.t)
		return false, false
	case stepBuffer:
		s.buffer(ctx, c)
		return false, false
	case stepReplace:
		if !s.replace(ctx, c) {
			return false, false
		}
		// The replaced run has ended: claim as any tick is claimed.
		return s.startStep(ctx, c)
	case stepRead:
		return true, true
	case stepHandOver:
		if s.handOver(c.t, pref.To) {
			// Now a follower: look FollowerDelay later, so as to see the
			// preferred node's claim at once (its lapse is judged from that
			// sight), and to claim the tick after all should it not come.
			return true, s.sleepUntil(ctx, c.t.Add(s.t.FollowerDelay))
		}
	}
	return false, true
}

// readFor reads the record for c's tick, noting the latest tick on record
// and who released the lease, if this node saw it do so.
func (s *Scheduler) readFor(ctx context.Context, c *tickClaim) (lease.State, error) {
	seen := s.lease.State().Record
	st, err := s.lease.Read(ctx)
	if err != nil {
		return st, err
	}
	c.before = st.Record.Tick
	switch rec := st.Record; {
	case rec.Held():
		c.releasedBy = ""
	case seen.Held() && seen.Term == rec.Term:
		c.releasedBy = seen.Holder // the same term, no holder: that one released it
	}
	return st, nil
}

// view is what decide looks at for c's tick.
func (s *Scheduler) view(c *tickClaim, now time.Time, read bool, st lease.State) tickView {
	v := tickView{Tick: c.t, Deadline: c.deadline, StartBy: c.startBy, Now: now, Read: read, Lease: st,
		Self: s.id.Holder, Pref: s.preference(), ReleasedBy: c.releasedBy, LookBack: c.lookBack, DeferUntil: c.deferUntil,
		Timing: s.t}
	if v.ReleasedBy != "" && v.Pref.Known && v.Pref.To.ID == v.ReleasedBy {
		v.Successor = s.successor(v.ReleasedBy) // handover.go
	}
	if st.Kind == lease.Held && st.Record.Tick.Before(c.t) {
		v.PrevTick = c.prevTick(s.cfg.Schedule)
	}
	return v
}

// prevTick returns the schedule's tick before c's, found once per tick (a
// cron schedule steps back to find it).
func (c *tickClaim) prevTick(sched Schedule) time.Time {
	if c.prevTickAt.IsZero() {
		c.prevTickAt, _ = schedule.Latest(sched, c.t.Add(-time.Nanosecond))
	}
	return c.prevTickAt
}

// tickClaim is tick's state across its reads and claims of one tick.
type tickClaim struct {
	t, prev, deadline time.Time
	startBy           time.Time // see tickView.StartBy
	before            time.Time // the latest tick on record before this claim
	failures          int       // store calls failed in a row
	deferUntil        time.Time // see tickView.DeferUntil
	releasedBy        string    // see tickView.ReleasedBy
	prevTickAt        time.Time // see prevTick
	// lookBack is true for the tick a node looks at as it starts (a tick
	// due before it started, catchup.go): passing it over is no news.
	lookBack bool
}

// passOver ends c's tick unrun, as step (stepSitOut or stepPaused) says:
// "Sitting out" at lvl, or "Paused". The tick a node looks back at as it
// starts was not this node's to handle: passing it over logs only at debug
// level, and counts nothing.
func (s *Scheduler) passOver(c *tickClaim, step tickStep, lvl zerolog.Level, rec store.Lease, why string) {
	switch {
	case c.lookBack:
		s.log.Debug().Str("tick", formatTick(c.t)).Str("reason", why).Msg("Nothing to catch up")
	case step == stepPaused:
		s.pausedTick(c.t) // actions.go
	default:
		s.sitOutAt(lvl, c.t, rec, why)
	}
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
		s.catchingUp(c.t, sent) // catchup.go
		s.start(ctx, c.t, st)
	case errors.Is(err, store.ErrTickTaken):
		s.passOver(c, stepSitOut, zerolog.InfoLevel, st.Record, "tick taken")
	case errors.Is(err, store.ErrPaused):
		s.passOver(c, stepPaused, 0, st.Record, "paused")
	case errors.Is(err, store.ErrHeld):
		return false // someone renewed or took over since the read: read again
	default:
		return !s.backoff(ctx, c, "claim", err)
	}
	return true
}

// backoff logs a failed store call and waits before the next try, doubling
// from 100ms up to RetryPeriod. It gives up (false) when the next try would
// come after the tick's StartBy or shutdown begins, and then sits out: no
// store claim, no run.
func (s *Scheduler) backoff(ctx context.Context, c *tickClaim, op string, err error) bool {
	c.failures++
	wait := min(s.t.RetryPeriod, 100*time.Millisecond<<min(c.failures-1, 10))
	lvl := s.cfg.Health.FailureLevel() // debug during an outage Health has logged
	s.log.WithLevel(lvl).Err(err).Str("op", op).Str("tick", formatTick(c.t)).Int("attempt", c.failures).
		Dur("retry_in", wait).Msg("Store call failed")
	at := s.clk.Now().Add(wait)
	if !at.Before(c.startBy) {
		s.passOver(c, stepSitOut, lvl, s.lease.State().Record, "store unavailable")
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
