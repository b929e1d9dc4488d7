package target

import (
	"context"
	"errors"
	"strconv"
	"time"

	"go-leader-election/internal/procgroup"
)

// Invocation is one run of a job, as the scheduler gives it to a target.
type Invocation struct {
	// Job is the job's name.
	Job string
	// Tick is the tick this run is for.
	Tick time.Time
	// Term is the lease's fencing term: it only grows, so a system that
	// remembers the highest term it accepted can refuse a deposed holder.
	Term int64
	// Node is the name of the node running the job.
	Node string
	// RunID identifies the run (in the run history).
	RunID string
	// KillGrace is how long a command has between SIGTERM and SIGKILL once
	// the context ends.
	KillGrace time.Duration
	// Output receives a command's output, line by line: stream is "stdout"
	// or "stderr". Nil discards it. It is called from one goroutine at a
	// time and must not block for long.
	Output func(stream, line string)
}

// Result is how a run ended.
type Result struct {
	// Status is "exit 0", "exit 3", "signal: terminated", "HTTP 503",
	// StatusNotStarted, StatusUnreachable or StatusStopped.
	Status string
	// Tail is the last TailBytes of the command's output (both streams, in
	// the order read) or of the HTTP response body.
	Tail string
}

// ReservedEnv are the variables every command gets from its run; a
// definition may not set them.
var ReservedEnv = []string{"JOB_NAME", "JOB_TICK", "JOB_TERM", "JOB_NODE", "JOB_RUN_ID"}

// Func is a run of a target.
type Func func(ctx context.Context, inv Invocation) (Result, error)

// The statuses of runs that got no exit status or HTTP status.
const (
	StatusNotStarted  = "not started"
	StatusUnreachable = "unreachable"
	StatusStopped     = "stopped" // an HTTP request whose run was stopped before an answer
)

// Sizes of the output kept.
const (
	// MaxLine is the longest output line passed on; longer ones are cut.
	MaxLine = 4 << 10
	// MaxRunOutput bounds the output passed on per run.
	MaxRunOutput = 1 << 20
	// TailBytes is how much of the end of the output a Result keeps.
	TailBytes = 4 << 10
)

var (
	// ErrFailed: the target ran and failed (a status other than exit 0, a
	// signal, an HTTP status outside the success list).
	ErrFailed = errors.New("failed")
	// ErrNotStarted: the command could not be started.
	ErrNotStarted = procgroup.ErrNotStarted
	// ErrUnreachable: the HTTP target gave no response.
	ErrUnreachable = errors.New("unreachable")
	// ErrInvalid: the target's definition is unusable (an empty command, a
	// bad URL).
	ErrInvalid = errors.New("invalid target")
)

// FormatTick is a tick as targets see it: RFC 3339 in UTC, with as many
// fractional digits as it has (none for whole seconds).
func FormatTick(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

// IdempotencyKey is the Idempotency-Key of a run: "<job>/<tick>", the same
// for every attempt at a tick and every node.
func IdempotencyKey(inv Invocation) string { return inv.Job + "/" + FormatTick(inv.Tick) }

func formatTerm(term int64) string { return strconv.FormatInt(term, 10) }

// stopped adds the context's cause to err, once the context has ended.
func stopped(ctx context.Context, err error) error {
	if ctx.Err() == nil || err == nil {
		return err
	}
	if errors.Is(err, context.Cause(ctx)) {
		return err
	}
	return &stoppedError{err: err, cause: context.Cause(ctx)}
}

// stoppedError is an error of a run that its context stopped: it is both.
type stoppedError struct{ err, cause error }

func (e *stoppedError) Error() string {
	return e.err.Error() + " (the run was stopped: " + e.cause.Error() + ")"
}
func (e *stoppedError) Unwrap() []error { return []error{e.err, e.cause} }
