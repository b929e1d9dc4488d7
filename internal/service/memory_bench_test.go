package service_test

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	pb "go-leader-election/api/leaderelection/v1"
	"go-leader-election/internal/service"
)

// The server's heap per election held, on the memory store (single-server
// mode: the store's records are in the server's heap too), measured with
// runtime.ReadMemStats after a GC, before and after b.N elections are won
// (distinct names, TTL 1h):
//
//	go test -run '^$' -bench ElectionMemory -benchtime 100000x ./internal/service/
//
// "session": all held under one session, as a program holding many locks
// holds them (the server keeps nothing per election but its record).
// "lease": each held by a node of its own with a lease of its own, as the
// seed's API does (the server also keeps its observation of each record,
// to judge its lapse).
func BenchmarkElectionMemory(b *testing.B) {
	b.Run("session", func(b *testing.B) { benchElectionMemory(b, true) })
	b.Run("lease", func(b *testing.B) { benchElectionMemory(b, false) })
}

func benchElectionMemory(b *testing.B, underSession bool) {
	ts := start(b, service.Options{})
	api := dial(b, ts.addr, "")
	ctx := context.Background()
	var session string
	if underSession {
		session = createSession(b, ctx, api, "holder", time.Hour)
	}
	ask := func(i int) error {
		req := &pb.TryBecomeLeaderRequest{Election: fmt.Sprintf("memory-%08d", i), NodeId: "holder", SessionId: session}
		if !underSession {
			req.NodeId, req.Ttl = fmt.Sprintf("node-%08d", i), ttl(time.Hour)
		}
		r, err := api.TryBecomeLeader(ctx, req)
		if err == nil && !r.Leader {
			err = fmt.Errorf("%s was not granted", req.Election)
		}
		return err
	}
	if err := ask(-1); err != nil { // connections and buffers warm
		b.Fatal(err)
	}
	before := liveHeap()
	b.ResetTimer()
	var next atomic.Int64
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			for i := int(next.Add(1)) - 1; i < b.N; i = int(next.Add(1)) - 1 {
				if err := ask(i); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	b.StopTimer()
	after := liveHeap()
	b.ReportMetric(float64(int64(after)-int64(before))/float64(b.N), "heap-B/election")
	b.ReportMetric(float64(after-before)/(1<<20)*100_000/float64(b.N), "MiB/100k")
}

// liveHeap is the heap in use after a full collection.
func liveHeap() uint64 {
	var m runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}
