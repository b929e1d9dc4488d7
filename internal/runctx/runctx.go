// Package runctx carries, in a job's context, what the job may want to know
// of its run (which node runs it, its run id, its attempt) and what the run
// may tell the history besides its error (a command's exit status and the end
// of its output). The schedulers put a Run in the context; jobs (the command
// and HTTP targets) read it and report to it. It promises no more than a
// value carrier: a context without a Run answers nil.
package runctx

import (
	"context"
	"sync"
	"time"
)

// Run is one run of a job on this node.
type Run struct {
	Job  string
	Tick time.Time
	// Term is the run's fencing term.
	Term int64
	// Node is the node running it; ID names the run ("job@tick", as the
	// history does).
	Node string
	ID   string
	// Attempt is 1 for the first call of the job under the run's claim,
	// more for retries.
	Attempt int
	// KillGrace is how long a process the run started may take to stop
	// once the run's context ends (SIGTERM, then SIGKILL): short enough for
	// it to be gone before the lease can lapse.
	KillGrace time.Duration
	// Output, if set, takes the run's output line by line (stream "stdout"
	// or "stderr"), for the node's log.
	Output func(stream, line string)

	mu             sync.Mutex
	status, output string
}

type key struct{}

// With returns ctx carrying r.
func With(ctx context.Context, r *Run) context.Context { return context.WithValue(ctx, key{}, r) }

// From returns the run ctx belongs to, or nil.
func From(ctx context.Context) *Run {
	r, _ := ctx.Value(key{}).(*Run)
	return r
}

// Report records what the run ended with besides its error: status (an exit
// status, an HTTP status) and output (the end of its output or response
// body). The latest report wins. A nil Run ignores it.
func (r *Run) Report(status, output string) {
	if r == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.status, r.output = status, output
}

// Reported returns the latest report.
func (r *Run) Reported() (status, output string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.status, r.output
}
