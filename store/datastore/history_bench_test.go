package datastore_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"go-leader-election/store"
	dsstore "go-leader-election/store/datastore"
)

// BenchmarkDatastoreAppendRun: one run's record, alone: what a leader's run
// adds to its claim.
func BenchmarkDatastoreAppendRun(b *testing.B) {
	s := newStore(b, dsstore.Config{Namespace: "hbench"})
	job := jobName("hbench")
	ctx := context.Background()
	start := s.Calls().Total()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if err := s.AppendRun(ctx, runRec(job, i+1, store.ResultOK)); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(s.Calls().Total()-start)/float64(b.N), "rpcs/op")
}

// BenchmarkDatastoreAppendRunBurst: 300 jobs' records at the same moment, as
// when a node's runs of a shared tick end together; ns/op is per burst.
func BenchmarkDatastoreAppendRunBurst(b *testing.B) {
	s := newStore(b, dsstore.Config{Namespace: "hbench"})
	ctx := context.Background()
	prefix := jobName("hburst")
	const n = 300
	start := s.Calls().Total()
	for i := 0; b.Loop(); i++ {
		var wg sync.WaitGroup
		for j := range n {
			wg.Go(func() {
				if err := s.AppendRun(ctx, runRec(fmt.Sprintf("%s-%d", prefix, j), i+1, store.ResultOK)); err != nil {
					b.Error(err)
				}
			})
		}
		wg.Wait()
	}
	b.ReportMetric(float64(s.Calls().Total()-start)/float64(b.N), "rpcs/op")
	b.ReportMetric(float64(s.Calls().Total()-start)/float64(b.N*n), "rpcs/record")
}

// BenchmarkDatastoreRuns: a read of a full history of 50 runs (the status
// page reads one per job).
func BenchmarkDatastoreRuns(b *testing.B) {
	s := newStore(b, dsstore.Config{Namespace: "hbench"})
	job := jobName("hruns")
	ctx := context.Background()
	for i := range store.DefaultHistoryLimit {
		if err := s.AppendRun(ctx, runRec(job, i+1, store.ResultOK)); err != nil {
			b.Fatal(err)
		}
	}
	start := s.Calls().Total()
	b.ReportAllocs()
	for b.Loop() {
		if runs, err := s.Runs(ctx, job, 50); err != nil || len(runs) != 50 {
			b.Fatal(len(runs), err)
		}
	}
	b.ReportMetric(float64(s.Calls().Total()-start)/float64(b.N), "rpcs/op")
}
