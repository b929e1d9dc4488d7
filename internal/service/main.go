package service

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/moby/moby/pkg/namesgenerator"
	"github.com/rs/zerolog"
	"google.golang.org/grpc"

	"go-leader-election/internal/logging"
	"go-leader-election/store"
	_ "go-leader-election/store/backends" // every STORE backend
)

const usage = `Usage: go-leader-election serve

Runs the leader-election service (gRPC API leaderelection.v1.LeaderElection).
Configured by environment variables:

  GRPC_PORT           gRPC port (default 50051; 0 picks a free one, logged)
  APP_PORT            HTTP port of /healthz, /readyz and /metrics (default 3000)
  LEASE_TOKEN         when set, required as "authorization: Bearer <token>"
  TLS_CERT_FILE       PEM certificate chain: with TLS_KEY_FILE, the gRPC port
  TLS_KEY_FILE          speaks TLS (files read again when they change)
  TLS_CLIENT_CA_FILE  PEM CA bundle: every client must present a certificate
                      it signed (mutual TLS)
  STORE               memory (default: one server) or datastore (any number)
  DATASTORE_*         as for the daemon (project, emulator host, database,
                      namespace); ELECTION_KIND is the entity kind
                      (default Election)
  STORE_TIMEOUT       bound on every store call (default 1.5s)
  NODE_NAME, LOG_FORMAT, LOG_LEVEL, APP_STAGE  as for the daemon
`

// shutdownGrace bounds how long a graceful stop waits for calls in flight.
const shutdownGrace = 5 * time.Second

// Main is "go-leader-election serve": it serves until ctx ends (SIGTERM),
// then stops taking calls, ends watches, lets calls in flight finish, and
// returns. args are the arguments after "serve".
func Main(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, usage) }
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return fmt.Errorf("serve: %w", err)
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("serve: unexpected argument %q: serve is configured by environment variables (see serve -h)", fs.Arg(0))
	}
	cfg, err := LoadConfig(getenv)
	if err != nil {
		return err
	}
	name := cfg.NodeName
	if name == "" {
		name = namesgenerator.GetRandomName(0)
	}
	log := logging.New(logging.NewSyncWriter(stdout), cfg.LogFormat, cfg.LogLevel, cfg.Stage).With().Str("server", name).Logger()

	st, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer st.Close()
	sessions, err := cfg.Backend.Open(ctx, store.OpenOptions{Timeout: cfg.StoreTimeout, Kind: SessionKind(cfg.Kind)})
	if err != nil {
		return err
	}
	defer sessions.Close()
	log.Info().Str("store", cfg.Store).Str("reason", cfg.StoreReason).Str("kind", kindOf(cfg)).Bool("token", cfg.Token != "").Msg("Store selected")

	m := NewMetrics()
	srv, err := New(Options{Store: st, Sessions: sessions, Token: cfg.Token, StoreTimeout: cfg.StoreTimeout, Log: log, Metrics: m})
	if err != nil {
		return err
	}
	defer srv.Close()
	var extra []grpc.ServerOption
	creds, err := tlsOption(cfg.TLS, log)
	if err != nil {
		return err
	}
	if creds != nil {
		extra = append(extra, creds)
	}
	grpcLn, httpLn, err := listen(cfg)
	if err != nil {
		return err
	}
	g := srv.GRPCServer(extra...)
	hs := &http.Server{Handler: httpHandler(srv, m, min(cfg.StoreTimeout, 2*time.Second)), ReadHeaderTimeout: 5 * time.Second}
	failed := make(chan error, 2)
	go func() { failed <- fmt.Errorf("gRPC server: %w", g.Serve(grpcLn)) }()
	go func() { failed <- fmt.Errorf("HTTP server: %w", hs.Serve(httpLn)) }()
	grpcPort, httpPort := grpcLn.Addr().(*net.TCPAddr).Port, httpLn.Addr().(*net.TCPAddr).Port
	log.Info().Int("grpc_port", grpcPort).Int("port", httpPort).Bool("tls", cfg.TLS.On()).
		Msg(fmt.Sprintf("Listening on gRPC port %d, HTTP port %d", grpcPort, httpPort))

	var serveErr error
	select {
	case <-ctx.Done():
	case serveErr = <-failed:
		log.Error().Err(serveErr).Msg("Server failed; shutting down")
	}
	log.Info().Msg("Shutting down: no new calls; ending watches")
	srv.Close()
	stopGRPC(g, log)
	sctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Warn().Err(err).Msg("HTTP server did not stop cleanly")
	}
	log.Info().Msg("Stopped")
	return serveErr
}

// listen opens the gRPC and HTTP ports.
func listen(cfg Config) (grpcLn, httpLn net.Listener, err error) {
	grpcLn, err = net.Listen("tcp", net.JoinHostPort("", strconv.Itoa(cfg.GRPCPort)))
	if err != nil {
		return nil, nil, fmt.Errorf("GRPC_PORT: listen on port %d: %w", cfg.GRPCPort, err)
	}
	httpLn, err = net.Listen("tcp", net.JoinHostPort("", strconv.Itoa(cfg.Port)))
	if err != nil {
		grpcLn.Close()
		return nil, nil, fmt.Errorf("APP_PORT: listen on port %d: %w", cfg.Port, err)
	}
	return grpcLn, httpLn, nil
}

// stopGRPC lets calls in flight finish, for up to shutdownGrace.
func stopGRPC(g *grpc.Server, log zerolog.Logger) {
	stopped := make(chan struct{})
	go func() { g.GracefulStop(); close(stopped) }()
	t := time.NewTimer(shutdownGrace)
	defer t.Stop()
	select {
	case <-stopped:
	case <-t.C:
		log.Warn().Msg("Calls still in flight after the grace; stopping them")
		g.Stop()
		<-stopped
	}
}

func kindOf(cfg Config) string {
	if cfg.Backend.Address() == "" { // embedded: no kinds
		return ""
	}
	return cfg.Kind
}

// SessionKind is the Datastore kind of the session records, next to the
// elections' kind.
func SessionKind(electionKind string) string { return electionKind + "Session" }

// openStore builds the service's own store: with the embedded backend a
// store of its own, with Datastore the elections' kind (never the
// scheduler's).
func openStore(ctx context.Context, cfg Config) (store.Store, error) {
	return cfg.Backend.Open(ctx, store.OpenOptions{Timeout: cfg.StoreTimeout, Kind: cfg.Kind})
}
