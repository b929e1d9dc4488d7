package service_test

import (
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"

	pb "go-leader-election/api/leaderelection/v1"
	"go-leader-election/internal/service"
)

// TestSeedFlow is the seed service's own flow: try -> leader; a second node
// -> not leader, told who is; heartbeat keeps it; release -> the second node
// wins; the first node's stale term is refused.
func TestSeedFlow(t *testing.T) {
	ctx := ctxT(t)
	api := dial(t, start(t, service.Options{}).addr, "")
	a, err := api.TryBecomeLeader(ctx, &pb.TryBecomeLeaderRequest{Election: "production", NodeId: "a", Ttl: ttl(10 * time.Second)})
	if err != nil {
		t.Fatal(err)
	}
	if !a.Leader || a.Term != 1 || a.Ttl.AsDuration() != 10*time.Second || a.Current.GetNodeId() != "a" {
		t.Fatalf("a's first try: %v; want leader, term 1, ttl 10s", a)
	}
	b, err := api.TryBecomeLeader(ctx, &pb.TryBecomeLeaderRequest{Election: "production", NodeId: "b", Ttl: ttl(10 * time.Second)})
	if err != nil {
		t.Fatal(err)
	}
	if b.Leader || b.Current.GetNodeId() != "a" || b.Term != 1 || b.Current.GetRemaining().AsDuration() <= 0 {
		t.Fatalf("b's try: %v; want not leader, told a leads under term 1", b)
	}
	hb, err := api.Heartbeat(ctx, &pb.HeartbeatRequest{Election: "production", NodeId: "a", Term: 1, Ttl: ttl(5 * time.Second)})
	if err != nil || hb.Term != 1 || hb.Ttl.AsDuration() != 5*time.Second {
		t.Fatalf("a's heartbeat: %v, %v; want term 1, ttl 5s", hb, err)
	}
	hb, err = api.Heartbeat(ctx, &pb.HeartbeatRequest{Election: "production", NodeId: "a", Term: 1})
	if err != nil || hb.Ttl.AsDuration() != 5*time.Second {
		t.Fatalf("a's heartbeat without a TTL: %v, %v; want the last TTL, 5s", hb, err)
	}
	is, err := api.IsLeader(ctx, &pb.IsLeaderRequest{Election: "production", NodeId: "a"})
	if err != nil || !is.Leader || is.Term != 1 {
		t.Fatalf("IsLeader(a): %v, %v", is, err)
	}
	is, err = api.IsLeader(ctx, &pb.IsLeaderRequest{Election: "production", NodeId: "b"})
	if err != nil || is.Leader || is.Current.GetNodeId() != "a" {
		t.Fatalf("IsLeader(b): %v, %v", is, err)
	}
	if _, err := api.ReleaseLeadership(ctx, &pb.ReleaseLeadershipRequest{Election: "production", NodeId: "a", Term: 1}); err != nil {
		t.Fatal(err)
	}
	cur, err := api.GetCurrentLeader(ctx, &pb.GetCurrentLeaderRequest{Election: "production"})
	if err != nil || cur.Leader != nil || cur.Term != 1 {
		t.Fatalf("after the release: %v, %v; want no leader, last term 1", cur, err)
	}
	b, err = api.TryBecomeLeader(ctx, &pb.TryBecomeLeaderRequest{Election: "production", NodeId: "b", Ttl: ttl(10 * time.Second)})
	if err != nil || !b.Leader || b.Term != 2 {
		t.Fatalf("b's try after the release: %v, %v; want leader under term 2", b, err)
	}
	_, err = api.Heartbeat(ctx, &pb.HeartbeatRequest{Election: "production", NodeId: "a", Term: 1})
	if status.Code(err) != codes.FailedPrecondition || !strings.Contains(err.Error(), `"b" holds it under term 2`) {
		t.Fatalf("a's heartbeat under its stale term: %v; want FailedPrecondition naming b", err)
	}
	_, err = api.ReleaseLeadership(ctx, &pb.ReleaseLeadershipRequest{Election: "production", NodeId: "a", Term: 1})
	if status.Code(err) != codes.FailedPrecondition {
		t.Fatalf("a's release under its stale term: %v; want FailedPrecondition", err)
	}
	cur, err = api.GetCurrentLeader(ctx, &pb.GetCurrentLeaderRequest{Election: "production"})
	if err != nil || cur.Leader.GetNodeId() != "b" || cur.Term != 2 {
		t.Fatalf("the stale calls changed the leader: %v, %v", cur, err)
	}
}

// TestRetryByTheLeaderKeepsTheTerm: a leader asking again (after a lost
// answer) is granted again under the same term.
func TestRetryByTheLeaderKeepsTheTerm(t *testing.T) {
	ctx := ctxT(t)
	api := dial(t, start(t, service.Options{}).addr, "")
	req := &pb.TryBecomeLeaderRequest{Election: "e", NodeId: "a", Ttl: ttl(time.Minute)}
	for range 3 {
		r, err := api.TryBecomeLeader(ctx, req)
		if err != nil || !r.Leader || r.Term != 1 {
			t.Fatalf("try: %v, %v; want leader under term 1 every time", r, err)
		}
	}
}

// TestLapseIsJudgedByObservedTime: another node wins only once the server
// has seen the record unchanged for its TTL, on the server's clock; a
// heartbeat restarts the wait.
func TestLapseIsJudgedByObservedTime(t *testing.T) {
	ctx := ctxT(t)
	clk := &shiftClock{}
	api := dial(t, start(t, service.Options{Clock: clk}).addr, "")
	try := func(node string) *pb.TryBecomeLeaderResponse {
		t.Helper()
		r, err := api.TryBecomeLeader(ctx, &pb.TryBecomeLeaderRequest{Election: "e", NodeId: node, Ttl: ttl(10 * time.Second)})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	if !try("a").Leader {
		t.Fatal("a did not win a free election")
	}
	if try("b").Leader {
		t.Fatal("b won a live lease")
	}
	clk.Shift(9 * time.Second)
	if _, err := api.Heartbeat(ctx, &pb.HeartbeatRequest{Election: "e", NodeId: "a", Term: 1}); err != nil {
		t.Fatal(err)
	}
	clk.Shift(9 * time.Second) // 18s after b first saw a's lease, 9s after the renewal
	if r := try("b"); r.Leader {
		t.Fatalf("b won 9s after a renewed a 10s lease: %v", r)
	}
	clk.Shift(1500 * time.Millisecond)
	r := try("b")
	if !r.Leader || r.Term != 2 {
		t.Fatalf("b's try after the lapse: %v; want leader under term 2", r)
	}
	_, err := api.Heartbeat(ctx, &pb.HeartbeatRequest{Election: "e", NodeId: "a", Term: 1})
	if status.Code(err) != codes.FailedPrecondition {
		t.Fatalf("a's heartbeat after b took over: %v; want FailedPrecondition", err)
	}
}

// TestBadInput: every malformed request gets INVALID_ARGUMENT with a
// message naming the field, never a panic or another code.
func TestBadInput(t *testing.T) {
	ctx := ctxT(t)
	api := dial(t, start(t, service.Options{}).addr, "")
	long := strings.Repeat("x", pb.MaxNameBytes+1)
	good := ttl(10 * time.Second)
	for _, c := range []struct {
		name string
		call func() error
		want string
	}{
		{"empty election", func() error {
			_, err := api.TryBecomeLeader(ctx, &pb.TryBecomeLeaderRequest{NodeId: "a", Ttl: good})
			return err
		}, "election is empty"},
		{"empty node", func() error {
			_, err := api.TryBecomeLeader(ctx, &pb.TryBecomeLeaderRequest{Election: "e", Ttl: good})
			return err
		}, "node_id is empty"},
		{"long election", func() error {
			_, err := api.GetCurrentLeader(ctx, &pb.GetCurrentLeaderRequest{Election: long})
			return err
		}, "longer than 256"},
		{"long node", func() error {
			_, err := api.IsLeader(ctx, &pb.IsLeaderRequest{Election: "e", NodeId: long})
			return err
		}, "longer than 256"},
		{"control character", func() error {
			_, err := api.TryBecomeLeader(ctx, &pb.TryBecomeLeaderRequest{Election: "e\n", NodeId: "a", Ttl: good})
			return err
		}, "not printable"},
		{"invalid UTF-8", func() error {
			_, err := api.TryBecomeLeader(ctx, &pb.TryBecomeLeaderRequest{Election: "e\xff", NodeId: "a", Ttl: good})
			return err
		}, ""}, // gRPC itself refuses to marshal invalid UTF-8 in a proto3 string
		{"reserved name", func() error {
			_, err := api.TryBecomeLeader(ctx, &pb.TryBecomeLeaderRequest{Election: "__key__", NodeId: "a", Ttl: good})
			return err
		}, "reserved"},
		{"no ttl", func() error {
			_, err := api.TryBecomeLeader(ctx, &pb.TryBecomeLeaderRequest{Election: "e", NodeId: "a"})
			return err
		}, "ttl is required"},
		{"ttl too short", func() error {
			_, err := api.TryBecomeLeader(ctx, &pb.TryBecomeLeaderRequest{Election: "e", NodeId: "a", Ttl: ttl(999 * time.Millisecond)})
			return err
		}, "out of range"},
		{"ttl too long", func() error {
			_, err := api.TryBecomeLeader(ctx, &pb.TryBecomeLeaderRequest{Election: "e", NodeId: "a", Ttl: ttl(time.Hour + 1)})
			return err
		}, "out of range"},
		{"negative ttl", func() error {
			_, err := api.Heartbeat(ctx, &pb.HeartbeatRequest{Election: "e", NodeId: "a", Term: 1, Ttl: ttl(-time.Second)})
			return err
		}, "out of range"},
		{"malformed ttl", func() error {
			_, err := api.TryBecomeLeader(ctx, &pb.TryBecomeLeaderRequest{Election: "e", NodeId: "a", Ttl: &durationpb.Duration{Seconds: 5, Nanos: -1}})
			return err
		}, "ttl:"},
		{"zero term", func() error {
			_, err := api.Heartbeat(ctx, &pb.HeartbeatRequest{Election: "e", NodeId: "a"})
			return err
		}, "term 0"},
		{"negative term", func() error {
			_, err := api.ReleaseLeadership(ctx, &pb.ReleaseLeadershipRequest{Election: "e", NodeId: "a", Term: -3})
			return err
		}, "term -3"},
		{"watch without election", func() error {
			s, err := api.Watch(ctx, &pb.WatchRequest{})
			if err != nil {
				return err
			}
			_, err = s.Recv()
			return err
		}, "election is empty"},
	} {
		err := c.call()
		want := codes.InvalidArgument
		if c.want == "" {
			want = codes.Internal // the client's marshalling error
		}
		if status.Code(err) != want || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v; want %v containing %q", c.name, err, want, c.want)
		}
	}
	// A heartbeat or release by a node that never held the lease.
	_, err := api.Heartbeat(ctx, &pb.HeartbeatRequest{Election: "e", NodeId: "a", Term: 1, Ttl: good})
	if status.Code(err) != codes.FailedPrecondition || !strings.Contains(err.Error(), "nobody holds it") {
		t.Errorf("heartbeat of a free lease: %v; want FailedPrecondition", err)
	}
	_, err = api.Heartbeat(ctx, &pb.HeartbeatRequest{Election: "e", NodeId: "a", Term: 1})
	if status.Code(err) != codes.FailedPrecondition {
		t.Errorf("heartbeat of a free lease without a TTL: %v; want FailedPrecondition", err)
	}
}
