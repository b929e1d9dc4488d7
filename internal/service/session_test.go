package service_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	pb "go-leader-election/api/leaderelection/v1"
	"go-leader-election/internal/service"
	"go-leader-election/store/memory"
)

// keepAlives is one KeepAlive stream.
type keepAlives struct {
	t      testing.TB
	stream pb.LeaderElection_KeepAliveClient
}

func openKeepAlives(t testing.TB, ctx context.Context, api pb.LeaderElectionClient) *keepAlives {
	t.Helper()
	s, err := api.KeepAlive(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return &keepAlives{t: t, stream: s}
}

// send keeps ids alive in one request and returns every id's answer.
func (k *keepAlives) send(ids ...string) map[string]*pb.KeepAliveResult {
	k.t.Helper()
	if err := k.stream.Send(&pb.KeepAliveRequest{SessionIds: ids}); err != nil {
		k.t.Fatal(err)
	}
	out := map[string]*pb.KeepAliveResult{}
	for len(out) < len(ids) {
		resp, err := k.stream.Recv()
		if err != nil {
			k.t.Fatalf("keepalive of %q: %v", ids, err)
		}
		for _, r := range resp.Results {
			out[r.SessionId] = r
		}
	}
	return out
}

func createSession(t testing.TB, ctx context.Context, api pb.LeaderElectionClient, node string, d time.Duration) string {
	t.Helper()
	r, err := api.CreateSession(ctx, &pb.CreateSessionRequest{NodeId: node, Ttl: ttl(d)})
	if err != nil {
		t.Fatal(err)
	}
	if r.Ttl.AsDuration() != d || len(r.SessionId) < 20 {
		t.Fatalf("CreateSession: %v; want a session id and ttl %s", r, d)
	}
	return r.SessionId
}

// tryOn asks for election as node, under session if set.
func tryOn(t testing.TB, ctx context.Context, api pb.LeaderElectionClient, election, node, session string) *pb.TryBecomeLeaderResponse {
	t.Helper()
	req := &pb.TryBecomeLeaderRequest{Election: election, NodeId: node, SessionId: session}
	if session == "" {
		req.Ttl = ttl(10 * time.Second)
	}
	r, err := api.TryBecomeLeader(ctx, req)
	if err != nil {
		t.Fatalf("%s asking for %s: %v", node, election, err)
	}
	return r
}

var elections3 = []string{"e1", "e2", "e3"}

// TestSessionHoldsItsElections: elections held under a session need no
// heartbeat: they stay a's while KeepAlive renews the session, and end with
// it once the server has seen it unrenewed for its TTL; the session is then
// gone for good.
func TestSessionHoldsItsElections(t *testing.T) {
	ctx := ctxT(t)
	clk := &shiftClock{}
	ts := start(t, service.Options{Clock: clk})
	api := dial(t, ts.addr, "")
	id := createSession(t, ctx, api, "a", 10*time.Second)
	for _, e := range elections3 {
		r := tryOn(t, ctx, api, e, "a", id)
		if !r.Leader || r.Term != 1 || r.Ttl.AsDuration() != 10*time.Second {
			t.Fatalf("a asking for %s under its session: %v; want leader under term 1, the session's TTL", e, r)
		}
		if r := tryOn(t, ctx, api, e, "a", id); !r.Leader || r.Term != 1 {
			t.Fatalf("a asking again for %s: %v; want leader under the same term", e, r)
		}
		if r := tryOn(t, ctx, api, e, "b", ""); r.Leader || r.Current.GetNodeId() != "a" {
			t.Fatalf("b asking for %s: %v; want refused, naming a", e, r)
		}
	}
	ka := openKeepAlives(t, ctx, api)
	for range 3 {
		clk.Shift(9 * time.Second)
		got := ka.send(id)[id]
		if got.Gone || got.Error != "" || got.Ttl.AsDuration() != 10*time.Second || got.Age.AsDuration() != 0 {
			t.Fatalf("keepalive: %v; want the TTL granted by a write of its own", got)
		}
		for _, e := range elections3 {
			if r := tryOn(t, ctx, api, e, "b", ""); r.Leader {
				t.Fatalf("b won %s 9s after the session's renewal", e)
			}
		}
	}
	clk.Shift(10*time.Second + time.Millisecond)
	for i, e := range elections3 {
		if cur, err := api.GetCurrentLeader(ctx, &pb.GetCurrentLeaderRequest{Election: e}); err != nil || cur.Leader != nil {
			t.Fatalf("%s a TTL after the session's last renewal: %v, %v; want nobody leads", e, cur, err)
		}
		if r := tryOn(t, ctx, api, e, "b", ""); !r.Leader || r.Term != 2 {
			t.Fatalf("b asking for %s after the session lapsed (%d): %v; want leader under term 2", e, i, r)
		}
	}
	if got := ka.send(id)[id]; !got.Gone {
		t.Fatalf("keepalive of the lapsed session: %v; want gone", got)
	}
	_, err := api.TryBecomeLeader(ctx, &pb.TryBecomeLeaderRequest{Election: "e4", NodeId: "a", SessionId: id})
	if status.Code(err) != codes.FailedPrecondition || !strings.Contains(err.Error(), "is gone") {
		t.Fatalf("a asking under its lapsed session: %v; want FailedPrecondition, gone", err)
	}
}

// TestCloseSessionFreesItsElections: closing a session frees its elections
// at once; a closed session is gone; closing again is no error.
func TestCloseSessionFreesItsElections(t *testing.T) {
	ctx := ctxT(t)
	api := dial(t, start(t, service.Options{}).addr, "")
	id := createSession(t, ctx, api, "a", time.Minute)
	for _, e := range elections3 {
		if r := tryOn(t, ctx, api, e, "a", id); !r.Leader {
			t.Fatalf("a asking for %s: %v", e, r)
		}
	}
	w, err := api.Watch(ctx, &pb.WatchRequest{Election: "e1"})
	if err != nil {
		t.Fatal(err)
	}
	if m, err := w.Recv(); err != nil || m.Leader.GetNodeId() != "a" {
		t.Fatalf("watch: %v, %v; want a", m, err)
	}
	if r, err := api.CloseSession(ctx, &pb.CloseSessionRequest{SessionId: id}); err != nil || !r.Closed {
		t.Fatalf("CloseSession: %v, %v; want closed", r, err)
	}
	if m, err := w.Recv(); err != nil || m.Leader != nil || m.Term != 1 {
		t.Fatalf("watch after the close: %v, %v; want nobody leads, term 1", m, err)
	}
	for _, e := range elections3 {
		if r := tryOn(t, ctx, api, e, "b", ""); !r.Leader || r.Term != 2 {
			t.Fatalf("b asking for %s after the close: %v; want leader under term 2 at once", e, r)
		}
	}
	if r, err := api.CloseSession(ctx, &pb.CloseSessionRequest{SessionId: id}); err != nil || r.Closed {
		t.Fatalf("closing again: %v, %v; want not closed, no error", r, err)
	}
	if got := openKeepAlives(t, ctx, api).send(id)[id]; !got.Gone {
		t.Fatalf("keepalive of a closed session: %v; want gone", got)
	}
}

// TestKeepAliveWritesAtMostOncePerGap: keepalives of one session within the
// write gap are answered from the latest write, with its age, and write
// nothing; the first after the gap writes again.
func TestKeepAliveWritesAtMostOncePerGap(t *testing.T) {
	ctx := ctxT(t)
	clk := &shiftClock{}
	sessions := memory.New()
	api := dial(t, start(t, service.Options{Clock: clk, Sessions: sessions, SessionWriteGap: time.Second}).addr, "")
	id := createSession(t, ctx, api, "a", 10*time.Second)
	version := func() int64 {
		rec, err := sessions.Get(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		return rec.Version
	}
	ka := openKeepAlives(t, ctx, api)
	v0 := version()
	clk.Shift(400 * time.Millisecond)
	got := ka.send(id)[id]
	if age := got.Age.AsDuration(); got.Ttl.AsDuration() != 10*time.Second || age < 400*time.Millisecond || age > time.Second {
		t.Fatalf("keepalive 0.4s after the creation: %v; want ttl 10s, age about 0.4s", got)
	}
	if v := version(); v != v0 {
		t.Fatalf("a keepalive within the gap wrote the record (version %d -> %d)", v0, v)
	}
	clk.Shift(700 * time.Millisecond)
	if got := ka.send(id)[id]; got.Age.AsDuration() != 0 || got.Ttl.AsDuration() != 10*time.Second {
		t.Fatalf("keepalive 1.1s after the creation: %v; want a write of its own (no age)", got)
	}
	if v := version(); v != v0+1 {
		t.Fatalf("version %d after a keepalive past the gap, want %d", v, v0+1)
	}
}

// TestSessionOverTwoServers: two servers over one store; the session is
// kept alive through the first, and the second, which judges its elections,
// sees its renewals and never lets b in; once the keepalives stop, the
// second ends the session after a TTL of its own observation and b wins;
// the first then answers the session gone.
func TestSessionOverTwoServers(t *testing.T) {
	ctx := ctxT(t)
	elections, sessions := memory.New(), memory.New()
	clk1, clk2 := &shiftClock{}, &shiftClock{}
	api1 := dial(t, start(t, service.Options{Store: elections, Sessions: sessions, Clock: clk1}).addr, "")
	api2 := dial(t, start(t, service.Options{Store: elections, Sessions: sessions, Clock: clk2}).addr, "")
	id := createSession(t, ctx, api1, "a", 10*time.Second)
	if r := tryOn(t, ctx, api1, "e", "a", id); !r.Leader {
		t.Fatalf("a: %v", r)
	}
	ka := openKeepAlives(t, ctx, api1)
	for range 3 {
		if r := tryOn(t, ctx, api2, "e", "b", ""); r.Leader || r.Current.GetNodeId() != "a" {
			t.Fatalf("b through the second server: %v; want refused, naming a", r)
		}
		clk1.Shift(4 * time.Second)
		clk2.Shift(9 * time.Second) // the second server's clock runs ahead: only its own observation counts
		if got := ka.send(id)[id]; got.Gone || got.Ttl == nil {
			t.Fatalf("keepalive: %v", got)
		}
	}
	if r := tryOn(t, ctx, api2, "e", "b", ""); r.Leader {
		t.Fatalf("b won through the second server while the first renewed the session: %v", r)
	}
	clk2.Shift(10*time.Second + time.Millisecond)
	if r := tryOn(t, ctx, api2, "e", "b", ""); !r.Leader || r.Term != 2 {
		t.Fatalf("b after the second server saw the session unrenewed for its TTL: %v; want leader under term 2", r)
	}
	clk1.Shift(time.Second)
	if got := ka.send(id)[id]; !got.Gone {
		t.Fatalf("keepalive through the first server after the second ended the session: %v; want gone", got)
	}
}

// TestSessionBadRequests: every misuse of a session is refused with a
// message naming the cause.
func TestSessionBadRequests(t *testing.T) {
	ctx := ctxT(t)
	api := dial(t, start(t, service.Options{}).addr, "")
	id := createSession(t, ctx, api, "a", time.Minute)
	if r := tryOn(t, ctx, api, "e", "a", id); !r.Leader {
		t.Fatalf("a: %v", r)
	}
	for _, c := range []struct {
		name string
		call func() error
		code codes.Code
		want string
	}{
		{"no ttl", func() error {
			_, err := api.CreateSession(ctx, &pb.CreateSessionRequest{NodeId: "a"})
			return err
		}, codes.InvalidArgument, "ttl is required"},
		{"no node", func() error {
			_, err := api.CreateSession(ctx, &pb.CreateSessionRequest{Ttl: ttl(time.Minute)})
			return err
		}, codes.InvalidArgument, "node_id is empty"},
		{"ttl with a session", func() error {
			_, err := api.TryBecomeLeader(ctx, &pb.TryBecomeLeaderRequest{Election: "f", NodeId: "a", SessionId: id, Ttl: ttl(time.Minute)})
			return err
		}, codes.InvalidArgument, "ttl must be unset with session_id"},
		{"another node's session", func() error {
			_, err := api.TryBecomeLeader(ctx, &pb.TryBecomeLeaderRequest{Election: "f", NodeId: "b", SessionId: id})
			return err
		}, codes.InvalidArgument, `node "a"'s, not "b"'s`},
		{"unknown session", func() error {
			_, err := api.TryBecomeLeader(ctx, &pb.TryBecomeLeaderRequest{Election: "f", NodeId: "a", SessionId: "nonesuch"})
			return err
		}, codes.FailedPrecondition, "is gone"},
		{"heartbeat of an election held under a session", func() error {
			_, err := api.Heartbeat(ctx, &pb.HeartbeatRequest{Election: "e", NodeId: "a", Term: 1})
			return err
		}, codes.FailedPrecondition, "under a session"},
		{"release without the session", func() error {
			_, err := api.ReleaseLeadership(ctx, &pb.ReleaseLeadershipRequest{Election: "e", NodeId: "a", Term: 1})
			return err
		}, codes.FailedPrecondition, "under a session"},
		{"bad session id", func() error {
			_, err := api.CloseSession(ctx, &pb.CloseSessionRequest{SessionId: "x\n"})
			return err
		}, codes.InvalidArgument, "session_id"},
	} {
		if err := c.call(); status.Code(err) != c.code || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v; want %v containing %q", c.name, err, c.code, c.want)
		}
	}
	if _, err := api.ReleaseLeadership(ctx, &pb.ReleaseLeadershipRequest{Election: "e", NodeId: "a", Term: 1, SessionId: id}); err != nil {
		t.Fatalf("release under the session: %v", err)
	}
	if r := tryOn(t, ctx, api, "e", "b", ""); !r.Leader || r.Term != 2 {
		t.Fatalf("b after a's release: %v; want leader under term 2", r)
	}
	noSessions, err := service.New(service.Options{Store: memory.New()})
	if err != nil {
		t.Fatal(err)
	}
	defer noSessions.Close()
	if _, err := noSessions.CreateSession(ctx, &pb.CreateSessionRequest{NodeId: "a", Ttl: ttl(time.Minute)}); status.Code(err) != codes.FailedPrecondition || !strings.Contains(err.Error(), "no session store") {
		t.Errorf("CreateSession on a server without a session store: %v; want FailedPrecondition saying so", err)
	}
	one := memory.New()
	if _, err := service.New(service.Options{Store: one, Sessions: one}); err == nil {
		t.Error("New accepted one store for elections and sessions")
	}
}

// TestKeepAliveOnAnotherServer: a session created through one server is
// renewed through another (a client that failed over), again and again.
func TestKeepAliveOnAnotherServer(t *testing.T) {
	ctx := ctxT(t)
	elections, sessions := memory.New(), memory.New()
	clk := &shiftClock{}
	api1 := dial(t, start(t, service.Options{Store: elections, Sessions: sessions}).addr, "")
	api2 := dial(t, start(t, service.Options{Store: elections, Sessions: sessions, Clock: clk}).addr, "")
	id := createSession(t, ctx, api1, "a", 10*time.Second)
	ka := openKeepAlives(t, ctx, api2)
	for i := range 3 {
		got := ka.send(id)[id]
		if got.Gone || got.Ttl.AsDuration() != 10*time.Second || got.Age != nil {
			t.Fatalf("keepalive %d through the second server: %v; want renewed by a write", i, got)
		}
		clk.Shift(2 * time.Second)
	}
	if rec, err := sessions.Get(ctx, id); err != nil || rec.Version != 4 {
		t.Fatalf("session record %+v, %v; want version 4 (created, renewed three times)", rec, err)
	}
}
