package service

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/rs/zerolog"
	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/reflection"

	pb "go-leader-election/api/leaderelection/v1"
	"go-leader-election/clock"
	"go-leader-election/internal/storehealth"
	"go-leader-election/store"
)

// Defaults for Options.
const (
	DefaultStoreTimeout = 5 * time.Second
	DefaultWatchPeriod  = 250 * time.Millisecond
	DefaultIdleLimit    = 10 * time.Minute
)

// Options configure a Server.
type Options struct {
	// Store keeps one lease record per election. Required. Give the service
	// a store of its own (its own Datastore kind, its own memory store): an
	// election and a scheduler job of the same name must not share a record.
	Store store.Store
	// Token, when set, is required on every call but the gRPC health
	// service's, as the metadata "authorization: Bearer <Token>".
	Token string
	// StoreTimeout bounds every store call. Default DefaultStoreTimeout.
	StoreTimeout time.Duration
	// WatchPeriod is how often a watched election is read from the store.
	// Default DefaultWatchPeriod.
	WatchPeriod time.Duration
	// Sessions keeps one record per session (CreateSession). Give it a
	// store of its own, never Store (serve opens the kind ELECTION_KIND +
	// "Session"). Without it the session calls answer FAILED_PRECONDITION.
	Sessions store.Store
	// SessionWriteGap is the least time between two writes of one session's
	// record by this server (a keepalive sooner is answered from the latest
	// write), and at most a sixth of the session's TTL. Default
	// DefaultSessionWriteGap: Datastore sustains about one write per second
	// per entity.
	SessionWriteGap time.Duration
	// IdleLimit is how long the server keeps its observation of an election
	// or a session nobody asks about (at least twice the TTL last seen).
	// Forgetting costs only a fresh observation. Default DefaultIdleLimit.
	IdleLimit time.Duration
	// Clock tells the time. Default clock.Real{}.
	Clock clock.Clock
	// Log receives the service's events; the zero Logger logs nothing.
	Log zerolog.Logger
	// Metrics, if set, records requests and store calls.
	Metrics *Metrics
}

// Server implements pb.LeaderElectionServer. Create it with New and serve
// it with GRPCServer; Close ends its watches.
type Server struct {
	pb.UnimplementedLeaderElectionServer
	opts         Options
	clk          clock.Clock
	log          zerolog.Logger
	electionRecs records
	elections    *registry
	sessions     *sessions
	storeOK      storehealth.Health
	health       *health.Server

	done      chan struct{} // closed by Close: ends watches and the sweeper
	closeOnce sync.Once
}

// New returns a Server; it makes no store call.
func New(opts Options) (*Server, error) {
	switch {
	case opts.Store == nil:
		return nil, errors.New("service: Options.Store is required")
	case opts.Sessions != nil && opts.Sessions == opts.Store:
		return nil, errors.New("service: Options.Sessions must be a store of its own, not Options.Store")
	case opts.StoreTimeout < 0, opts.WatchPeriod < 0, opts.IdleLimit < 0, opts.SessionWriteGap < 0:
		return nil, fmt.Errorf("service: negative duration in %+v", opts)
	}
	if opts.StoreTimeout == 0 {
		opts.StoreTimeout = DefaultStoreTimeout
	}
	if opts.WatchPeriod == 0 {
		opts.WatchPeriod = DefaultWatchPeriod
	}
	if opts.IdleLimit == 0 {
		opts.IdleLimit = DefaultIdleLimit
	}
	if opts.SessionWriteGap == 0 {
		opts.SessionWriteGap = DefaultSessionWriteGap
	}
	if opts.Clock == nil {
		opts.Clock = clock.Real{}
	}
	s := &Server{opts: opts, clk: opts.Clock, log: opts.Log, health: health.NewServer(), done: make(chan struct{})}
	s.electionRecs = records{s: s, st: opts.Store}
	s.elections = newRegistry(s)
	s.sessions = newSessions(s)
	s.health.SetServingStatus("", healthpb.HealthCheckResponse_SERVING)
	s.health.SetServingStatus(pb.LeaderElection_ServiceDesc.ServiceName, healthpb.HealthCheckResponse_SERVING)
	go s.sweep(s.done)
	return s, nil
}

// GRPCServer returns a gRPC server with this service, the gRPC health
// service and server reflection registered, and the token check and metrics
// installed; extra options are added after the service's own.
func (s *Server) GRPCServer(extra ...grpc.ServerOption) *grpc.Server {
	a := auth{token: s.opts.Token}
	unary := []grpc.UnaryServerInterceptor{s.opts.Metrics.unary, a.unary}
	stream := []grpc.StreamServerInterceptor{s.opts.Metrics.stream, a.stream}
	opts := append([]grpc.ServerOption{
		grpc.ChainUnaryInterceptor(unary...),
		grpc.ChainStreamInterceptor(stream...),
	}, extra...)
	g := grpc.NewServer(opts...)
	pb.RegisterLeaderElectionServer(g, s)
	healthpb.RegisterHealthServer(g, s.health)
	reflection.Register(g)
	return g
}

// Ready reports whether the store answers now, and no store operation has
// failed recently without succeeding since.
func (s *Server) Ready(ctx context.Context) error {
	if err := s.opts.Store.Ping(ctx); err != nil {
		return err
	}
	return s.storeOK.Err()
}

// Close marks the health service NOT_SERVING and ends every Watch stream
// with UNAVAILABLE, so that a graceful stop of the gRPC server need not wait
// for them. It does not close the store.
func (s *Server) Close() {
	s.closeOnce.Do(func() {
		s.health.Shutdown()
		close(s.done)
	})
}

// onCall is told the outcome of every store call.
func (s *Server) onCall(op string, d time.Duration, err error) {
	s.storeOK.Report(op, err)
	s.opts.Metrics.storeCall(op, d, err)
}
