// Package jobs holds the work the daemon schedules: plain jobs that know
// nothing of leases, and the registry (registry.go) a user edits to add one.
//
// A job runs on one replica per tick. Its context ends when the run must
// stop (shutdown past its timeout, or leadership that can no longer be
// confirmed); a job that writes to external systems should honour it, and can
// guard its writes with the fencing token from TokenFrom.
package jobs

import (
	"context"

	"go-leader-election/lease"
)

// Job is one scheduled unit of work.
type Job struct {
	// Name identifies the job across replicas: it keys the lease and names
	// the <NAME>_SCHEDULE variable (upper-cased). See CheckName.
	Name string
	// Schedule is the default schedule, overridden by <NAME>_SCHEDULE.
	Schedule string
	// Run does the work once. It must return when ctx ends.
	Run func(ctx context.Context) error
}

// Token is the fencing token of one run: the run of Tick of job Name under
// lease Term. Terms only grow, so an external system that remembers the
// highest term it accepted can refuse a write from a holder that has been
// deposed. It is lease.Token, named here so that job code need not import
// the lease package.
type Token = lease.Token

// WithToken returns ctx carrying t. The schedulers call it; jobs read it.
func WithToken(ctx context.Context, t Token) context.Context { return lease.WithToken(ctx, t) }

// TokenFrom returns the fencing token of the run ctx belongs to.
func TokenFrom(ctx context.Context) (Token, bool) { return lease.TokenFrom(ctx) }
