package electioncmd

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"slices"
	"strconv"
	"syscall"
	"time"

	pb "go-leader-election/api/leaderelection/v1"
	"go-leader-election/electionclient"
	"go-leader-election/internal/procgroup"
)

const lockUsage = `Usage: go-leader-election lock [flags] ELECTION -- COMMAND [ARGS...]

Waits until this node leads ELECTION, then runs COMMAND with LEADER_ELECTION,
LEADER_NODE and LEADER_TERM in its environment, keeping the lease alive (a
session, kept alive over one stream). With --limit N, up to N lock processes
run their commands at once, each holding one of N slots (LEADER_SLOT, from 0).
If the lease is lost, COMMAND gets SIGTERM, then SIGKILL after --grace, before
the lease can lapse, and lock exits 1. SIGINT and SIGTERM are forwarded to
COMMAND; lock then waits for it, releases the lease and exits with its
status. Flags:
`

// lockOptions are lock's parsed command line.
type lockOptions struct {
	common
	ttl      time.Duration
	grace    time.Duration
	node     string
	limit    int // 0: one holder, of ELECTION itself; else that many slots
	election string
	argv     []string
}

// elections are the elections lock campaigns on: ELECTION, or the slots of
// its semaphore (electionclient.Slots).
func (o lockOptions) elections() []string {
	if o.limit == 0 {
		return []string{o.election}
	}
	slots, _ := electionclient.Slots(o.election, o.limit) // checked by parseLock
	return slots
}

func parseLock(args []string, stderr io.Writer) (lockOptions, error) {
	var o lockOptions
	fs := flag.NewFlagSet("lock", flag.ContinueOnError)
	o.register(fs)
	fs.DurationVar(&o.ttl, "ttl", electionclient.DefaultTTL, "lease `TTL`, from 1s to 1h")
	fs.DurationVar(&o.grace, "grace", 0, "how long COMMAND has between SIGTERM and SIGKILL when the lease is lost; under a third of --ttl (default a sixth of --ttl)")
	fs.StringVar(&o.node, "node", "", "this node's `id` (default: the host name and a random suffix)")
	fs.IntVar(&o.limit, "limit", 0, "let up to `N` holders run at once (a semaphore of N slots, the elections ELECTION/slot-0 to ELECTION/slot-N-1); LEADER_SLOT tells the command its slot")
	if err := parse(fs, lockUsage, args, stderr); err != nil {
		return o, err
	}
	graceSet := false
	fs.Visit(func(f *flag.Flag) { graceSet = graceSet || f.Name == "grace" })
	rest := fs.Args()
	switch {
	case len(rest) == 0:
		return o, errors.New("want ELECTION -- COMMAND [ARGS...] (see lock -h)")
	case len(rest) < 3 || rest[1] != "--":
		return o, fmt.Errorf("want ELECTION -- COMMAND [ARGS...], flags before ELECTION; got %q", rest)
	}
	o.election, o.argv = rest[0], rest[2:]
	if err := pb.CheckName("ELECTION", o.election); err != nil {
		return o, err
	}
	if limitSet(fs) {
		if _, err := electionclient.Slots(o.election, o.limit); err != nil {
			return o, fmt.Errorf("--limit %d: %w", o.limit, err)
		}
	}
	if err := pb.CheckTTL(o.ttl); err != nil {
		return o, fmt.Errorf("--ttl: %w", err)
	}
	// The untrusted third of the TTL is what the command has to stop in.
	untrusted := time.Duration(float64(o.ttl) * (1 - electionclient.DefaultTrust))
	switch {
	case !graceSet:
		o.grace = o.ttl / 6
	case o.grace < 0 || o.grace >= untrusted:
		return o, fmt.Errorf("--grace %s must be at least 0 and shorter than a third of --ttl %s, so that COMMAND is killed before the lease can lapse", o.grace, o.ttl)
	}
	if o.node == "" {
		o.node = electionclient.DefaultNode()
	}
	if err := pb.CheckName("--node", o.node); err != nil {
		return o, err
	}
	return o, nil
}

// Lock is "go-leader-election lock".
func Lock(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	o, err := parseLock(args, stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return &ExitError{Code: 2, Err: fmt.Errorf("lock: %w", err)}
	}
	client, err := o.client("lock", getenv, stderr)
	if err != nil {
		return fmt.Errorf("lock: %w", err)
	}
	defer client.Close()
	say := func(format string, a ...any) { fmt.Fprintf(stderr, "lock: "+format+"\n", a...) }

	// lock forwards every SIGINT and SIGTERM it gets; ctx ending for another
	// reason (a caller's cancel) counts as a SIGTERM.
	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(sigs)
	done := make(chan struct{})
	defer close(done)
	stop := stopRequests(ctx, sigs, done)

	if o.limit > 0 {
		say("waiting for one of the %d slots of %q as %s (servers %s, ttl %s)", o.limit, o.election, o.node, o.servers.String(), o.ttl)
	} else {
		say("waiting to lead %q as %s (servers %s, ttl %s)", o.election, o.node, o.servers.String(), o.ttl)
	}
	// Only a stop request (a signal, or ctx's end) ends the campaign, so that
	// it is told apart from a failure.
	cctx, cancel := context.WithCancelCause(context.WithoutCancel(ctx))
	interrupted := make(chan os.Signal, 1) // the signal that ended the campaign, if one did
	go func() {
		defer close(interrupted)
		select {
		case s := <-stop:
			interrupted <- s
			cancel(errInterrupted)
		case <-cctx.Done():
		}
	}()
	sess, err := client.NewSession(cctx, electionclient.SessionOptions{Node: o.node, TTL: o.ttl})
	var lead *electionclient.Leadership
	if err == nil {
		defer closeSession(sess, say)
		lead, err = sess.CampaignAny(cctx, o.elections()...)
	}
	cancel(nil)
	if sig, ok := <-interrupted; ok {
		if lead != nil {
			resign(lead, say, 5*time.Second)
		}
		say("%v while waiting to lead %q; not starting the command", sig, o.election)
		return &ExitError{Code: 128 + signum(sig)}
	}
	if err != nil {
		return fmt.Errorf("lock: %w", err)
	}
	return runLeader(lead, o, stdout, stderr, stop, say)
}

// closeSession closes the session, so that whatever it still holds is free
// at once, and says so only when it fails.
func closeSession(sess *electionclient.Session, say func(string, ...any)) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := sess.Close(ctx); err != nil {
		say("could not close the session: %v; it lapses after its TTL", err)
	}
}

var errInterrupted = errors.New("interrupted")

// stopRequests merges the signals and ctx's end into one channel of signals
// to forward: a ctx ended by a signal (signal.NotifyContext) is not counted
// twice.
func stopRequests(ctx context.Context, sigs <-chan os.Signal, done <-chan struct{}) <-chan os.Signal {
	out := make(chan os.Signal, 8)
	go func() {
		ended := ctx.Done()
		for {
			var s os.Signal
			select {
			case s = <-sigs:
			case <-ended:
				ended = nil
				if c := context.Cause(ctx); c != context.Canceled && c != context.DeadlineExceeded {
					continue // a signal's (signal.NotifyContext): sigs has it too
				}
				s = syscall.SIGTERM // a caller's cancel
			case <-done:
				return
			}
			select {
			case out <- s:
			case <-done:
				return
			}
		}
	}()
	return out
}

// resign hands the lease back, within limit, and says how it went.
func resign(lead *electionclient.Leadership, say func(string, ...any), limit time.Duration) {
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	name := lead.Election().Name()
	if err := lead.Resign(ctx); err != nil {
		say("could not release %q (term %d): %v; it lapses after its TTL", name, lead.Term(), err)
		return
	}
	say("released %q (term %d)", name, lead.Term())
}

// runLeader runs the command while lead lasts.
func runLeader(lead *electionclient.Leadership, o lockOptions, stdout, stderr io.Writer, stop <-chan os.Signal, say func(string, ...any)) error {
	cmd := exec.Command(o.argv[0], o.argv[1:]...)
	cmd.Env = append(cmd.Environ(), "LEADER_ELECTION="+o.election, "LEADER_NODE="+o.node,
		"LEADER_TERM="+strconv.FormatInt(lead.Term(), 10))
	led := strconv.Quote(o.election)
	if o.limit > 0 {
		slot := slices.Index(o.elections(), lead.Election().Name())
		cmd.Env = append(cmd.Env, "LEADER_SLOT="+strconv.Itoa(slot))
		led = fmt.Sprintf("slot %d of %q", slot, o.election)
	}
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, stdout, stderr
	cmd.WaitDelay = time.Second // output copying, when stdout is not a file
	say("leading %s as %s, term %d; starting %q", led, o.node, lead.Term(), o.argv)
	if !procgroup.ParentDeathSignal {
		say("no parent-death signal on %s: if lock is killed, the command lives on", runtime.GOOS)
	}
	g, err := procgroup.Start(cmd, procgroup.Options{})
	if err != nil {
		resign(lead, say, 5*time.Second)
		code := 126
		if errors.Is(err, exec.ErrNotFound) || errors.Is(err, fs.ErrNotExist) {
			code = 127
		}
		return &ExitError{Code: code, Err: fmt.Errorf("lock: %w", err)}
	}
	var killAt <-chan time.Time
	lost := lead.Done()
	var lostErr error
	for {
		select {
		case <-g.Exited():
			st, err := g.Wait()
			code := st.ShellCode()
			if err != nil {
				say("waiting for the command: %v", err)
			}
			if lostErr != nil {
				say("command stopped (status %d) after losing %s", code, led)
				resign(lead, say, 2*time.Second) // frees peers early if the record still names this node
				return &ExitError{Code: 1, Err: fmt.Errorf("lock: lost the lease of %s (term %d): %w", led, lead.Term(), lostErr)}
			}
			say("command exited with status %d", code)
			resign(lead, say, 5*time.Second)
			if code == 0 {
				return nil
			}
			return &ExitError{Code: code}
		case sig := <-stop:
			say("forwarding %v to the command", sig)
			if err := g.Signal(sig.(syscall.Signal)); err != nil && !errors.Is(err, syscall.ESRCH) && !errors.Is(err, os.ErrProcessDone) {
				say("could not signal the command: %v", err)
			}
		case <-lost:
			lost = nil
			lostErr = lead.Err()
			say("lost the lease of %s (term %d): %v; sending SIGTERM, SIGKILL in %s", led, lead.Term(), lostErr, o.grace)
			_ = g.Signal(syscall.SIGTERM)
			t := time.NewTimer(o.grace)
			defer t.Stop()
			killAt = t.C
		case <-killAt:
			killAt = nil
			say("the command outlived its grace; sending SIGKILL")
			_ = g.Signal(syscall.SIGKILL)
		}
	}
}

func signum(s os.Signal) int {
	if n, ok := s.(syscall.Signal); ok {
		return int(n)
	}
	return 15
}
