package memory

import (
	"context"

	"go-leader-election/store"
)

// runLog is one job's history: a ring of the last limit records.
type runLog struct {
	log  store.RunLog
	ring []store.SeqRecord // slot Seq % len(ring)
}

// AppendRun implements store.History.
func (s *Store) AppendRun(_ context.Context, rec store.RunRecord) error {
	rec.Error = store.TruncateError(rec.Error)
	s.mu.Lock()
	defer s.mu.Unlock()
	h := s.runs[rec.Job]
	if h == nil {
		h = &runLog{ring: make([]store.SeqRecord, s.limit)}
		s.runs[rec.Job] = h
	}
	next, seq, ok := h.log.Append(rec)
	if !ok {
		return nil
	}
	h.log = next
	h.ring[seq%int64(len(h.ring))] = store.SeqRecord{Seq: seq, RunRecord: rec}
	return nil
}

// Runs implements store.History.
func (s *Store) Runs(_ context.Context, job string, limit int) ([]store.RunRecord, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	h := s.runs[job]
	if h == nil {
		return []store.RunRecord{}, nil
	}
	n := min(int(h.log.Next), len(h.ring))
	recs := make([]store.SeqRecord, 0, n)
	for i := h.log.Next - int64(n); i < h.log.Next; i++ {
		recs = append(recs, h.ring[i%int64(len(h.ring))])
	}
	return store.LatestRuns(recs, h.log, len(h.ring), limit), nil
}

// SetPaused implements store.Control.
func (s *Store) SetPaused(_ context.Context, job string, paused bool) (store.Lease, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cur, ok := s.leases.get(job)
	next := store.ApplyPause(job, cur, ok, paused)
	s.leases.put(job, next)
	return next, nil
}

// ClaimManual implements store.Control.
func (s *Store) ClaimManual(_ context.Context, req store.ClaimRequest) (store.Lease, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cur, ok := s.leases.get(req.Job)
	var log store.RunLog
	if h := s.runs[req.Job]; h != nil {
		log = h.log
	}
	next, err := req.ApplyManual(cur, ok, log)
	if err == nil {
		s.leases.put(req.Job, next)
	}
	return next, err
}
