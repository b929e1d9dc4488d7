package service_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	pb "go-leader-election/api/leaderelection/v1"
	"go-leader-election/internal/service"
	"go-leader-election/store"
	"go-leader-election/store/memory"
)

// Lease operations per second over gRPC on loopback, client and server in
// this process, each goroutine on an election of its own (no contention):
//
//	go test -run '^$' -bench . -benchtime 3s ./internal/service/
//
// "memory" is single-server mode; "emulator" is distributed mode on the
// project's Datastore emulator (every heartbeat a Datastore transaction:
// Lookup and Commit); "postgres" on POSTGRES_TEST_URL (a transaction of
// two round trips).
func BenchmarkLeaseOps(b *testing.B) {
	for _, backend := range []string{"memory", "emulator", "postgres"} {
		newStore := func(b *testing.B) store.Store {
			switch backend {
			case "memory":
				return memory.New()
			case "postgres":
				return onPostgres(b, namespace(b))
			}
			return datastoreOnEmulator(b, namespace(b))
		}
		b.Run("Heartbeat/"+backend, func(b *testing.B) { benchOps(b, newStore(b), false, heartbeat) })
		b.Run("TryBecomeLeader-follower/"+backend, func(b *testing.B) { benchOps(b, newStore(b), false, follow) })
		b.Run("TryBecomeLeader+Release/"+backend, func(b *testing.B) { benchOps(b, newStore(b), true, claimRelease) })
	}
}

type benchOp func(ctx context.Context, api pb.LeaderElectionClient, election string) error

// benchOps runs op in 32 goroutines per core, each on its own election,
// after a's first claim of it (and its release, if free).
func benchOps(b *testing.B, st store.Store, free bool, op benchOp) {
	ts := start(b, service.Options{Store: st})
	var seq atomic.Int64
	ctx := context.Background()
	b.SetParallelism(32)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pbt *testing.PB) {
		api := dial(b, ts.addr, "") // a connection per goroutine, as separate clients would have
		election := fmt.Sprintf("bench-%d", seq.Add(1))
		if _, err := api.TryBecomeLeader(ctx, &pb.TryBecomeLeaderRequest{Election: election, NodeId: "a", Ttl: ttl(time.Minute)}); err != nil {
			b.Error(err)
			return
		}
		if free {
			if _, err := api.ReleaseLeadership(ctx, &pb.ReleaseLeadershipRequest{Election: election, NodeId: "a", Term: 1}); err != nil {
				b.Error(err)
				return
			}
		}
		for pbt.Next() {
			if err := op(ctx, api, election); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "ops/s")
}

func heartbeat(ctx context.Context, api pb.LeaderElectionClient, election string) error {
	_, err := api.Heartbeat(ctx, &pb.HeartbeatRequest{Election: election, NodeId: "a", Term: 1, Ttl: ttl(time.Minute)})
	return err
}

// follow is a follower's poll: the lease is a's, so it is a read.
func follow(ctx context.Context, api pb.LeaderElectionClient, election string) error {
	r, err := api.TryBecomeLeader(ctx, &pb.TryBecomeLeaderRequest{Election: election, NodeId: "b", Ttl: ttl(time.Minute)})
	if err == nil && r.Leader {
		err = fmt.Errorf("b won %s", election)
	}
	return err
}

// claimRelease is a grant of a free lease and its release: two calls, each
// a read and a write of the store (counted as one op: ops/s is cycles/s).
func claimRelease(ctx context.Context, api pb.LeaderElectionClient, election string) error {
	r, err := api.TryBecomeLeader(ctx, &pb.TryBecomeLeaderRequest{Election: election, NodeId: "b", Ttl: ttl(time.Minute)})
	if err != nil {
		return err
	}
	if !r.Leader {
		return fmt.Errorf("b was not granted the free lease %s", election)
	}
	_, err = api.ReleaseLeadership(ctx, &pb.ReleaseLeadershipRequest{Election: election, NodeId: "b", Term: r.Term})
	return err
}
