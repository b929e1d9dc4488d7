package service_test

import (
	"context"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	pb "go-leader-election/api/leaderelection/v1"
	"go-leader-election/internal/service"
)

// TestWatchSendsTheLeaderAndEveryChange: the current state at once, then a
// message per change (a renewal is none), and UNAVAILABLE at shutdown.
func TestWatchSendsTheLeaderAndEveryChange(t *testing.T) {
	ctx := ctxT(t)
	clk := &shiftClock{}
	ts := start(t, service.Options{Clock: clk, WatchPeriod: 10 * time.Millisecond})
	api := dial(t, ts.addr, "")
	stream, err := api.Watch(ctx, &pb.WatchRequest{Election: "e"})
	if err != nil {
		t.Fatal(err)
	}
	next := func(want string, term int64) {
		t.Helper()
		m, err := stream.Recv()
		if err != nil {
			t.Fatal(err)
		}
		if m.Leader.GetNodeId() != want || m.Term != term {
			t.Fatalf("watch sent %v; want leader %q, term %d", m, want, term)
		}
	}
	next("", 0)
	try := func(node string) {
		t.Helper()
		if _, err := api.TryBecomeLeader(ctx, &pb.TryBecomeLeaderRequest{Election: "e", NodeId: node, Ttl: ttl(10 * time.Second)}); err != nil {
			t.Fatal(err)
		}
	}
	try("a")
	next("a", 1)
	for range 3 { // renewals are not changes
		if _, err := api.Heartbeat(ctx, &pb.HeartbeatRequest{Election: "e", NodeId: "a", Term: 1}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := api.ReleaseLeadership(ctx, &pb.ReleaseLeadershipRequest{Election: "e", NodeId: "a", Term: 1}); err != nil {
		t.Fatal(err)
	}
	next("", 1)
	try("b")
	next("b", 2)
	clk.Shift(11 * time.Second) // b's lease lapses, by the server's observation
	next("", 2)
	ts.Close()
	if _, err := stream.Recv(); status.Code(err) != codes.Unavailable {
		t.Fatalf("at shutdown the stream ended with %v; want Unavailable", err)
	}
}

// TestWatchersOfOneElectionShareItsReads: a second watcher gets the state
// at once, and a watcher that leaves stops nothing for the others.
func TestWatchersOfOneElectionShareItsReads(t *testing.T) {
	ctx := ctxT(t)
	api := dial(t, start(t, service.Options{WatchPeriod: 10 * time.Millisecond}).addr, "")
	if _, err := api.TryBecomeLeader(ctx, &pb.TryBecomeLeaderRequest{Election: "e", NodeId: "a", Ttl: ttl(10 * time.Second)}); err != nil {
		t.Fatal(err)
	}
	first, cancelFirst := context.WithCancel(ctx)
	s1, err := api.Watch(first, &pb.WatchRequest{Election: "e"})
	if err != nil {
		t.Fatal(err)
	}
	s2, err := api.Watch(ctx, &pb.WatchRequest{Election: "e"})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []pb.LeaderElection_WatchClient{s1, s2} {
		if m, err := s.Recv(); err != nil || m.Leader.GetNodeId() != "a" {
			t.Fatalf("first message: %v, %v; want a", m, err)
		}
	}
	cancelFirst()
	if _, err := api.ReleaseLeadership(ctx, &pb.ReleaseLeadershipRequest{Election: "e", NodeId: "a", Term: 1}); err != nil {
		t.Fatal(err)
	}
	if m, err := s2.Recv(); err != nil || m.Leader != nil {
		t.Fatalf("after the release: %v, %v; want no leader", m, err)
	}
}
