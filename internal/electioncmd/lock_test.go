package electioncmd

import (
	"bytes"
	"context"
	"errors"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"go-leader-election/internal/service"
	"go-leader-election/store/memory"
)

func TestParseLock(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string // error, "" for none
	}{
		{[]string{"prod", "--", "true"}, ""},
		{[]string{"--ttl", "2s", "--grace", "0", "prod", "--", "true", "x"}, ""},
		{[]string{}, "want ELECTION -- COMMAND"},
		{[]string{"prod"}, "want ELECTION -- COMMAND"},
		{[]string{"prod", "--"}, "want ELECTION -- COMMAND"},
		{[]string{"prod", "true"}, "flags before ELECTION"},
		{[]string{"prod", "--ttl", "2s", "--", "true"}, "flags before ELECTION"},
		{[]string{"--ttl", "500ms", "prod", "--", "true"}, "--ttl: ttl 500ms is out of range"},
		{[]string{"--ttl", "2h", "prod", "--", "true"}, "out of range"},
		{[]string{"--ttl", "3s", "--grace", "1s", "prod", "--", "true"}, "--grace 1s must be at least 0 and shorter than a third of --ttl 3s"},
		{[]string{"--grace", "-1s", "prod", "--", "true"}, "--grace -1s must be at least 0"},
		{[]string{"--node", "a\x01", "prod", "--", "true"}, "--node"},
		{[]string{"__x__", "--", "true"}, "reserved"},
		{[]string{"--server", "", "prod", "--", "true"}, "empty server address"},
	} {
		o, err := parseLock(c.args, &bytes.Buffer{})
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%q: %v", c.args, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%q: %v; want an error containing %q", c.args, err, c.want)
		case c.want == "" && (o.election != "prod" || o.argv[0] != "true" || o.node == ""):
			t.Errorf("%q: parsed %+v", c.args, o)
		}
	}
	o, _ := parseLock([]string{"--ttl", "6s", "prod", "--", "true"}, &bytes.Buffer{})
	if o.grace != time.Second {
		t.Errorf("default grace for a 6s TTL: %s, want 1s", o.grace)
	}
}

// server serves the service in this process until t ends.
func server(t *testing.T, token string) string {
	t.Helper()
	srv, err := service.New(service.Options{Store: memory.New(), Token: token})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	g := srv.GRPCServer()
	go func() { _ = g.Serve(ln) }()
	t.Cleanup(func() { srv.Close(); g.Stop() })
	return ln.Addr().String()
}

// syncBuffer is a bytes.Buffer safe for the command's and lock's writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func noEnv(string) string { return "" }

// TestLockRunsTheCommandAsLeader: the environment is set, the command's
// status is lock's, and the lease is released after.
func TestLockRunsTheCommandAsLeader(t *testing.T) {
	addr := server(t, "")
	var out, errs syncBuffer
	err := Lock(context.Background(), []string{"--server", addr, "--node", "n1", "prod", "--", "sh", "-c", `echo "$LEADER_ELECTION $LEADER_NODE $LEADER_TERM"; exit 3`}, noEnv, &out, &errs)
	var exit *ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 3 || exit.Error() != "" {
		t.Fatalf("Lock: %v; want a silent exit status 3\n%s", err, errs.String())
	}
	if got := out.String(); got != "prod n1 1\n" {
		t.Fatalf("the command printed %q; want its election, node and term", got)
	}
	if !strings.Contains(errs.String(), `released "prod" (term 1)`) {
		t.Fatalf("lock said:\n%s", errs.String())
	}
	// Released: the next lock leads at once, under term 2.
	out = syncBuffer{}
	if err := Lock(context.Background(), []string{"--server", addr, "--node", "n2", "prod", "--", "sh", "-c", `echo $LEADER_TERM`}, noEnv, &out, &errs); err != nil {
		t.Fatal(err)
	}
	if out.String() != "2\n" {
		t.Fatalf("second lock's term %q, want 2", out.String())
	}
}

// TestLockForwardsAStopAndWaits: ctx's end (as a SIGTERM) reaches the
// command, which exits by its own trap; lock returns its status.
func TestLockForwardsAStopAndWaits(t *testing.T) {
	addr := server(t, "")
	ctx, cancel := context.WithCancel(context.Background())
	var out, errs syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- Lock(ctx, []string{"--server", addr, "prod", "--", "sh", "-c", `trap 'echo stopping; exit 7' TERM; echo started; while :; do sleep 0.05; done`}, noEnv, &out, &errs)
	}()
	for !strings.Contains(out.String(), "started") {
		select {
		case err := <-done:
			t.Fatalf("Lock returned %v before the command started\n%s", err, errs.String())
		case <-time.After(10 * time.Millisecond): // polling the command's output
		}
	}
	cancel()
	err := <-done
	var exit *ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 7 || !strings.Contains(out.String(), "stopping") {
		t.Fatalf("Lock: %v, output %q; want the command's trap and status 7\n%s", err, out.String(), errs.String())
	}
}

func TestLockWithAWrongTokenFailsAtOnce(t *testing.T) {
	addr := server(t, "s3cret")
	var errs syncBuffer
	start := time.Now()
	err := Lock(context.Background(), []string{"--server", addr, "prod", "--", "true"}, func(k string) string {
		return map[string]string{"LEASE_TOKEN": "guess"}[k]
	}, &errs, &errs)
	if err == nil || !strings.Contains(err.Error(), "refused the token (Unauthenticated)") || time.Since(start) > 5*time.Second {
		t.Fatalf("Lock with a wrong token: %v after %s; want Unauthenticated at once", err, time.Since(start))
	}
}

func TestLockCommandNotFound(t *testing.T) {
	addr := server(t, "")
	var errs syncBuffer
	err := Lock(context.Background(), []string{"--server", addr, "prod", "--", "/nonexistent/command"}, noEnv, &errs, &errs)
	var exit *ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 127 || !strings.Contains(err.Error(), "/nonexistent/command") {
		t.Fatalf("Lock of a missing command: %v; want status 127 naming it", err)
	}
	if !strings.Contains(errs.String(), "released") {
		t.Fatalf("lock did not release after the failed start:\n%s", errs.String())
	}
}

func TestLeaderCommand(t *testing.T) {
	addr := server(t, "")
	var out, errs syncBuffer
	err := Leader(context.Background(), []string{"--server", addr, "prod"}, noEnv, &out, &errs)
	var exit *ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 3 || out.String() != "election=prod leader= term=0\n" {
		t.Fatalf("leader of a new election: %v, %q; want exit 3, no leader", err, out.String())
	}
	for _, args := range [][]string{{}, {"a", "b"}, {"--server", addr, ""}} {
		if err := Leader(context.Background(), args, noEnv, &out, &errs); !errors.As(err, &exit) || exit.Code != 2 {
			t.Errorf("leader %q: %v; want a usage error, status 2", args, err)
		}
	}
	if Lookup("serve") == nil || Lookup("lock") == nil || Lookup("leader") == nil || Lookup("emulator") != nil {
		t.Error("Lookup does not name exactly serve, lock and leader")
	}
}
