package scheduler

import (
	"time"

	"go-leader-election/internal/schedulers"
)

// Reasons a tick is not run on this replica, as passed to Observer.Skipped.
const (
	SkipSatOut  = schedulers.SkipSatOut  // another replica ran it, or holds the lease
	SkipOverlap = schedulers.SkipOverlap // the previous run still ran
	SkipMissed  = schedulers.SkipMissed  // a tick no replica ran
	SkipPaused  = schedulers.SkipPaused  // the job is paused
)

// Observer is told what the scheduler does, for metrics of one's own (the
// Prometheus metrics of WithRegisterer are one). Calls must be quick and must
// not block; they may come from several goroutines.
type Observer interface {
	// Started: a run began, lag after its tick.
	Started(job string, lag time.Duration)
	// Finished: a run ended after d, with err.
	Finished(job string, d time.Duration, err error)
	// Skipped: a tick was not run here, for reason (Skip*).
	Skipped(job, reason string)
	// LeaseLost: a run was given up because its lease could no longer be
	// trusted.
	LeaseLost(job string)
	// StoreCall: a store call op for job took d and ended with err.
	StoreCall(job, op string, d time.Duration, err error)
}

// observers tells each of its observers.
type observers []schedulers.Observer

func (os observers) Started(job string, lag time.Duration) {
	for _, o := range os {
		o.Started(job, lag)
	}
}

func (os observers) Finished(job string, d time.Duration, err error) {
	for _, o := range os {
		o.Finished(job, d, err)
	}
}

func (os observers) Skipped(job, reason string) {
	for _, o := range os {
		o.Skipped(job, reason)
	}
}

func (os observers) LeaseLost(job string) {
	for _, o := range os {
		o.LeaseLost(job)
	}
}

func (os observers) StoreCall(job, op string, d time.Duration, err error) {
	for _, o := range os {
		o.StoreCall(job, op, d, err)
	}
}

// PolicyObserver is told of what the jobs' policies do: a tick run late
// ("Catching up", WithStartingDeadline) and a retry ("Retrying",
// WithRetries). An Observer may implement it.
type PolicyObserver interface {
	LateRun(job string)
	Retried(job string)
}

var (
	_ schedulers.PolicyObserver  = observers(nil)
	_ schedulers.HistoryObserver = observers(nil)
)

// LateRun tells the observers that implement PolicyObserver.
func (os observers) LateRun(job string) {
	for _, o := range os {
		if p, ok := o.(schedulers.PolicyObserver); ok {
			p.LateRun(job)
		}
	}
}

// Retried tells the observers that implement PolicyObserver.
func (os observers) Retried(job string) {
	for _, o := range os {
		if p, ok := o.(schedulers.PolicyObserver); ok {
			p.Retried(job)
		}
	}
}

// HistoryDropped tells the observers that implement
// schedulers.HistoryObserver (the metrics' scheduler_history_dropped_total).
func (os observers) HistoryDropped(job, reason string) {
	for _, o := range os {
		if h, ok := o.(schedulers.HistoryObserver); ok {
			h.HistoryDropped(job, reason)
		}
	}
}
