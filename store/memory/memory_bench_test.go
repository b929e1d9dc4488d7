package memory_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"go-leader-election/store"
	"go-leader-election/store/memory"
)

var epoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// BenchmarkMemoryClaim: a holder claiming one tick after another, the
// leader's path. ns/op is the cost of one atomic claim.
func BenchmarkMemoryClaim(b *testing.B) {
	s := memory.New()
	ctx := context.Background()
	req := store.ClaimRequest{Job: "job", Holder: "a/1", Node: "a", TTL: time.Second}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		req.Tick = epoch.Add(time.Duration(i+1) * time.Second)
		req.Now = req.Tick
		if _, err := s.Claim(ctx, req); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "claims/s")
}

// BenchmarkMemoryClaimParallel: every goroutine claims ticks of its own job,
// all on one store (one lock), as many schedulers of one process do.
func BenchmarkMemoryClaimParallel(b *testing.B) {
	s := memory.New()
	ctx := context.Background()
	var next atomic.Int64
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		job := fmt.Sprintf("job-%d", next.Add(1))
		req := store.ClaimRequest{Job: job, Holder: "a/1", Node: "a", TTL: time.Second}
		for i := 0; pb.Next(); i++ {
			req.Tick = epoch.Add(time.Duration(i+1) * time.Second)
			req.Now = req.Tick
			if _, err := s.Claim(ctx, req); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "claims/s")
}
