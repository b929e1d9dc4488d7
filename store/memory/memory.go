// Package memory is the embedded lease store: a map behind a mutex. It is
// atomic within one process and shares nothing with other processes, so it
// suits a single replica, tests and benchmarks, not a replicated service.
package memory

import (
	"context"
	"slices"
	"strings"
	"sync"

	"go-leader-election/store"
)

// Store is an in-process store.Store, store.History and store.Control. The
// zero value is not usable; call New.
type Store struct {
	mu      sync.Mutex
	leases  *table
	members map[string]store.Member
	runs    map[string]*runLog // history, by job (history.go)
	limit   int                // runs kept per job
}

// Option configures a Store.
type Option func(*Store)

// WithHistoryLimit keeps n runs per job (1 to store.MaxHistoryLimit; values
// outside are clamped) instead of store.DefaultHistoryLimit.
func WithHistoryLimit(n int) Option {
	return func(s *Store) { s.limit = min(max(n, 1), store.MaxHistoryLimit) }
}

// New returns an empty store.
func New(opts ...Option) *Store {
	s := &Store{leases: newTable(), members: make(map[string]store.Member),
		runs: make(map[string]*runLog), limit: store.DefaultHistoryLimit}
	for _, o := range opts {
		o(s)
	}
	return s
}

var (
	_ store.Store   = (*Store)(nil)
	_ store.Members = (*Store)(nil)
	_ store.History = (*Store)(nil)
	_ store.Control = (*Store)(nil)
)

// Get implements store.Store.
func (s *Store) Get(_ context.Context, job string) (store.Lease, error) {
	s.mu.Lock()
	l, ok := s.leases.get(job)
	s.mu.Unlock()
	if !ok {
		return store.Lease{}, store.ErrNotFound
	}
	return l, nil
}

// Claim implements store.Store.
func (s *Store) Claim(_ context.Context, req store.ClaimRequest) (store.Lease, error) {
	return s.update(req.Job, req.Apply)
}

// Renew implements store.Store.
func (s *Store) Renew(_ context.Context, req store.RenewRequest) (store.Lease, error) {
	return s.update(req.Job, req.Apply)
}

// Release implements store.Store.
func (s *Store) Release(_ context.Context, req store.ReleaseRequest) error {
	_, err := s.update(req.Job, req.Apply)
	return err
}

// update applies a rule to job's record, atomically: the record it computes
// is stored unless the rule refuses.
func (s *Store) update(job string, apply func(cur store.Lease, exists bool) (store.Lease, error)) (store.Lease, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cur, ok := s.leases.get(job)
	next, err := apply(cur, ok)
	if err == nil {
		s.leases.put(job, next)
	}
	return next, err
}

// Ping implements store.Store; the embedded store always answers.
func (s *Store) Ping(context.Context) error { return nil }

// Close implements store.Store.
func (s *Store) Close() error { return nil }

// PutMember implements store.Members.
func (s *Store) PutMember(_ context.Context, m store.Member) (store.Member, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m.Version = s.members[m.ID].Version + 1
	m.Jobs = slices.Clone(m.Jobs) // the caller's slice stays the caller's
	s.members[m.ID] = m
	return m, nil
}

// DeleteMember implements store.Members.
func (s *Store) DeleteMember(_ context.Context, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.members, id)
	return nil
}

// ListMembers implements store.Members.
func (s *Store) ListMembers(context.Context) ([]store.Member, []error, error) {
	s.mu.Lock()
	out := make([]store.Member, 0, len(s.members))
	for _, m := range s.members {
		m.Jobs = slices.Clone(m.Jobs)
		out = append(out, m)
	}
	s.mu.Unlock()
	slices.SortFunc(out, func(a, b store.Member) int { return strings.Compare(a.ID, b.ID) })
	return out, nil, nil
}
