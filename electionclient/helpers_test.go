package electionclient_test

import (
	"context"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	pb "go-leader-election/api/leaderelection/v1"
	"go-leader-election/electionclient"
	"go-leader-election/internal/service"
	"go-leader-election/store"
	"go-leader-election/store/memory"
)

// server is a lease server on a loopback port, counting the calls it gets.
type server struct {
	*service.Server
	g    *grpc.Server
	addr string

	hang atomic.Bool // heartbeats hang until their deadline

	mu    sync.Mutex
	calls map[string]int // "Method node"
	tick  chan struct{}  // a call came
}

// startServer serves a lease server over st (a new memory store if nil) on
// addr ("127.0.0.1:0" if empty) until t ends.
func startServer(t testing.TB, st store.Store, addr, token string) *server {
	t.Helper()
	return startServerWith(t, service.Options{Store: st, Token: token}, addr)
}

// startServerWith serves a lease server with opts (memory stores by
// default, a 20ms watch period) on addr ("127.0.0.1:0" if empty) until t
// ends.
func startServerWith(t testing.TB, opts service.Options, addr string) *server {
	t.Helper()
	if opts.Store == nil {
		opts.Store = memory.New()
	}
	if opts.Sessions == nil {
		opts.Sessions = memory.New()
	}
	opts.WatchPeriod = 20 * time.Millisecond
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	srv, err := service.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	s := &server{Server: srv, addr: ln.Addr().String(), calls: map[string]int{}, tick: make(chan struct{}, 1)}
	s.g = srv.GRPCServer(grpc.ChainUnaryInterceptor(s.count), grpc.ChainStreamInterceptor(s.countStream))
	go func() { _ = s.g.Serve(ln) }()
	t.Cleanup(s.stop)
	return s
}

type nodeRequest interface{ GetNodeId() string }

func (s *server) count(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
	if _, ok := req.(*pb.HeartbeatRequest); ok && s.hang.Load() {
		s.note("hung")
		<-ctx.Done()
		return nil, ctx.Err()
	}
	resp, err := h(ctx, req)
	key := info.FullMethod[len("/leaderelection.v1.LeaderElection/"):]
	if r, ok := req.(nodeRequest); ok {
		key += " " + r.GetNodeId()
	}
	s.note(key)
	return resp, err
}

// countStream counts stream opens ("KeepAlive") and the messages of a
// KeepAlive stream ("keepalive <id>" per session id).
func (s *server) countStream(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, h grpc.StreamHandler) error {
	s.note(info.FullMethod[len("/leaderelection.v1.LeaderElection/"):])
	return h(srv, &countedStream{ServerStream: ss, s: s})
}

type countedStream struct {
	grpc.ServerStream
	s *server
}

func (c *countedStream) RecvMsg(m any) error {
	err := c.ServerStream.RecvMsg(m)
	if req, ok := m.(*pb.KeepAliveRequest); ok && err == nil {
		for _, id := range req.SessionIds {
			c.s.note("keepalive " + id)
		}
	}
	return err
}

// callsOf returns how many calls of key the server has had.
func (s *server) callsOf(key string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[key]
}

func (s *server) note(key string) {
	s.mu.Lock()
	s.calls[key]++
	s.mu.Unlock()
	select {
	case s.tick <- struct{}{}:
	default:
	}
}

// waitCalls waits until the server has had n calls of key ("Heartbeat a").
func (s *server) waitCalls(t testing.TB, key string, n int) {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		s.mu.Lock()
		got := s.calls[key]
		s.mu.Unlock()
		if got >= n {
			return
		}
		select {
		case <-s.tick:
		case <-deadline:
			t.Fatalf("%s: %d calls of %q in 10s, want %d", s.addr, got, key, n)
		}
	}
}

// stop ends the server at once, closing its connections, as a crash would.
func (s *server) stop() {
	s.Close()
	s.g.Stop()
}

func newClient(t testing.TB, cfg electionclient.Config) *electionclient.Client {
	t.Helper()
	c, err := electionclient.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func election(t testing.TB, c *electionclient.Client, name, node string, ttl time.Duration) *electionclient.Election {
	t.Helper()
	e, err := c.Election(name, electionclient.ElectionOptions{Node: node, TTL: ttl})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// dialAPI returns a raw API client of addr, for what a test does behind the
// client's back.
func dialAPI(t testing.TB, addr string) pb.LeaderElectionClient {
	t.Helper()
	cc, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cc.Close() })
	return pb.NewLeaderElectionClient(cc)
}
