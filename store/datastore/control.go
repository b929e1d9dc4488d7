package datastore

import (
	"context"
	"errors"

	"go-leader-election/store"
)

// SetPaused implements store.Control in one transaction (a Lookup and a
// Commit) on the job's lease entity.
func (s *Store) SetPaused(ctx context.Context, job string, paused bool) (store.Lease, error) {
	return s.update(ctx, "pause", job, func(cur store.Lease, exists bool) (store.Lease, error) {
		return store.ApplyPause(job, cur, exists, paused), nil
	})
}

// ClaimManual implements store.Control in one transaction whose Lookup reads
// the lease entity and the job's history log together, then a Commit: two
// RPCs, as a claim.
func (s *Store) ClaimManual(ctx context.Context, req store.ClaimRequest) (store.Lease, error) {
	if req.Job == "" {
		return store.Lease{}, errors.New("datastore: manual claim: empty job name")
	}
	return s.transact(ctx, "manual claim", req.Job, true, req.ApplyManual)
}
