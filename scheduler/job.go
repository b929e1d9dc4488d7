package scheduler

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go-leader-election/internal/runctx"
	"go-leader-election/jobs"
	"go-leader-election/lease"
)

// Job is one scheduled unit of work.
type Job struct {
	// Name identifies the job across replicas: it keys the job's lease, so
	// every replica that runs the job must use the same name. 1 to 100
	// lower-case letters, digits and '_', starting with a letter.
	Name string
	// Schedule says when it ticks: 5-field cron ("*/5 * * * *"), 6-field
	// cron with seconds, descriptors ("@hourly"), a "CRON_TZ=Europe/Paris "
	// prefix (UTC without one), or "@every D" (multiples of D since the Unix
	// epoch, so every replica computes the same ticks). H in a cron field
	// ("H * * * *") is a value of the job's own, hashed from its name, the
	// same on every replica. Across daylight-saving changes a fixed-time
	// spec ("30 2 * * *") runs once a day, classic cron's rule (README,
	// "Schedules").
	Schedule string
	// Run does the work of one tick. Its context ends when the run must stop
	// (shutdown past Timing.ShutdownTimeout, or a lease that can no longer
	// be trusted); it carries the run's fencing token (TokenFrom). A
	// returned error is logged and recorded; a panic is recovered as one.
	Run func(ctx context.Context) error
}

// ErrBadJob is wrapped by every error Add returns for an invalid job.
var ErrBadJob = errors.New("scheduler: bad job")

// ErrDuplicateJob: Add was given a name already added.
var ErrDuplicateJob = errors.New("scheduler: job already added")

// ErrStarted: Run called twice.
var ErrStarted = errors.New("scheduler: already started")

// ErrUnknownJob: Remove of a job this scheduler does not have.
var ErrUnknownJob = errors.New("scheduler: no such job")

// CheckJobName returns an error, naming the name, unless it is a valid
// Job.Name: 1 to 100 lower-case letters, digits and '_', starting with a
// letter.
func CheckJobName(name string) error {
	if err := jobs.CheckName(name); err != nil {
		return fmt.Errorf("%w: %v", ErrBadJob, err)
	}
	return nil
}

// A JobOption configures one job (Add).
type JobOption func(*jobSettings) error

// jobSettings are a job's options, with their defaults.
type jobSettings struct {
	// definition is what the job runs, as written (a command's argv, an
	// HTTP target's method and URL), for the job set's hash: "" for a Go
	// function, which cannot be compared.
	definition string
}

// WithDefinition says what the job runs, as written (a command line, a
// URL): replicas whose jobs have the same names and schedules but different
// definitions then publish different job sets, logged as "Job sets
// differ" (a rolling deploy). A Go function cannot be compared: without it,
// a job's name and schedule stand for it.
func WithDefinition(definition string) JobOption {
	return func(js *jobSettings) error { js.definition = definition; return nil }
}

// Token is the fencing token of one run: the run of Tick of the job Name
// under lease Term. Terms only grow, so a system that remembers the highest
// term it accepted for a job can refuse a write from a replica that has been
// deposed.
type Token = lease.Token

// TokenFrom returns the fencing token of the run ctx belongs to (a Job.Run's
// context).
func TokenFrom(ctx context.Context) (Token, bool) { return lease.TokenFrom(ctx) }

// ErrNotRunning: an operator's action before Run has started the jobs.
var ErrNotRunning = errors.New("scheduler: not running yet")

// RunInfo describes the run a job's context belongs to.
type RunInfo struct {
	Job  string
	Tick time.Time
	// Term is the run's fencing term (as in its Token).
	Term int64
	// Node is the replica running it.
	Node string
	// ID names the run in the shared history ("job@tick").
	ID string
	// Attempt is 1 for the first call of the job for its tick, more for
	// retries.
	Attempt int
}

// RunFrom returns what ctx (a Job.Run's context) knows of its run.
func RunFrom(ctx context.Context) (RunInfo, bool) {
	r := runctx.From(ctx)
	if r == nil {
		return RunInfo{}, false
	}
	return RunInfo{Job: r.Job, Tick: r.Tick, Term: r.Term, Node: r.Node, ID: r.ID, Attempt: r.Attempt}, true
}
