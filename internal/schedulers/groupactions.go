package schedulers

import (
	"context"
	"errors"

	"go-leader-election/store"
)

// ErrUnknownJob: no job of that name runs on this node.
var ErrUnknownJob = errors.New("unknown job")

// ErrDuplicateJob: a job of that name runs on this node already.
var ErrDuplicateJob = errors.New("job already added")

// ErrHistoryOff: the group keeps no history.
var ErrHistoryOff = errors.New("the run history is off")

// Scheduler returns the scheduler of job, if this group runs it.
func (g *Group) Scheduler(job string) (*Scheduler, bool) {
	for _, s := range g.schedulers() {
		if s.job.Name == job {
			return s, true
		}
	}
	return nil, false
}

// RunNow runs job once now on this node: see Scheduler.RunNow.
func (g *Group) RunNow(ctx context.Context, job string) (ManualRun, error) {
	s, ok := g.Scheduler(job)
	if !ok {
		return ManualRun{}, ErrUnknownJob
	}
	return s.RunNow(ctx)
}

// SetPaused pauses or resumes job on every node: see Scheduler.SetPaused.
func (g *Group) SetPaused(ctx context.Context, job string, paused bool) error {
	s, ok := g.Scheduler(job)
	if !ok {
		return ErrUnknownJob
	}
	return s.SetPaused(ctx, paused)
}

// Runs returns up to limit of job's latest runs, from every node, newest
// first, read within a store call's time.
func (g *Group) Runs(ctx context.Context, job string, limit int) ([]store.RunRecord, error) {
	if _, ok := g.Scheduler(job); !ok {
		return nil, ErrUnknownJob
	}
	if g.runs == nil {
		return nil, ErrHistoryOff
	}
	ctx, cancel := context.WithTimeout(ctx, g.timeout)
	defer cancel()
	return g.runs.Runs(ctx, job, limit)
}
