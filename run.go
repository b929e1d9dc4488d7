package main

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

	"go-leader-election/clock"
	"go-leader-election/config"
	"go-leader-election/emulator"
	"go-leader-election/jobs"
	"go-leader-election/logging"
	"go-leader-election/metrics"
	"go-leader-election/schedulers"
	"go-leader-election/server"
	"go-leader-election/store"
	"go-leader-election/store/datastore"
	"go-leader-election/store/memory"
)

// run is the whole daemon. args are the command line (args[0] the program);
// "emulator" as the first argument runs the Datastore emulator instead. It
// returns when ctx ends and every job has stopped and released its lease.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) > 1 && args[1] == "emulator" {
		if err := emulator.Main(ctx, args[2:], stdout, stderr); !errors.Is(err, flag.ErrHelp) {
			return err
		}
		return nil
	}
	if len(args) > 1 {
		return fmt.Errorf("unknown command %q (the only one is \"emulator\"; configure the daemon with environment variables)", args[1])
	}
	cfg, err := config.Load(getenv)
	if err != nil {
		return err
	}
	out := logging.NewSyncWriter(stdout)
	base := logging.New(out, cfg.LogFormat, cfg.LogLevel, cfg.Stage) // schedulers add job and node
	node := cfg.NodeName
	if node == "" {
		node = namesgenerator.GetRandomName(0)
	}
	id := schedulers.NewIdentity(node)
	log := base.With().Str("node", node).Logger()
	clk := clock.Offset(clock.Real{}, cfg.ClockOffset)
	if cfg.ClockOffset != 0 {
		log.Warn().Str("offset", cfg.ClockOffset.String()).Msg("CLOCK_OFFSET shifts this node's clock: a test setting")
	}

	st, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer st.Close()
	log.Info().Str("store", cfg.Store).Str("reason", cfg.StoreReason).Str("holder", id.Holder).Msg("Store selected")

	var group *schedulers.Group
	m := metrics.New(func() []schedulers.Status { return group.Statuses() })
	if ds, ok := st.(*datastore.Store); ok {
		m.UseRPCCounter()
		ds.Calls().SetObserver(m.ObserveRPC)
	}
	var scheduled []schedulers.Scheduled
	for _, j := range jobs.Registry(withOut(cfg.Jobs, out)) {
		s := cfg.Schedules[j.Name]
		m.AddJob(j.Name)
		scheduled = append(scheduled, schedulers.Scheduled{Job: j, Spec: s.Spec, Schedule: s.Schedule})
	}
	gcfg := schedulers.GroupConfig{
		Jobs: scheduled, Store: st, Clock: clk, Identity: id, Timing: cfg.Timing, Log: base, Observer: m,
	}
	gcfg.History, gcfg.Control = historyAndControl(st, cfg)
	group, err = schedulers.NewGroup(gcfg)
	if err != nil {
		return err
	}
	health := group.Health()

	started := time.Now()
	ln, err := net.Listen("tcp", net.JoinHostPort("", strconv.Itoa(cfg.Port)))
	if err != nil {
		return fmt.Errorf("APP_PORT: listen on port %d: %w", cfg.Port, err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	srv := &http.Server{
		Handler: server.New(server.Options{
			Node: node, Store: cfg.Store,
			Jobs: group.Statuses,
			Ready: func(ctx context.Context) error {
				if err := st.Ping(ctx); err != nil {
					return err
				}
				return health.Err()
			},
			ReadyTimeout: min(cfg.Timing.StoreTimeout, 2*time.Second),
			Extra:        map[string]http.Handler{"GET /metrics": m.Handler()},
			Runs:         group.Runs, HistoryLimit: cfg.HistoryLimit,
			Actions: group, AdminToken: cfg.AdminToken, Log: log,
		}),
		ReadHeaderTimeout: 5 * time.Second,
		MaxHeaderBytes:    64 << 10, // no request needs more
	}
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	log.Info().Int("port", port).Str("started_in", time.Since(started).String()).
		Bool("actions", cfg.AdminToken != "").Int("history_limit", cfg.HistoryLimit).
		Msg(fmt.Sprintf("Listening on port %d", port))

	// The schedulers stop on claiming when this ends: at a signal, or if the
	// HTTP server fails.
	claiming, stopClaiming := context.WithCancel(ctx)
	defer stopClaiming()
	stopped := make(chan struct{})
	go func() { defer close(stopped); group.Run(claiming) }()

	select {
	case <-ctx.Done():
	case err := <-serveErr:
		log.Error().Err(err).Msg("HTTP server failed; shutting down")
	}
	log.Info().Str("shutdown_timeout", cfg.Timing.ShutdownTimeout.String()).Msg("Shutting down: no new runs; waiting for running jobs")
	stopClaiming()
	<-stopped
	shutdownHTTP(srv, log)
	log.Info().Msg("Stopped")
	return nil
}

func withOut(s jobs.Settings, out io.Writer) jobs.Settings {
	s.Out = out
	return s
}

func shutdownHTTP(srv *http.Server, log zerolog.Logger) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Warn().Err(err).Msg("HTTP server did not stop cleanly")
	}
}

// historyAndControl returns what of the store the schedulers use beyond
// leases: its history (nil with HISTORY_LIMIT=0) and its controls.
func historyAndControl(st store.Store, cfg config.Config) (store.History, store.Control) {
	var h store.History
	if cfg.HistoryLimit > 0 {
		h, _ = st.(store.History)
	}
	c, _ := st.(store.Control)
	return h, c
}

// openStore builds the configured lease store.
func openStore(ctx context.Context, cfg config.Config) (store.Store, error) {
	if cfg.Store == config.StoreMemory {
		return memory.New(memory.WithHistoryLimit(max(cfg.HistoryLimit, 1))), nil
	}
	d := cfg.Datastore
	// The emulator host is passed explicitly rather than left to the client
	// library's own reading of the process environment, so run sees only
	// getenv.
	st, err := datastore.New(ctx, datastore.Config{
		Project: d.Project, Database: d.Database, Namespace: d.Namespace, Kind: d.Kind,
		Timeout: cfg.Timing.StoreTimeout, EmulatorHost: d.EmulatorHost, HistoryLimit: max(cfg.HistoryLimit, 1),
	})
	if err != nil {
		return nil, fmt.Errorf("STORE=datastore: %w", err)
	}
	return st, nil
}
