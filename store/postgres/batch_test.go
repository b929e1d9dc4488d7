package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"go-leader-election/internal/pgtest"
	"go-leader-election/store"
	"go-leader-election/store/postgres"
)

// TestBatchedClaims: three nodes claim the same 300 jobs' next tick at the
// same moment, each through its own store (pool), so that their batches
// lock overlapping rows: every job's tick goes to exactly one node, no
// transaction fails (rows are locked in one order: no deadlock), and the
// claims share their round trips.
func TestBatchedClaims(t *testing.T) {
	const jobs, nodes, ticks = 300, 3, 3
	url := pgtest.URL(t)
	schema := pgtest.Schema(t, url)
	var stores []*postgres.Store
	for range nodes {
		stores = append(stores, newStore(t, postgres.Config{URL: url, Schema: schema}))
	}
	prefix := jobName("batch")
	ctx := context.Background()
	for tick := 1; tick <= ticks; tick++ {
		won := make([][]string, jobs)
		var mu sync.Mutex
		var wg sync.WaitGroup
		before := totalCalls(stores)
		for n, st := range stores {
			for j := range jobs {
				wg.Go(func() {
					job := fmt.Sprintf("%s-%d", prefix, j)
					// The previous holder renews nothing: every claim names
					// the current version lapsed, so that any node may win.
					cur, err := st.Get(ctx, job)
					if err != nil && !errors.Is(err, store.ErrNotFound) {
						t.Error(err)
						return
					}
					_, err = st.Claim(ctx, claimReq(job, fmt.Sprint("n", n), tick, cur.Version))
					switch {
					case err == nil:
						mu.Lock()
						won[j] = append(won[j], fmt.Sprint("n", n))
						mu.Unlock()
					case !store.IsRefusal(err):
						t.Errorf("claim of %s, tick %d: %v", job, tick, err)
					}
				})
			}
		}
		wg.Wait()
		for j, w := range won {
			if len(w) != 1 {
				t.Errorf("tick %d of job %d won by %v, want one node", tick, j, w)
			}
		}
		trips := totalCalls(stores) - before
		t.Logf("tick %d: %d gets and %d claims in %d round trips", tick, jobs*nodes, jobs*nodes, trips)
		if trips >= jobs*nodes {
			t.Errorf("tick %d: %d round trips for %d gets and claims: they were not batched", tick, trips, 2*jobs*nodes)
		}
	}
}

func totalCalls(stores []*postgres.Store) int {
	n := int64(0)
	for _, s := range stores {
		n += s.Calls().Total()
	}
	return int(n)
}

// TestTextPostgreSQLRefuses: a name PostgreSQL cannot store (NUL, invalid
// UTF-8) is refused before it can fail the batch it would go in; a run's
// error is anything a job returned, and is stored made valid.
func TestTextPostgreSQLRefuses(t *testing.T) {
	s := newStore(t, postgres.Config{})
	ctx := context.Background()
	for _, name := range []string{"", "a\x00b", "a\xffb"} {
		if _, err := s.Claim(ctx, claimReq(name, "a", 1, 0)); !errors.Is(err, postgres.ErrBadName) {
			t.Errorf("claim of %q: %v, want ErrBadName", name, err)
		}
		if _, err := s.Get(ctx, name); !errors.Is(err, postgres.ErrBadName) {
			t.Errorf("get of %q: %v, want ErrBadName", name, err)
		}
	}
	job := jobName("text")
	rec := store.RunRecord{Job: job, Tick: base, Term: 1, Node: "a", Result: store.ResultError, Error: "bad\x00byte \xff here"}
	if err := s.AppendRun(ctx, rec); err != nil {
		t.Fatalf("AppendRun of an error with a NUL and invalid UTF-8: %v", err)
	}
	runs, err := s.Runs(ctx, job, 1)
	if err != nil || len(runs) != 1 || runs[0].Error != "badbyte \uFFFD here" {
		t.Fatalf("Runs = %+v, %v; want the error made valid", runs, err)
	}
}
