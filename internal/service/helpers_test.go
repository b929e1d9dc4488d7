package service_test

import (
	"context"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/protobuf/types/known/durationpb"

	pb "go-leader-election/api/leaderelection/v1"
	"go-leader-election/clock"
	"go-leader-election/internal/service"
	"go-leader-election/store/memory"
)

// testServer is a Server on a loopback port.
type testServer struct {
	*service.Server
	g    *grpc.Server
	addr string
}

// start serves a Server with opts (memory stores by default) on a free
// loopback port until t ends.
func start(t testing.TB, opts service.Options) *testServer {
	t.Helper()
	if opts.Store == nil {
		opts.Store = memory.New()
	}
	if opts.Sessions == nil {
		opts.Sessions = memory.New()
	}
	srv, err := service.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ts := &testServer{Server: srv, g: srv.GRPCServer(), addr: ln.Addr().String()}
	go func() { _ = ts.g.Serve(ln) }()
	t.Cleanup(ts.stop)
	return ts
}

// stop ends the server at once, closing every connection (as a crash
// would, for its clients).
func (ts *testServer) stop() {
	ts.Close()
	ts.g.Stop()
}

// dial returns an API client of addr, sending token if set.
func dial(t testing.TB, addr, token string) pb.LeaderElectionClient {
	t.Helper()
	opts := []grpc.DialOption{grpc.WithTransportCredentials(insecure.NewCredentials())}
	if token != "" {
		opts = append(opts, grpc.WithPerRPCCredentials(bearer(token)))
	}
	cc, err := grpc.NewClient(addr, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cc.Close() })
	return pb.NewLeaderElectionClient(cc)
}

type bearer string

func (b bearer) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	return map[string]string{"authorization": "Bearer " + string(b)}, nil
}
func (bearer) RequireTransportSecurity() bool { return false }

// shiftClock is the real clock, moved forward by Shift: a server's view of
// time passing without waiting for it.
type shiftClock struct {
	clock.Real
	off atomic.Int64
}

func (c *shiftClock) Now() time.Time        { return time.Now().Add(time.Duration(c.off.Load())) }
func (c *shiftClock) Shift(d time.Duration) { c.off.Add(int64(d)) }

func ttl(d time.Duration) *durationpb.Duration { return durationpb.New(d) }

func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func healthClient(t testing.TB, addr string) healthpb.HealthClient {
	t.Helper()
	cc, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cc.Close() })
	return healthpb.NewHealthClient(cc)
}
