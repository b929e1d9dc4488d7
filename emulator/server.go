package emulator

import (
	"context"
	"errors"
	"maps"
	"net"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"sync"
	"time"

	pb "cloud.google.com/go/datastore/apiv1/datastorepb"
	"google.golang.org/api/option"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

// Options configure a Server.
type Options struct {
	// Project is the project printed by Main; requests carry their own
	// project id and any is accepted.
	Project string
	// DataDir, when set, is where the data is kept, in one file loaded by
	// New and rewritten after each commit. Empty keeps data in memory.
	DataDir string
	// Faults holds the fault-injection rules; nil starts with none.
	Faults *Faults
}

// Server is an emulator instance: the Datastore gRPC service and the HTTP
// admin API, on one listener.
type Server struct {
	opts   Options
	db     *db
	faults *Faults
	grpc   *grpc.Server
	http   *http.Server

	mu       sync.Mutex
	ln       net.Listener
	calls    map[string]int64
	shutdown chan struct{} // closed by POST /shutdown
	stopOnce sync.Once
}

// New makes a Server, loading Options.DataDir's data if any.
func New(opts Options) (*Server, error) {
	d := newDB()
	if opts.DataDir != "" {
		if err := os.MkdirAll(opts.DataDir, 0o755); err != nil {
			return nil, err
		}
		d.file = filepath.Join(opts.DataDir, dataFile)
		if err := d.load(); err != nil {
			return nil, err
		}
	}
	s := &Server{opts: opts, db: d, faults: opts.Faults, calls: map[string]int64{}, shutdown: make(chan struct{})}
	if s.faults == nil {
		s.faults = &Faults{}
	}
	s.grpc = grpc.NewServer(grpc.UnaryInterceptor(s.intercept), grpc.MaxRecvMsgSize(64<<20))
	pb.RegisterDatastoreServer(s.grpc, d)
	s.http = &http.Server{Handler: s.handler(), ReadHeaderTimeout: 30 * time.Second}
	s.http.Protocols = new(http.Protocols)
	s.http.Protocols.SetHTTP1(true)
	s.http.Protocols.SetUnencryptedHTTP2(true) // gRPC clients speak h2c with prior knowledge
	return s, nil
}

// Start listens on addr (such as "127.0.0.1:0") and serves in the background.
func Start(addr string, opts Options) (*Server, error) {
	s, err := New(opts)
	if err != nil {
		return nil, err
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	s.setListener(l)
	go func() { _ = s.Serve(l) }()
	return s, nil
}

func (s *Server) setListener(l net.Listener) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln == nil {
		s.ln = l
	}
}

// Serve serves gRPC and the admin API on l until Close. It returns nil
// after Close.
func (s *Server) Serve(l net.Listener) error {
	s.setListener(l)
	split := newSplitListener(l)
	go split.run()
	go func() { _ = s.grpc.Serve(split.grpcL) }()
	if err := s.http.Serve(split.httpL); !errors.Is(err, http.ErrServerClosed) && !errors.Is(err, net.ErrClosed) {
		return err
	}
	return nil
}

// Close stops serving and closes every connection.
func (s *Server) Close() error {
	s.mu.Lock()
	l := s.ln
	s.mu.Unlock()
	if l != nil {
		l.Close()
	}
	err := s.http.Close()
	s.grpc.Stop()
	return err
}

// Addr is the host:port the server listens on, "" before Serve or Start.
func (s *Server) Addr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln == nil {
		return ""
	}
	return s.ln.Addr().String()
}

// ClientOptions are the options for datastore.NewClient to reach this
// server without credentials.
func (s *Server) ClientOptions() []option.ClientOption {
	return []option.ClientOption{
		option.WithEndpoint(s.Addr()),
		option.WithoutAuthentication(),
		option.WithGRPCDialOption(grpc.WithTransportCredentials(insecure.NewCredentials())),
	}
}

// Reset deletes every entity and open transaction. Versions keep growing.
func (s *Server) Reset() {
	d := s.db
	d.mu.Lock()
	defer d.mu.Unlock()
	d.parts = map[partition]map[string]*record{}
	d.txs = map[string]*txn{}
	_ = d.save()
}

// Faults is the server's fault-injection rules, to change at any time.
func (s *Server) Faults() *Faults { return s.faults }

// Calls counts the RPCs received per method name ("Lookup", "Commit", ...),
// including those failed by an injected fault. Reset does not clear it.
func (s *Server) Calls() map[string]int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return maps.Clone(s.calls)
}

// intercept counts each call and runs it with the faults that fire for it.
// Both transports, gRPC and REST, go through it.
func (s *Server) intercept(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
	method := path.Base(info.FullMethod)
	s.mu.Lock()
	s.calls[method]++
	s.mu.Unlock()
	return s.faults.run(ctx, method, func() (any, error) {
		if err := checkRequest(req); err != nil {
			return nil, err
		}
		return h(ctx, req)
	})
}

// requestShutdown makes Main return.
func (s *Server) requestShutdown() {
	s.stopOnce.Do(func() { close(s.shutdown) })
}
