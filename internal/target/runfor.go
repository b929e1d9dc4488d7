package target

import (
	"context"
	"errors"

	"go-leader-election/internal/runctx"
)

// ErrNoRun: a target was run outside a job's run.
var ErrNoRun = errors.New("a target runs only as a job's run")

// RunFor runs f for the run ctx belongs to (a scheduled job's context:
// runctx), and reports its status and the end of its output to the run's
// history record.
func RunFor(ctx context.Context, f Func) error {
	r := runctx.From(ctx)
	if r == nil {
		return ErrNoRun
	}
	res, err := f(ctx, Invocation{Job: r.Job, Tick: r.Tick, Term: r.Term, Node: r.Node, RunID: r.ID,
		KillGrace: r.KillGrace, Output: r.Output})
	r.Report(res.Status, res.Tail)
	return err
}
