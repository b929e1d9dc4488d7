package electionclient_test

import (
	"context"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"

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
	if st == nil {
		st = memory.New()
	}
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	srv, err := service.New(service.Options{Store: st, Token: token, WatchPeriod: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	s := &server{Server: srv, addr: ln.Addr().String(), calls: map[string]int{}, tick: make(chan struct{}, 1)}
	s.g = srv.GRPCServer(grpc.ChainUnaryInterceptor(s.count))
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
