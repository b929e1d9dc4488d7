package schedulers

import (
	"context"
	"time"

	"go-leader-election/internal/schedule"
)

// Catching up: a tick no node ran in its time runs once, late, on whichever
// node can claim it before its StartBy (the following tick, or sooner by
// the job's starting deadline). Its claim is an ordinary one: the store
// takes a tick once and refuses any tick at or before the recorded one, so
// that a tick caught up never runs twice, and a tick older than one already
// run never runs at all. Three paths lead to a late claim:
//
//   - a node starting (after a full outage, a deploy of every replica)
//     looks at the latest tick due before it started, if its StartBy has
//     not passed (lookBack): only that one, never a burst;
//   - a follower that found the lease held over a tick its holder has not
//     claimed looks again when the lease can have been released or lapsed
//     (decideHeld), and claims it then;
//   - a store call retried after a failure (backoff) until StartBy.
//
// A claim is late when it is sent Grace or more after its tick, once the
// holder's own turn is over: "Catching up" and PolicyObserver.LateRun tell
// of it.

// lookBack handles, as a node starts, the latest tick due before now, if
// a claim of it may still be sent: nobody may have run it (every node was
// down). A job that never ran has no tick to catch up (decide).
func (s *Scheduler) lookBack(ctx context.Context) {
	now := s.clk.Now()
	t, ok := schedule.Latest(s.cfg.Schedule, now)
	if !ok {
		return
	}
	next := s.cfg.Schedule.Next(t)
	c := &tickClaim{t: t, deadline: next, startBy: s.startBy(t, next), lookBack: true}
	if now.Before(c.startBy) {
		s.handle(ctx, c, true)
	}
}

// catchingUp tells of a claim of tick t sent at sent, if it is a late one.
func (s *Scheduler) catchingUp(t, sent time.Time) {
	by, late := s.late(t, sent)
	if !late {
		return
	}
	if o, ok := s.obs.(PolicyObserver); ok {
		o.LateRun(s.job.Name)
	}
	s.log.Info().Str("tick", formatTick(t)).Str("late_by", by.Round(time.Millisecond).String()).Msg("Catching up")
}
