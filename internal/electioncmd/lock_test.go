package electioncmd

import (
	"bytes"
	"context"
	"errors"
	"net"
	"os"
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
		{[]string{"--limit", "3", "prod", "--", "true"}, ""},
		{[]string{"--limit", "0", "prod", "--", "true"}, "--limit 0: electionclient: a semaphore's limit is 0"},
		{[]string{"--limit", "2", strings.Repeat("x", 250), "--", "true"}, "--limit 2: electionclient: slot 0 of"},
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
	srv, err := service.New(service.Options{Store: memory.New(), Sessions: memory.New(), Token: token})
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

// TestLockLimit: three lock processes of a semaphore of two: two commands
// run at once, each in a slot of its own (LEADER_SLOT), the third waits;
// leader --limit lists the two holders; when one command ends, the third
// starts in the slot it freed, under the slot's next term.
func TestLockLimit(t *testing.T) {
	addr := server(t, "")
	dir := t.TempDir()
	// Each command prints its slot and term, then runs until its stop file
	// exists.
	script := `echo "$LEADER_SLOT $LEADER_TERM"; while [ ! -e "` + dir + `/stop-$LEADER_NODE" ]; do sleep 0.02; done`
	outs := map[string]*syncBuffer{}
	done := make(chan string, 3)
	for _, node := range []string{"a", "b", "c"} {
		out := &syncBuffer{}
		outs[node] = out
		go func() {
			var errs syncBuffer
			if err := Lock(context.Background(), []string{"--server", addr, "--node", node, "--limit", "2", "batch", "--", "sh", "-c", script}, noEnv, out, &errs); err != nil {
				t.Errorf("lock %s: %v\n%s", node, err, errs.String())
			}
			done <- node
		}()
	}
	started := func() map[string]string {
		got := map[string]string{}
		for node, out := range outs {
			if s := strings.TrimSpace(out.String()); s != "" {
				got[node] = s
			}
		}
		return got
	}
	for len(started()) < 2 {
		time.Sleep(10 * time.Millisecond) // polling the commands' output
	}
	running := started()
	var waiting string
	slots := map[string]string{}
	for node := range outs {
		line, ok := running[node]
		if !ok {
			waiting = node
			continue
		}
		slot := strings.Fields(line)[0]
		if other, dup := slots[slot]; dup {
			t.Fatalf("%s and %s run in the same slot %s", node, other, slot)
		}
		slots[slot] = node
	}
	if len(running) != 2 || slots["0"] == "" || slots["1"] == "" {
		t.Fatalf("running %v; want two commands, in slots 0 and 1", running)
	}
	var list syncBuffer
	if err := Leader(context.Background(), []string{"--server", addr, "--limit", "2", "batch"}, noEnv, &list, &list); err != nil {
		t.Fatal(err)
	}
	for slot, node := range slots {
		if want := "election=batch/slot-" + slot + " leader=" + node + " term=1 "; !strings.Contains(list.String(), want) {
			t.Errorf("leader --limit 2 printed %q; want a line starting %q", list.String(), want)
		}
	}
	first := slots["0"]
	if err := os.WriteFile(dir+"/stop-"+first, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if got := <-done; got != first {
		t.Fatalf("%s's lock returned first; want %s's, whose command was told to stop", got, first)
	}
	for started()[waiting] == "" {
		time.Sleep(10 * time.Millisecond) // polling the commands' output
	}
	if got := started()[waiting]; got != "0 2" {
		t.Fatalf("%s's command started with slot and term %q; want the freed slot 0, under term 2", waiting, got)
	}
	for _, node := range []string{slots["1"], waiting} {
		if err := os.WriteFile(dir+"/stop-"+node, nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	<-done
	<-done
}
