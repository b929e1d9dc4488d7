// Command embed is a small HTTP service that runs two scheduled jobs with
// the go-leader-election scheduler library: run three copies of it on one
// store and each tick of each job runs once, on one copy.
//
// It listens on PORT (default 8080) and names itself NODE_NAME (default a
// random name). It keeps its leases in memory (one copy), or in Datastore
// when DATASTORE_EMULATOR_HOST is set (project DATASTORE_PROJECT_ID). Its
// jobs tick every 10 s, every second with EXAMPLE_FAST=1, and each run
// prints one JSON line: {"job":…,"tick":…,"node":…,"term":…}. The
// scheduler's API is mounted under /scheduler/ (/scheduler/jobs, the status
// page at /scheduler/).
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"go-leader-election/scheduler"
	"go-leader-election/store"
	"go-leader-election/store/datastore"
	"go-leader-election/store/memory"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Getenv, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "embed:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, getenv func(string) string, stdout io.Writer) error {
	st, err := openStore(ctx, getenv)
	if err != nil {
		return err
	}
	defer st.Close()
	var opts []scheduler.Option
	if node := getenv("NODE_NAME"); node != "" {
		opts = append(opts, scheduler.WithNode(node))
	}
	s, err := scheduler.New(st, opts...)
	if err != nil {
		return err
	}
	every := "@every 10s"
	if getenv("EXAMPLE_FAST") == "1" {
		every = "@every 1s"
	}
	out := &lines{w: stdout}
	for _, name := range []string{"send_digest", "clean_cache"} {
		if err := s.Add(scheduler.Job{Name: name, Schedule: every, Run: out.printRun(s.Node())}); err != nil {
			return err
		}
	}

	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintln(w, "hello from", s.Node())
	})
	mux.Handle("/scheduler/", http.StripPrefix("/scheduler", s.Handler()))
	port := getenv("PORT")
	if port == "" {
		port = "8080"
	}
	ln, err := net.Listen("tcp", ":"+port)
	if err != nil {
		return fmt.Errorf("PORT: %w", err)
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()

	go func() { _ = s.Run(ctx) }() // until SIGTERM; then runs finish and leases are released
	<-s.Done()
	shutdown, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// openStore opens Datastore when an emulator is named, else a memory store.
func openStore(ctx context.Context, getenv func(string) string) (store.Store, error) {
	host := getenv("DATASTORE_EMULATOR_HOST")
	if host == "" {
		return memory.New(), nil
	}
	return datastore.New(ctx, datastore.Config{
		Project: getenv("DATASTORE_PROJECT_ID"), EmulatorHost: host, Timeout: scheduler.DefaultTiming().StoreTimeout,
	})
}

// lines writes one JSON line per run, whole, whichever job writes it.
type lines struct {
	mu sync.Mutex
	w  io.Writer
}

type runLine struct {
	Job  string `json:"job"`
	Tick string `json:"tick"`
	Node string `json:"node"`
	Term int64  `json:"term"`
}

func (l *lines) printRun(node string) func(context.Context) error {
	return func(ctx context.Context) error {
		token, _ := scheduler.TokenFrom(ctx)
		b, err := json.Marshal(runLine{Job: token.Name, Tick: token.Tick.UTC().Format(time.RFC3339), Node: node, Term: token.Term})
		if err != nil {
			return err
		}
		l.mu.Lock()
		defer l.mu.Unlock()
		_, err = l.w.Write(append(b, '\n'))
		return err
	}
}
