package store

import (
	"context"
	"errors"
)

// Control is what an operator's actions need from a backend besides Store:
// the pause flag on a job's record, and the claim of a manual run. Every
// method is atomic with respect to every other call on the same job, from
// any process, like Store's.
type Control interface {
	// SetPaused atomically sets the Paused flag of the job's record,
	// creating the record if there is none (unheld, Term and Version 0),
	// and keeps every other field, Version included (see Lease.Version).
	// It returns the record written.
	SetPaused(ctx context.Context, job string, paused bool) (Lease, error)

	// ClaimManual claims a manual tick (req.Tick, required) by Claim's
	// rules, with one more way past ErrHeld: another holder's lease is also
	// taken when that holder is idle by the job's history (RunLog.Idle: its
	// latest recorded run is of the record's tick and term). A backend
	// without a history, or whose history lags, therefore refuses
	// (ErrHeld) where Claim would.
	ClaimManual(ctx context.Context, req ClaimRequest) (Lease, error)
}

// ErrNoTick is returned by ClaimManual for a request without a tick.
var ErrNoTick = errors.New("store: a manual claim needs a tick")

// ApplyManual computes the record a ClaimManual writes, from the record as
// it stands and the job's history log.
func (req ClaimRequest) ApplyManual(cur Lease, exists bool, log RunLog) (Lease, error) {
	if req.Tick.IsZero() {
		return cur, ErrNoTick
	}
	if exists && cur.Held() && cur.Holder != req.Holder && log.Idle(cur) {
		// The holder has finished its latest claimed run and can start no
		// other without a claim, which this write makes fail: taking its
		// lease is as safe as taking a lapsed one.
		req.LapsedVersion = cur.Version
	}
	return req.Apply(cur, exists)
}

// ApplyPause computes the record a SetPaused writes.
func ApplyPause(job string, cur Lease, exists bool, paused bool) Lease {
	if !exists {
		cur = Lease{Job: job}
	}
	cur.Paused = paused
	return cur
}
