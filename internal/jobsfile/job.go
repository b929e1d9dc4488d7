package jobsfile

import (
	"context"
	"time"

	"go-leader-election/internal/target"
)

// Overlap is what happens when a tick comes while the job's previous run
// still runs (issue 23's policies; the scheduler applies them).
type Overlap string

// The overlap policies.
const (
	// OverlapForbid: the tick is skipped (the default).
	OverlapForbid Overlap = "forbid"
	// OverlapReplace: the running run is cancelled, and the tick runs once
	// it has ended.
	OverlapReplace Overlap = "replace"
	// OverlapBufferOne: the tick runs right after the running run ends, if
	// within its starting deadline; at most one tick waits.
	OverlapBufferOne Overlap = "buffer_one"
)

var overlaps = []Overlap{OverlapForbid, OverlapReplace, OverlapBufferOne}

// Defaults of the per-job options.
const (
	DefaultRetryBackoff = time.Second
	// UntilNextTick is StartingDeadline when unset: a missed tick may start
	// late until the job's next tick.
	UntilNextTick time.Duration = -1
)

// Job is one validated job of a jobs file. Exactly one of Command and HTTP
// is set, with every ${VAR} replaced.
type Job struct {
	// Name is the job's name (jobs.CheckName), the key of its lease.
	Name string
	// Schedule is the schedule as written, accepted by Options.ParseSchedule.
	Schedule string
	// Command is a command or shell target. Its BaseEnv and Supervisor are
	// left for the daemon to set.
	Command *target.Command
	// HTTP is an http target.
	HTTP *target.HTTP
	// Timeout cancels a run that lasts longer; 0 for none.
	Timeout time.Duration
	// Overlap is the overlap policy; OverlapForbid by default.
	Overlap Overlap
	// Retries is how many times a failed run is tried again (default 0).
	Retries int
	// RetryBackoff is the first wait before a retry (default 1s), doubling.
	RetryBackoff time.Duration
	// StartingDeadline is how late a missed tick may still start;
	// UntilNextTick when unset, 0 for never late.
	StartingDeadline time.Duration
	// Line and Column are where the job starts in its file.
	Line, Column int

	def definition // as written, for Describe and Hash
}

// Func is the job's target as a run.
func (j Job) Func() target.Func {
	if j.Command != nil {
		return j.Command.Run
	}
	return j.HTTP.Run
}

// Run runs the job's target once.
func (j Job) Run(ctx context.Context, inv target.Invocation) (target.Result, error) {
	return j.Func()(ctx, inv)
}

// String is Describe: a job printed by mistake shows no secret either.
func (j Job) String() string { return j.Describe() }

// GoString is Describe too.
func (j Job) GoString() string { return j.Describe() }
