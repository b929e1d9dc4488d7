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

	"github.com/moby/moby/pkg/namesgenerator"
	"github.com/rs/zerolog"

	"go-leader-election/clock"
	"go-leader-election/emulator"
	"go-leader-election/internal/config"
	"go-leader-election/internal/electioncmd"
	"go-leader-election/internal/logging"
	"go-leader-election/internal/metrics"
	"go-leader-election/internal/schedulers"
	"go-leader-election/internal/server"
	"go-leader-election/jobs"
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
	if len(args) > 1 && electioncmd.Lookup(args[1]) != nil { // serve, lock, leader
		return electioncmd.Lookup(args[1])(ctx, args[2:], getenv, stdout, stderr)
	}
	if len(args) > 1 {
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
	cfg, err := config.Load(getenv, environFrom(ctx)...)
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

	st, err := cfg.Backend.Open(ctx, store.OpenOptions{Timeout: cfg.Timing.StoreTimeout, HistoryLimit: max(cfg.HistoryLimit, 1)})
	if err != nil {
		return err
	}
	defer st.Close()
	where := cfg.Backend.Address()
	ev := log.Info().Str("store", cfg.Store).Str("reason", cfg.StoreReason).Str("holder", id.Holder)
	if where != "" {
		ev = ev.Str("address", where)
	}
	ev.Msg("Store selected")

	var group *schedulers.Group
	m := metrics.New(func() []schedulers.Status { return group.Statuses() })
	if calls, ok := st.(store.CallObserver); ok {
		m.UseRPCCounter()
		calls.ObserveCalls(m.ObserveRPC)
	}
	var scheduled []schedulers.Scheduled
	for _, j := range jobs.Registry(withOut(cfg.Jobs, out)) {
		s := cfg.Schedules[j.Name]
		m.AddJob(j.Name)
		scheduled = append(scheduled, schedulers.Scheduled{Job: j, Spec: s.Spec, Schedule: s.Schedule})
	}
	membership, err := newMembership(cfg, st, id, clk, scheduled, base)
	if err != nil {
		return err
	}
	gcfg := schedulers.GroupConfig{
		Jobs: scheduled, Store: st, Clock: clk, Identity: id, Timing: cfg.Timing, Log: base, Observer: m,
		// Health logs store outages, once each, naming the address tried.
		Health:     &store.Health{Log: &log, Store: cfg.Backend.Describe()},
		Membership: membership,
	}
	gcfg.History, gcfg.Control = historyAndControl(st, cfg)
	group, err = schedulers.NewGroup(gcfg)
	if err != nil {
		return err
	}
	health := group.Health()
	var members func() []schedulers.MemberStatus
	if membership != nil {
		members = group.Members
		m.UseMembers(members)
	}

	started := time.Now()
	ln, err := net.Listen("tcp", net.JoinHostPort("", strconv.Itoa(cfg.Port)))
	if err != nil {
		return fmt.Errorf("APP_PORT: listen on port %d: %w", cfg.Port, err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	srv := &http.Server{
		Handler: server.New(server.Options{
			Node: node, Store: cfg.Store,
			Jobs:    group.Statuses,
			Members: members,
			Ready: func(ctx context.Context) error {
				err := st.Ping(ctx)
				if err == nil {
					err = health.Err()
				}
				if err != nil {
					return fmt.Errorf("%s: %w", cfg.Backend.Describe(), err)
				}
				return nil
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

	// The schedulers stop claiming when this ends: after ctx ends (a signal)
	// or the HTTP server fails, and "Shutting down" is logged. It does not
	// inherit ctx's cancellation, so no scheduler can release its lease
	// (and log "Released") before that line.
	claiming, stopClaiming := context.WithCancel(context.WithoutCancel(ctx))
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

// newMembership returns the membership that shares the jobs out (BALANCE),
// or nil when balance is off or the store keeps no member records. Its
// clock offset is this node's clock (CLOCK_OFFSET included) minus the
// store's, as the store estimates it (Datastore: from commit timestamps).
func newMembership(cfg config.Config, st store.Store, id schedulers.Identity, clk clock.Clock,
	scheduled []schedulers.Scheduled, log zerolog.Logger) (*schedulers.Membership, error) {
	ms, ok := st.(store.Members)
	if !cfg.Balance || !ok {
		return nil, nil
	}
	names := make([]string, len(scheduled))
	for i, s := range scheduled {
		names[i] = s.Job.Name
	}
	offset := func() (time.Duration, bool) { return cfg.ClockOffset, true } // the embedded store runs on this clock
	if clock, ok := st.(store.ClockReader); ok {
		offset = func() (time.Duration, bool) {
			off, _, ok := clock.ClockOffset()
			return off + cfg.ClockOffset, ok
		}
	}
	return schedulers.NewMembership(schedulers.MembershipConfig{
		Store: ms, Identity: id, Jobs: names, Period: cfg.MemberPeriod, Timeout: cfg.Timing.StoreTimeout,
		Clock: clk, Started: clk.Now(), ClockOffset: offset, Log: log,
	})
}
