package postgres_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"go-leader-election/store/postgres"
)

// The benchmarks run against POSTGRES_TEST_URL (they skip without it), each
// in a schema of its own. "rtts/op" is the round trips to PostgreSQL per
// operation, from the store's own counter.

func reportRoundTrips(b *testing.B, s *postgres.Store, start int64, per int) {
	b.ReportMetric(float64(s.Calls().Total()-start)/float64(b.N*per), "rtts/op")
}

// BenchmarkPostgresClaim: the leader's claim, one after another: the
// latency of a claim (two round trips).
func BenchmarkPostgresClaim(b *testing.B) {
	s := newStore(b, postgres.Config{})
	job := jobName("bench")
	ctx := context.Background()
	start := s.Calls().Total()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if _, err := s.Claim(ctx, claimReq(job, "a", i+1, 0)); err != nil {
			b.Fatal(err)
		}
	}
	reportRoundTrips(b, s, start, 1)
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "claims/s")
}

// BenchmarkPostgresClaimParallel: many jobs claimed at once through one
// store (its pool), as one node's schedulers do at a shared tick. With
// -cpu 1 it is the claims one core of the client sustains.
func BenchmarkPostgresClaimParallel(b *testing.B) {
	s := newStore(b, postgres.Config{})
	ctx := context.Background()
	var seq atomic.Int64
	prefix := jobName("bench")
	start := s.Calls().Total()
	b.SetParallelism(8)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		job := fmt.Sprintf("%s-%d", prefix, seq.Add(1))
		for i := 0; pb.Next(); i++ {
			if _, err := s.Claim(ctx, claimReq(job, "a", i+1, 0)); err != nil {
				b.Error(err)
				return
			}
		}
	})
	reportRoundTrips(b, s, start, 1)
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "claims/s")
}

// BenchmarkPostgresGet: a follower's read.
func BenchmarkPostgresGet(b *testing.B) {
	s := newStore(b, postgres.Config{})
	job := jobName("bench")
	ctx := context.Background()
	if _, err := s.Claim(ctx, claimReq(job, "a", 1, 0)); err != nil {
		b.Fatal(err)
	}
	start := s.Calls().Total()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Get(ctx, job); err != nil {
			b.Fatal(err)
		}
	}
	reportRoundTrips(b, s, start, 1)
}

// BenchmarkPostgresClaimBurst: 300 jobs claimed at the same moment, as by
// a node leading 300 jobs at a shared tick; ns/op is per burst.
func BenchmarkPostgresClaimBurst(b *testing.B) {
	s := newStore(b, postgres.Config{})
	ctx := context.Background()
	prefix := jobName("burst")
	const n = 300
	start := s.Calls().Total()
	for i := 0; b.Loop(); i++ {
		var wg sync.WaitGroup
		for j := range n {
			wg.Go(func() {
				if _, err := s.Claim(ctx, claimReq(fmt.Sprintf("%s-%d", prefix, j), "a", i+1, 0)); err != nil {
					b.Error(err)
				}
			})
		}
		wg.Wait()
	}
	reportRoundTrips(b, s, start, n)
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*n), "µs/claim")
}
