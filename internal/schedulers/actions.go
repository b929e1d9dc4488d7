package schedulers

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"go-leader-election/store"
)

// Errors of the operator's actions (RunNow, SetPaused). The server maps
// them to HTTP statuses: ErrRunInProgress, ErrTickDue and store.ErrPaused
// are conflicts (409), ErrBusy and store failures are unavailability (503).
var (
	// ErrNoControl: the scheduler was built without Config.Control.
	ErrNoControl = errors.New("the store does not support actions")
	// ErrRunInProgress: a run of the job may be in progress, here or on the
	// node holding the lease (store.ErrHeld: that node's latest run has no
	// record in the history yet, or the history is off).
	ErrRunInProgress = errors.New("a run of the job may be in progress")
	// ErrTickDue: the tick on record is just before a due scheduled tick,
	// which leaves no room for a manual tick until that one is claimed.
	ErrTickDue = errors.New("a scheduled tick is being claimed")
	// ErrBusy: the scheduler is busy with a tick (reading, retrying, waiting
	// for a lapse) and could not take the request in time.
	ErrBusy = errors.New("the scheduler is busy with a tick")
	// ErrNotStarted: the manual claim was stored too late to start the run
	// safely; the manual tick is taken and was not run.
	ErrNotStarted = errors.New("the manual claim was confirmed too late to run safely")
)

// ManualRun is a manual run that has started.
type ManualRun struct {
	ID   string    `json:"id"`
	Job  string    `json:"job"`
	Tick time.Time `json:"tick"`
	Term int64     `json:"term"`
	Node string    `json:"node"`
}

// actions is a scheduler's state for the operator's actions.
type actions struct {
	requests chan chan<- manualResult // RunNow to the Run loop, which owns claims

	mu         sync.Mutex
	manualTick time.Time // the tick of the latest manual run started here
	pausedTick time.Time // the latest tick found paused here
}

type manualResult struct {
	run ManualRun
	err error
}

func newActions() actions { return actions{requests: make(chan chan<- manualResult)} }

// RunNow runs the job once, now, on this node, with a claim of a manual
// tick like any run's, and returns once the run has started (or did not).
// Only the scheduler's loop claims, so the request waits for it to be
// between ticks: if it is not within ctx, ErrBusy. The caller's ctx bounds
// only that wait; once taken, the request is answered within two store
// calls. See the package doc for what a manual run promises.
func (s *Scheduler) RunNow(ctx context.Context) (ManualRun, error) {
	if s.cfg.Control == nil {
		return ManualRun{}, ErrNoControl
	}
	reply := make(chan manualResult, 1)
	select {
	case s.act.requests <- reply:
	case <-ctx.Done():
		return ManualRun{}, ErrBusy
	}
	res := <-reply
	return res.run, res.err
}

// waitForTick waits, like sleepUntil, until it is time to handle tick t (t
// for the holder, FollowerDelay later for the others), serving manual run
// requests and starting a buffered tick meanwhile. It reports false when
// ctx ends.
func (s *Scheduler) waitForTick(ctx context.Context, t time.Time) bool {
	for {
		at := t
		if !s.leading() {
			at = t.Add(s.t.FollowerDelay)
		}
		d := at.Sub(s.clk.Now())
		if d <= 0 {
			return ctx.Err() == nil
		}
		timer := s.clk.NewTimer(d)
		select {
		case <-ctx.Done():
			timer.Stop()
			return false
		case <-timer.C:
			return true
		case <-s.bufferedEnded(): // nil, never ready, when no tick is buffered
			timer.Stop()
			s.startBuffered(ctx) // overlap.go
		case reply := <-s.act.requests:
			timer.Stop()
			run, err := s.runNow(ctx, t)
			reply <- manualResult{run, err}
		}
	}
}

// runNow claims a manual tick and starts the run; it runs on the Run loop,
// between ticks, so no scheduled claim of this node races it. next is the
// tick the loop waits for.
func (s *Scheduler) runNow(ctx context.Context, next time.Time) (ManualRun, error) {
	if r := s.running(); r != nil {
		return ManualRun{}, fmt.Errorf("%w: tick %s runs on this node", ErrRunInProgress, formatTick(r.tok.Tick))
	}
	from, err := s.lease.Read(ctx)
	if err != nil {
		return ManualRun{}, fmt.Errorf("read the lease: %w", err)
	}
	if from.Record.Paused {
		return ManualRun{}, store.ErrPaused
	}
	now := s.clk.Now()
	m, ok := manualTick(s.cfg.Schedule, from.Record.Tick, now, s.t.Grace+s.t.FollowerDelay)
	if !ok {
		return ManualRun{}, ErrTickDue
	}
	deadline := s.cfg.Schedule.Next(m)
	st, err := s.lease.ClaimWith(ctx, "manual claim", m, max(deadline.Add(s.t.Grace).Sub(now), s.t.Grace), s.cfg.Control.ClaimManual)
	switch {
	case err == nil:
	case errors.Is(err, store.ErrHeld):
		return ManualRun{}, fmt.Errorf("%w on %s, which holds the lease", ErrRunInProgress, st.Record.Node)
	case errors.Is(err, store.ErrTickTaken):
		return ManualRun{}, fmt.Errorf("%w: tick %s was just claimed", ErrTickDue, formatTick(st.Record.Tick))
	case errors.Is(err, store.ErrPaused):
		return ManualRun{}, store.ErrPaused
	default:
		return ManualRun{}, fmt.Errorf("manual claim: %w", err)
	}
	if from.Lapsed(now) { // not when the holder was idle: its run was recorded
		s.tookOver(from, st)
	}
	s.act.mu.Lock()
	s.act.manualTick = m
	s.act.mu.Unlock()
	s.log.Info().Str("tick", formatTick(m)).Int64("term", st.Record.Term).Msg("Manual run claimed")
	if s.start(ctx, m, st) == nil {
		return ManualRun{}, ErrNotStarted
	}
	if p := deadline; !p.After(now) && next.After(p) {
		// The manual tick went just before the due tick p, which this node
		// has handled already, as a follower; now that it holds the lease it
		// is the one to handle p, as a tick come during a run (Forbid).
		s.skipOverlap(ctx, p)
	}
	return ManualRun{ID: store.RunID(s.job.Name, m), Job: s.job.Name, Tick: m, Term: st.Record.Term, Node: s.id.Node}, nil
}

func (s *Scheduler) isManual(tick time.Time) bool {
	s.act.mu.Lock()
	defer s.act.mu.Unlock()
	return !tick.IsZero() && tick.Equal(s.act.manualTick)
}

// manualTick picks the tick of a manual run at now, given the latest tick on
// record: after it, so that the store takes it once, and never a scheduled
// tick. Usually it is now. If the latest scheduled tick p is due but not on
// record, and a node may still be about to claim it (for up to late after
// p: a follower's read, or a takeover at the holder's lapse), the manual
// tick goes just before p, so that p can still run. After that, p is
// passed over: a late claim of it (a store call retried until the next
// tick) is refused, and the tick is lost, never doubled. ok is false when
// there is no room (the tick on record is just before p).
func manualTick(sched Schedule, recorded, now time.Time, late time.Duration) (time.Time, bool) {
	if p, ok := latestDue(sched, now); ok && p.After(recorded) && now.Before(p.Add(late)) {
		m := p.Add(-time.Microsecond) // ticks are whole microseconds apart
		return m, m.After(recorded)
	}
	m := now.Truncate(time.Microsecond) // what every backend keeps
	if !m.After(recorded) {
		// A node whose clock runs ahead claimed a tick after our now.
		m = recorded.Truncate(time.Microsecond).Add(time.Microsecond)
	}
	if next := sched.Next(recorded); !recorded.IsZero() && !m.Before(next) && !next.Before(now.Add(-late)) {
		return time.Time{}, false
	}
	return m, true
}

// latestDue returns the latest tick of sched at or before now: the one tick
// a scheduler may still claim (it claims a tick until the next one comes).
func latestDue(sched Schedule, now time.Time) (time.Time, bool) {
	if e, ok := sched.(Every); ok {
		return e.Next(now).Add(-time.Duration(e)), true // the multiple before the next
	}
	// A Schedule only says what comes next: step back until a tick lies at
	// or before now, then walk forward to the last one.
	for back := time.Second; back <= 800*24*time.Hour; back *= 2 {
		t := sched.Next(now.Add(-back))
		if t.IsZero() || t.After(now) {
			continue
		}
		for range 10000 {
			n := sched.Next(t)
			if n.IsZero() || n.After(now) {
				return t, true
			}
			t = n
		}
		return time.Time{}, false
	}
	return time.Time{}, false
}

// SetPaused pauses (or resumes) the job for every node: the flag is on the
// lease record, where every claim checks it.
func (s *Scheduler) SetPaused(ctx context.Context, paused bool) error {
	if s.cfg.Control == nil {
		return ErrNoControl
	}
	ctx, cancel := context.WithTimeout(ctx, s.t.StoreTimeout)
	defer cancel()
	start := time.Now()
	rec, err := s.cfg.Control.SetPaused(ctx, s.job.Name, paused)
	s.cfg.Health.Report("pause", err)
	s.obs.StoreCall(s.job.Name, "pause", time.Since(start), err)
	if err != nil {
		return err
	}
	s.lease.ObserveUnlessOlder(rec) // so that this node's status shows it at once
	return nil
}

// pausedTick handles tick t of a paused job: nothing runs.
func (s *Scheduler) pausedTick(t time.Time) {
	s.act.mu.Lock()
	s.act.pausedTick = t
	s.act.mu.Unlock()
	s.obs.Skipped(s.job.Name, SkipPaused)
	s.log.Debug().Str("tick", formatTick(t)).Msg("Paused")
}

// judged returns the tick handled before the next one, as tick's prev, or
// zero when that tick was found paused: a tick nobody claimed because the
// job was paused is not a tick "missed by every node".
func (s *Scheduler) judged(last time.Time) time.Time {
	s.act.mu.Lock()
	defer s.act.mu.Unlock()
	if !last.IsZero() && last.Equal(s.act.pausedTick) {
		return time.Time{}
	}
	return last
}
