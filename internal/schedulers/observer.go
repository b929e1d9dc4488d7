package schedulers

import "time"

// Reasons a tick is not run here, as passed to Observer.Skipped.
const (
	SkipSatOut  = "sat out" // another node ran it, or holds the lease
	SkipOverlap = "overlap" // the previous run still ran (policy Forbid)
	SkipMissed  = "missed"  // a tick no node ran (seen by the next claim), or one claimed too late to run
	SkipPaused  = "paused"  // the job is paused (POST /jobs/{job}/pause)
)

// Observer is told what schedulers do, for metrics. Calls must be quick and
// must not block; they may come from several goroutines.
type Observer interface {
	Started(job string, lag time.Duration)
	Finished(job string, d time.Duration, err error)
	Skipped(job, reason string)
	LeaseLost(job string)
	StoreCall(job, op string, d time.Duration, err error)
}

type nopObserver struct{}

func (nopObserver) Started(string, time.Duration)                  {}
func (nopObserver) Finished(string, time.Duration, error)          {}
func (nopObserver) Skipped(string, string)                         {}
func (nopObserver) LeaseLost(string)                               {}
func (nopObserver) StoreCall(string, string, time.Duration, error) {}

// PolicyObserver is told of what the jobs' policies do, for metrics: a late
// run (a tick caught up, "Catching up") and a retry ("Retrying"). An
// Observer may implement it.
type PolicyObserver interface {
	LateRun(job string)
	Retried(job string)
}
