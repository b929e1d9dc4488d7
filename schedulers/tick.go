package schedulers

import (
	"context"
	"errors"
	"time"

	"github.com/rs/zerolog"

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
		s.skipOverlap(t)
		return
	}
	deadline := s.cfg.Schedule.Next(t)
	failures := 0
	read := !s.leading()
	s.mu.Lock()
	before := s.known.Tick // the latest tick on record before this claim
	s.mu.Unlock()
	for {
		var lapsed int64
		if read {
			l, found, err := s.get()
			if err != nil {
				if !s.backoff(ctx, t, deadline, &failures, "get", err) {
					return
				}
				continue
			}
			if found {
				before = l.Tick
				switch {
				case !l.Tick.Before(t):
					s.note(l)
					s.sitOut(t, l, "tick taken")
					return
				case l.Held() && l.Holder != s.id.Holder:
					lapse := s.lapseAt(l)
					if s.clk.Now().Before(lapse) {
						if !lapse.Before(deadline) {
							s.sitOut(t, l, "lease held")
							return
						}
						// Look again before the lapse too: a holder that is
						// merely late (a slower clock) claims meanwhile, and
						// seeing its write early keeps the next lapse close
						// to the truth.
						at := s.clk.Now().Add(s.t.Grace / 2)
						if lapse.Before(at) {
							at = lapse
						}
						s.log.Debug().Str("tick", formatTick(t)).Str("leader", l.Node).
							Time("lapse", lapse).Msg("Waiting for the lease to lapse")
						if !s.sleepUntil(ctx, at) {
							return
						}
						continue
					}
					lapsed = l.Version
				default:
					s.note(l)
				}
			}
		}
		read = true

		sent := s.clk.Now()
		if !sent.Before(deadline) {
			// A slow store made this node look until the following tick:
			// that tick supersedes t, which it leaves unclaimed.
			s.mu.Lock()
			l := s.known
			s.mu.Unlock()
			s.sitOut(t, l, "following tick reached")
			return
		}
		ttl := max(deadline.Add(s.t.Grace).Sub(sent), s.t.Grace)
		var l store.Lease
		err := s.call("claim", func(ctx context.Context) (err error) {
			l, err = s.cfg.Store.Claim(ctx, store.ClaimRequest{
				Job: s.job.Name, Holder: s.id.Holder, Node: s.id.Node,
				Tick: t, TTL: ttl, Now: sent, Lapsed: lapsed,
			})
			return err
		})
		switch {
		case err == nil:
			s.noteWrite(l, sent)
			if !prev.IsZero() && !before.IsZero() && before.Before(prev) {
				s.obs.Skipped(s.job.Name, SkipMissed)
				s.log.Warn().Str("tick", formatTick(prev)).Str("last_run_tick", formatTick(before)).
					Msg("Tick missed by every node")
			}
			s.start(ctx, t, l)
			return
		case errors.Is(err, store.ErrTickTaken):
			s.note(l)
			s.sitOut(t, l, "tick taken")
			return
		case errors.Is(err, store.ErrHeld):
			s.note(l) // someone renewed or took over since the read: read again
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
	lvl := s.cfg.Health.failureLevel() // debug during an outage Health has logged
	s.log.WithLevel(lvl).Err(err).Str("op", op).Str("tick", formatTick(t)).Int("attempt", *failures).
		Dur("retry_in", wait).Msg("Store call failed")
	at := s.clk.Now().Add(wait)
	if !at.Before(deadline) {
		s.mu.Lock()
		l := s.known
		s.mu.Unlock()
		s.sitOutAt(lvl, t, l, "store unavailable")
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

// skipOverlap marks t taken while the previous run still runs (overlap
// policy Forbid), so that no node runs it; the write also renews the lease.
func (s *Scheduler) skipOverlap(t time.Time) {
	sent := s.clk.Now()
	var l store.Lease
	err := s.call("claim", func(ctx context.Context) (err error) {
		l, err = s.cfg.Store.Claim(ctx, store.ClaimRequest{
			Job: s.job.Name, Holder: s.id.Holder, Node: s.id.Node,
			Tick: t, TTL: s.t.LeaseDuration, Now: sent,
		})
		return err
	})
	switch {
	case err == nil:
		s.noteWrite(l, sent)
		s.obs.Skipped(s.job.Name, SkipOverlap)
		s.log.Info().Str("tick", formatTick(t)).Int64("term", l.Term).
			Str("reason", "previous run still running").Msg("Skipped")
	case errors.Is(err, store.ErrTickTaken), errors.Is(err, store.ErrHeld):
		s.note(l)
		if r := s.running(); r != nil {
			s.lose(r, "another node holds the lease")
		}
		s.sitOut(t, l, "lease held")
	default:
		// Not marked taken, but the lease is still this node's: no other
		// node can claim t before it lapses, and by then the run is
		// cancelled unless a renewal gets through.
		s.log.Warn().Err(err).Str("tick", formatTick(t)).Msg("Skipped tick not recorded")
		s.obs.Skipped(s.job.Name, SkipOverlap)
	}
}

func formatTick(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

// get reads the job's record; found is false when there is none.
func (s *Scheduler) get() (l store.Lease, found bool, err error) {
	err = s.call("get", func(ctx context.Context) (err error) {
		l, err = s.cfg.Store.Get(ctx, s.job.Name)
		return err
	})
	if errors.Is(err, store.ErrNotFound) {
		return l, false, nil
	}
	return l, err == nil, err
}
