package postgres_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"go-leader-election/internal/pgtest"
	"go-leader-election/store"
	"go-leader-election/store/postgres"
	"go-leader-election/store/storetest"
)

// newStore returns a store on the test server, in cfg.Schema or a schema
// of t's own, closed when t ends.
func newStore(t testing.TB, cfg postgres.Config) *postgres.Store {
	t.Helper()
	if cfg.URL == "" {
		cfg.URL = pgtest.URL(t)
	}
	if cfg.Schema == "" {
		cfg.Schema = pgtest.Schema(t, cfg.URL)
	}
	s, err := postgres.New(context.Background(), cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

var jobSeq atomic.Int64

func jobName(prefix string) string {
	return fmt.Sprintf("%s-%d-%d", prefix, time.Now().UnixNano(), jobSeq.Add(1))
}

var base = time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)

func claimReq(job, node string, tick int, lapsed int64) store.ClaimRequest {
	at := base.Add(time.Duration(tick) * time.Second)
	return store.ClaimRequest{
		Job: job, Holder: node + "/x", Node: node, Tick: at,
		TTL: 1500 * time.Millisecond, Now: at, LapsedVersion: lapsed,
	}
}

// Each conformance test runs in a schema of its own.

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return newStore(t, postgres.Config{}) })
}

func TestConformanceElections(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return newStore(t, postgres.Config{Kind: "Election"}) })
}

func TestMembersConformance(t *testing.T) {
	storetest.RunMembers(t, func(t *testing.T) store.Members { return newStore(t, postgres.Config{}) })
}

func TestHistoryConformance(t *testing.T) {
	storetest.RunHistory(t, func(t *testing.T, limit int) store.History {
		return newStore(t, postgres.Config{HistoryLimit: limit})
	})
}

func TestControlConformance(t *testing.T) {
	storetest.RunControl(t, func(t *testing.T) storetest.Backend { return newStore(t, postgres.Config{}) })
}

// rpcs runs fn and returns the round trips it made, by method.
func rpcs(s *postgres.Store, fn func()) map[string]int64 {
	before := s.Calls().Snapshot()
	fn()
	diff := map[string]int64{}
	for m, n := range s.Calls().Snapshot() {
		if d := n - before[m]; d != 0 {
			diff[m] = d
		}
	}
	return diff
}
