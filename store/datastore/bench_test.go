package datastore_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go-leader-election/store"
	dsstore "go-leader-election/store/datastore"
)

// BenchmarkDatastoreClaim: the leader's claim, through the real Go client
// over gRPC to the in-process emulator. rpcs/op is what Datastore would bill.
func BenchmarkDatastoreClaim(b *testing.B) {
	s := newStore(b, dsstore.Config{Namespace: "bench"})
	job := jobName("bench")
	ctx := context.Background()
	start := s.Calls().Total()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if _, err := s.Claim(ctx, claimReq(job, "a", i+1, 0)); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(s.Calls().Total()-start)/float64(b.N), "rpcs/op")
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "claims/s")
}

// BenchmarkDatastoreClaimParallel: many jobs claimed at once by one client,
// as one node's schedulers do at a shared tick.
func BenchmarkDatastoreClaimParallel(b *testing.B) {
	s := newStore(b, dsstore.Config{Namespace: "bench"})
	ctx := context.Background()
	var seq atomic.Int64
	prefix := jobName("bench")
	start := s.Calls().Total()
	b.SetParallelism(8)
	b.RunParallel(func(pb *testing.PB) {
		job := fmt.Sprintf("%s-%d", prefix, seq.Add(1))
		for i := 0; pb.Next(); i++ {
			if _, err := s.Claim(ctx, claimReq(job, "a", i+1, 0)); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(s.Calls().Total()-start)/float64(b.N), "rpcs/op")
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "claims/s")
}

// BenchmarkDatastoreGet: a follower's read.
func BenchmarkDatastoreGet(b *testing.B) {
	s := newStore(b, dsstore.Config{Namespace: "bench"})
	job := jobName("bench")
	ctx := context.Background()
	if _, err := s.Claim(ctx, claimReq(job, "a", 1, 0)); err != nil {
		b.Fatal(err)
	}
	start := s.Calls().Total()
	for b.Loop() {
		if _, err := s.Get(ctx, job); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(s.Calls().Total()-start)/float64(b.N), "rpcs/op")
}

// BenchmarkDatastoreClaimBurst: 300 jobs claimed at the same moment, as by
// a node leading 300 jobs at a shared tick; ns/op is per burst.
func BenchmarkDatastoreClaimBurst(b *testing.B) {
	s := newStore(b, dsstore.Config{Namespace: "bench"})
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
	b.ReportMetric(float64(s.Calls().Total()-start)/float64(b.N), "rpcs/op")
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*n), "µs/claim")
}

// BenchmarkDatastoreRenewBurst: 2,000 leases renewed at the same moment, as
// by a lease server answering the keepalives of 2,000 sessions; ns/op is per
// burst. Renewals share commits of up to 500.
func BenchmarkDatastoreRenewBurst(b *testing.B) {
	s := newStore(b, dsstore.Config{Namespace: "bench"})
	ctx := context.Background()
	prefix := jobName("renew")
	const n = 2000
	job := func(j int) string { return fmt.Sprintf("%s-%d", prefix, j) }
	for j := range n {
		if _, err := s.Claim(ctx, claimReq(job(j), "a", 0, 0)); err != nil {
			b.Fatal(err)
		}
	}
	start := s.Calls().Total()
	for b.Loop() {
		var wg sync.WaitGroup
		for j := range n {
			wg.Go(func() {
				if _, err := s.Renew(ctx, store.RenewRequest{Job: job(j), Holder: "a/x", Term: 1, TTL: time.Minute, Now: base}); err != nil {
					b.Error(err)
				}
			})
		}
		wg.Wait()
	}
	b.ReportMetric(float64(s.Calls().Total()-start)/float64(b.N), "rpcs/op")
	b.ReportMetric(float64(b.N*n)/b.Elapsed().Seconds(), "renewals/s")
}
