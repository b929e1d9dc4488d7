package postgres

import (
	"context"

	"go-leader-election/store"
)

// SetPaused implements store.Control in one transaction on the job's row,
// shared as Claim's.
func (s *Store) SetPaused(ctx context.Context, job string, paused bool) (store.Lease, error) {
	return s.write(ctx, "pause", job, func(cur store.Lease, exists bool) (store.Lease, error) {
		return store.ApplyPause(job, cur, exists, paused), nil
	})
}

// ClaimManual implements store.Control in one transaction that reads the
// job's row (locked) and its history log (share-locked, so that no append
// changes whether the holder is idle before this commits) in its first
// round trip.
func (s *Store) ClaimManual(ctx context.Context, req store.ClaimRequest) (store.Lease, error) {
	if err := checkName("manual claim", req.Job); err != nil {
		return store.Lease{}, err
	}
	return s.transactWithLog(ctx, "manual claim", req.Job, req.ApplyManual)
}
