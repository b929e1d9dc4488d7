package scheduler

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go-leader-election/internal/runctx"
	"go-leader-election/internal/schedulers"
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

// A JobOption configures one job (Add). Add validates the options together
// with the job's schedule, and names the job, the option and the bad value.
type JobOption func(*jobSettings) error

// jobSettings are a job's options, with their defaults (the zero policy).
type jobSettings struct {
	policy schedulers.Policy
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

// Overlap is what a tick does when it comes while the job's previous run
// still runs (WithOverlap). No policy ever runs two runs of a job at once,
// on any replica.
type Overlap int

// The overlap policies. Their names, as String and ParseOverlap write them,
// are those of the jobs file: forbid, replace, buffer_one.
const (
	// Forbid skips the tick: it is marked taken and runs nowhere
	// ("Skipped"). The default.
	Forbid = Overlap(schedulers.Forbid)
	// Replace cancels the running run's context, and starts the tick once
	// that run has returned ("Replacing").
	Replace = Overlap(schedulers.Replace)
	// BufferOne starts the tick right after the running run ends, if within
	// its starting deadline; at most one tick waits, the latest.
	BufferOne = Overlap(schedulers.BufferOne)
)

func (o Overlap) String() string { return schedulers.Overlap(o).String() }

// ParseOverlap returns the policy named name: "forbid", "replace" or
// "buffer_one".
func ParseOverlap(name string) (Overlap, error) {
	o, err := schedulers.ParseOverlap(name)
	return Overlap(o), err
}

// DefaultRetryBackoff is the wait before a first retry when WithRetries is
// given no backoff.
const DefaultRetryBackoff = schedulers.DefaultRetryBackoff

// WithOverlap sets what a tick does when the job's previous run still runs.
// Default Forbid.
func WithOverlap(o Overlap) JobOption {
	return func(js *jobSettings) error {
		js.policy.Overlap = schedulers.Overlap(o)
		return nil
	}
}

// WithRetries retries a run whose job returned an error (or panicked), up
// to n more times, under the same claim and fencing term (RunFrom's Attempt
// counts the calls), waiting backoff before the first retry and twice as
// long before each next one, jittered by ±20%; a backoff of 0 means
// DefaultRetryBackoff (1s). No retry starts past the job's starting
// deadline (by default its next tick), once the run's context has ended, or
// once the scheduler stops. Default: no retries.
func WithRetries(n int, backoff time.Duration) JobOption {
	return func(js *jobSettings) error {
		js.policy.Retries, js.policy.RetryBackoff = n, backoff
		return nil
	}
}

// WithStartingDeadline bounds how late a tick may still start when no
// replica ran it in its time (every replica was down over it, or the
// replica holding the job stopped during a run that crossed it): up to d
// after the tick, a replica runs it once, late ("Catching up"); only the
// latest such tick, never a burst. It bounds retries too. Default: until
// the job's next tick; 0: never late (a tick starts only within
// Timing.Grace of its time). d may not exceed the schedule's shortest
// interval.
func WithStartingDeadline(d time.Duration) JobOption {
	return func(js *jobSettings) error {
		js.policy.StartingDeadline = &d
		return nil
	}
}

// WithTimeout bounds each run, its retries included: past d the run's
// context is cancelled, and the run is recorded with result "timeout".
// Default 0: none.
func WithTimeout(d time.Duration) JobOption {
	return func(js *jobSettings) error {
		js.policy.Timeout = d
		return nil
	}
}

// optionOf names the option that sets a policy field.
var optionOf = map[string]string{
	"overlap": "WithOverlap", "retries": "WithRetries", "retry_backoff": "WithRetries",
	"starting_deadline": "WithStartingDeadline", "timeout": "WithTimeout",
}

// checkPolicy returns an error wrapping ErrBadJob, naming the job, the
// option and the value, if js's policy does not suit the schedule.
func checkPolicy(job string, js jobSettings, sched schedulers.Schedule, now time.Time) error {
	err := js.policy.Validate(sched, now)
	var pe *schedulers.PolicyError
	if errors.As(err, &pe) {
		return fmt.Errorf("%w: job %s: %s: %v", ErrBadJob, job, optionOf[pe.Field], err)
	}
	if err != nil {
		return fmt.Errorf("%w: job %s: %v", ErrBadJob, job, err)
	}
	return nil
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
