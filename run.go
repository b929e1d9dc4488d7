package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime/debug"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"go-leader-election/clock"
	"go-leader-election/emulator"
	"go-leader-election/internal/config"
	"go-leader-election/internal/electioncmd"
	"go-leader-election/internal/logging"
	"go-leader-election/internal/metrics"
	"go-leader-election/jobs"
	"go-leader-election/scheduler"
	"go-leader-election/store"
	_ "go-leader-election/store/backends" // every STORE backend
)

// run is the whole daemon. args are the command line (args[0] the program);
// a first argument runs one of the commands instead (see commands). It
// returns when ctx ends and every job has stopped and released its lease.
//
// run reads the environment only through getenv, and, for the checks that
// need every variable's name rather than one value (a misspelt
// <JOB>_SCHEDULE), through the list withEnviron put in ctx: main puts
// os.Environ there; a caller that does not (a test with a map for getenv)
// skips those checks. It never reads the process environment itself.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) > 1 {
		return runCommand(ctx, args, getenv, stdout, stderr)
	}
	return runDaemon(ctx, getenv, stdout)
}

// runCommand runs the command args[1] names.
func runCommand(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if cmd := electioncmd.Lookup(args[1]); cmd != nil { // serve, lock, leader
		return cmd(ctx, args[2:], getenv, stdout, stderr)
	}
	switch args[1] {
	case "emulator":
		if err := emulator.Main(ctx, args[2:], stdout, stderr); !errors.Is(err, flag.ErrHelp) {
			return err
		}
		return nil
	case "validate":
		return runValidate(ctx, args[2:], getenv, stdout, stderr)
	case "help", "-h", "-help", "--help":
		printHelp(stdout)
		return nil
	case "version", "-version", "--version":
		bi, ok := debug.ReadBuildInfo()
		fmt.Fprintln(stdout, versionLine(bi, ok))
		return nil
	}
	return fmt.Errorf("unknown command %q: the commands are %s (`go-leader-election help` says more); "+
		"the daemon itself takes no arguments, only environment variables", args[1], commandNames())
}

// runDaemon is the daemon: its jobs on the configured store, its HTTP API,
// until ctx ends; then every job stops and releases its lease.
func runDaemon(ctx context.Context, getenv func(string) string, stdout io.Writer) error {
	cfg, err := config.Load(getenv)
	if err != nil {
		return err
	}
	out := logging.NewSyncWriter(stdout)
	base := logging.New(out, cfg.LogFormat, cfg.LogLevel, cfg.Stage) // the scheduler adds job and node
	all, file, err := daemonJobs(ctx, cfg, getenv, out)
	if err != nil {
		return err
	}
	defer file.Close()
	st, err := cfg.Backend.Open(ctx, store.OpenOptions{Timeout: cfg.Timing.StoreTimeout, HistoryLimit: max(cfg.HistoryLimit, 1)})
	if err != nil {
		return err
	}
	defer st.Close()
	reg, metricsHandler := metrics.NewRegistry()
	s, err := scheduler.New(st, schedulerOptions(cfg, base, reg)...)
	if err != nil {
		return err
	}
	for _, j := range all {
		if err := s.Add(j.job, j.opts...); err != nil {
			return err
		}
	}
	log := base.With().Str("node", s.Node()).Logger()
	logStart(log, cfg, s)
	srv, serveErr, err := serveHTTP(cfg, s, metricsHandler, log)
	if err != nil {
		return err
	}
	if file.path != "" {
		go file.reload(ctx, reloadsFrom(ctx), s, all, log)
	}

	// The scheduler stops claiming when this ends: after ctx ends (a signal)
	// or the HTTP server fails, and "Shutting down" is logged. It does not
	// inherit ctx's cancellation, so no job can release its lease (and log
	// "Released") before that line.
	claiming, stopClaiming := context.WithCancel(context.WithoutCancel(ctx))
	defer stopClaiming()
	go func() { _ = s.Run(claiming) }()

	select {
	case <-ctx.Done():
	case err := <-serveErr:
		log.Error().Err(err).Msg("HTTP server failed; shutting down")
	}
	log.Info().Str("shutdown_timeout", cfg.Timing.ShutdownTimeout.String()).Msg("Shutting down: no new runs; waiting for running jobs")
	stopClaiming()
	<-s.Done()
	shutdownHTTP(srv, log)
	log.Info().Msg("Stopped")
	return nil
}

// daemonJobs are the Go jobs and the jobs file's, and the file (its path
// "" without JOBS_FILE), for reloads.
func daemonJobs(ctx context.Context, cfg config.Config, getenv func(string) string, out io.Writer) ([]daemonJob, *jobsFile, error) {
	builtin, err := builtinJobs(ctx, cfg, getenv, out)
	if err != nil {
		return nil, nil, err
	}
	file := newJobsFile(ctx, cfg, getenv, builtin)
	if cfg.JobsFile == "" {
		return builtin, file, nil
	}
	fromFile, err := file.load()
	if err != nil {
		file.Close()
		// Exit status 2, as validate's for the same mistakes.
		return nil, nil, &electioncmd.ExitError{Code: 2, Err: fmt.Errorf("JOBS_FILE: %w", err)}
	}
	return append(builtin, fromFile...), file, nil
}

// logStart logs the test knob, if set, and the store chosen.
func logStart(log zerolog.Logger, cfg config.Config, s *scheduler.Scheduler) {
	if cfg.ClockOffset != 0 {
		log.Warn().Str("offset", cfg.ClockOffset.String()).Msg("CLOCK_OFFSET shifts this node's clock: a test setting")
	}
	ev := log.Info().Str("store", cfg.Store).Str("reason", cfg.StoreReason).Str("holder", s.Holder())
	if where := cfg.Backend.Address(); where != "" {
		ev = ev.Str("address", where)
	}
	ev.Msg("Store selected")
}

// serveHTTP serves the scheduler's API and the metrics on APP_PORT, and
// logs the port.
func serveHTTP(cfg config.Config, s *scheduler.Scheduler, metricsHandler http.Handler, log zerolog.Logger) (*http.Server, <-chan error, error) {
	started := time.Now()
	ln, err := net.Listen("tcp", net.JoinHostPort("", strconv.Itoa(cfg.Port)))
	if err != nil {
		return nil, nil, fmt.Errorf("APP_PORT: listen on port %d: %w", cfg.Port, err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", metricsHandler)
	mux.Handle("/", s.Handler())
	srv := &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 5 * time.Second,
		MaxHeaderBytes:    64 << 10, // no request needs more
	}
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	log.Info().Int("port", port).Str("started_in", time.Since(started).String()).
		Bool("actions", cfg.AdminToken != "").Int("history_limit", cfg.HistoryLimit).
		Msg(fmt.Sprintf("Listening on port %d", port))
	return srv, serveErr, nil
}

// schedulerOptions are the scheduler's settings from the daemon's
// configuration; its metrics go to reg.
func schedulerOptions(cfg config.Config, log zerolog.Logger, reg prometheus.Registerer) []scheduler.Option {
	opts := []scheduler.Option{
		scheduler.WithClock(clock.Offset(clock.Real{}, cfg.ClockOffset)),
		scheduler.WithTiming(cfg.Timing),
		scheduler.WithBalance(cfg.Balance),
		scheduler.WithMemberPeriod(cfg.MemberPeriod),
		scheduler.WithHistoryLimit(cfg.HistoryLimit),
		scheduler.WithLogger(log),
		scheduler.WithRegisterer(reg),
		scheduler.WithStoreName(cfg.Store, cfg.Backend.Describe()),
	}
	if cfg.NodeName != "" {
		opts = append(opts, scheduler.WithNode(cfg.NodeName))
	}
	if cfg.AdminToken != "" {
		opts = append(opts, scheduler.WithAdminToken(cfg.AdminToken))
	}
	return opts
}

func jobNames(js []jobs.Job) []string {
	names := make([]string, len(js))
	for i, j := range js {
		names[i] = j.Name
	}
	return names
}

func jobDefaults(js []jobs.Job) map[string]string {
	m := make(map[string]string, len(js))
	for _, j := range js {
		m[j.Name] = j.Schedule
	}
	return m
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
