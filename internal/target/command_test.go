//go:build linux

package target

import (
	"bufio"
	"context"
	"errors"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"go-leader-election/internal/procgroup/proctest"
)

// modes are the two ways a command starts: under the supervisor (the
// daemon's way) and directly.
var modes = []mode{{"supervised", true}, {"direct", false}}

type mode struct {
	name       string
	supervised bool
}

// command returns c as m runs it.
func (m mode) command(c Command) Command {
	if m.supervised {
		c.Supervisor = supervisor
	}
	return c
}

// sink collects a run's output lines.
type sink struct {
	mu    sync.Mutex
	lines []string // "stream: line"
	first chan string
}

func newSink() *sink { return &sink{first: make(chan string, 1)} }

func (s *sink) output(stream, line string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.lines) == 0 {
		s.first <- line
	}
	s.lines = append(s.lines, stream+": "+line)
}

func (s *sink) all() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.lines...)
}

var tick = time.Date(2026, 3, 8, 7, 30, 0, 0, time.UTC)

func invocation(s *sink) Invocation {
	return Invocation{Job: "backup", Tick: tick, Term: 42, Node: "n1", RunID: "backup@2026-03-08T07:30:00Z",
		KillGrace: time.Second, Output: s.output}
}

func TestCommandEnvironmentAndOutput(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			s := newSink()
			c := m.command(Command{
				// sh is looked up in the command's PATH, not the test's.
				Argv:    []string{"sh", "-c", `echo "$JOB_NAME|$JOB_TICK|$JOB_TERM|$JOB_NODE|$JOB_RUN_ID|$SECRET|$BASE|$(pwd)"; echo oops >&2`},
				Env:     map[string]string{"SECRET": "s3cret", "PATH": "/usr/bin:/bin"},
				BaseEnv: []string{"BASE=from-the-daemon", "SECRET=overridden-by-env", "PATH=/nonexistent"},
				Dir:     "/tmp",
			})
			res, err := c.Run(context.Background(), invocation(s))
			if err != nil {
				t.Fatal(err)
			}
			want := "backup|2026-03-08T07:30:00Z|42|n1|backup@2026-03-08T07:30:00Z|s3cret|from-the-daemon|/tmp"
			got := strings.Join(s.all(), "\n")
			if !strings.Contains(got, "stdout: "+want) || !strings.Contains(got, "stderr: oops") {
				t.Fatalf("output:\n%s\nwant stdout %q and stderr oops", got, want)
			}
			if res.Status != "exit 0" || !strings.Contains(res.Tail, want+"\n") || !strings.Contains(res.Tail, "oops\n") {
				t.Fatalf("result %+v", res)
			}
		})
	}
}

func TestCommandFailures(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			for _, c := range []struct {
				argv         []string
				dir          string
				status       string
				is           error
				wantInErrors []string
			}{
				{[]string{"/bin/sh", "-c", "exit 3"}, "", "exit 3", ErrFailed, []string{`command "/bin/sh" failed: exit 3`}},
				{[]string{"/bin/sh", "-c", "kill -TERM $$"}, "", "signal: terminated", ErrFailed, []string{`"/bin/sh" failed: signal: terminated`}},
				{[]string{"no-such-command-3f9"}, "", StatusNotStarted, ErrNotStarted, []string{`command "no-such-command-3f9" not started: exec: "no-such-command-3f9": executable file not found in $PATH`}},
				{[]string{"/bin/true"}, "/no/such/dir", StatusNotStarted, ErrNotStarted, []string{`command "/bin/true" not started`, "/no/such/dir"}},
				{nil, "", StatusNotStarted, ErrInvalid, []string{"empty command"}},
			} {
				res, err := m.command(Command{Argv: c.argv, Dir: c.dir}).Run(context.Background(), invocation(newSink()))
				if res.Status != c.status || !errors.Is(err, c.is) {
					t.Errorf("%q: status %q, error %v; want %q and %v", c.argv, res.Status, err, c.status, c.is)
					continue
				}
				for _, w := range c.wantInErrors {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("%q: error %q does not say %q", c.argv, err, w)
					}
				}
			}
		})
	}
}

// TestCommandStopGetsTermThenKill: when ctx ends, the whole group gets
// SIGTERM; a group that ignores it gets SIGKILL after the grace, not before.
func TestCommandStopGetsTermThenKill(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			s := newSink()
			inv := invocation(s)
			inv.KillGrace = 300 * time.Millisecond
			ctx, cancel := context.WithCancel(context.Background())
			// The shell and its background sleep ignore SIGTERM (inherited).
			c := m.command(Command{Argv: []string{"/bin/sh", "-c", `trap "" TERM; sleep 30 & echo $$; wait`}})
			type ran struct {
				res Result
				err error
				at  time.Time
			}
			done := make(chan ran, 1)
			go func() { r, err := c.Run(ctx, inv); done <- ran{r, err, time.Now()} }()
			pgid, err := strconv.Atoi(<-s.first)
			if err != nil {
				t.Fatal(err)
			}
			if len(proctest.Group(pgid)) < 2 {
				t.Fatalf("group %d: %v, want the shell and its sleep", pgid, proctest.Group(pgid))
			}
			cancelled := time.Now()
			cancel()
			r := <-done
			if r.res.Status != "signal: killed" || !errors.Is(r.err, ErrFailed) || !errors.Is(r.err, context.Canceled) {
				t.Fatalf("status %q, error %v; want killed, failed and cancelled", r.res.Status, r.err)
			}
			if waited := r.at.Sub(cancelled); waited < inv.KillGrace {
				t.Fatalf("killed %s after the cancel, before the grace %s", waited, inv.KillGrace)
			}
			proctest.WaitGroupGone(t, pgid, 10*time.Second) // SIGKILL was sent; its delivery takes a moment
		})
	}
}

// TestCommandStopLetsATrapFinish: a command that handles SIGTERM ends on
// its own terms within the grace; its status is its own.
func TestCommandStopLetsATrapFinish(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			s := newSink()
			inv := invocation(s)
			inv.KillGrace = time.Minute // SIGKILL would fail the test by its status, not by time
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			c := m.command(Command{Argv: []string{"/bin/sh", "-c", `trap 'echo stopping; exit 7' TERM; echo started; while :; do sleep 0.05; done`}})
			done := make(chan error, 1)
			var res Result
			go func() {
				var err error
				res, err = c.Run(ctx, inv)
				done <- err
			}()
			<-s.first
			cancel()
			err := <-done
			if res.Status != "exit 7" || !errors.Is(err, context.Canceled) || !strings.Contains(res.Tail, "stopping\n") {
				t.Fatalf("status %q, tail %q, error %v; want the trap's exit 7 and the cancel", res.Status, res.Tail, err)
			}
		})
	}
}

// TestCommandLeftoversDieWithIt: a background process the command leaves
// behind is killed when the command exits.
func TestCommandLeftoversDieWithIt(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			s := newSink()
			c := m.command(Command{Argv: []string{"/bin/sh", "-c", `sleep 30 > /dev/null 2>&1 & echo $!`}})
			res, err := c.Run(context.Background(), invocation(s))
			if err != nil || res.Status != "exit 0" {
				t.Fatalf("%+v, %v", res, err)
			}
			pid, err := strconv.Atoi(strings.TrimSpace(res.Tail))
			if err != nil {
				t.Fatal(err)
			}
			proctest.WaitGone(t, pid, 10*time.Second) // SIGKILL was sent; its delivery takes a moment
		})
	}
}

// TestKill9OfTheDaemonKillsTheGroup: a helper process stands in for the
// daemon and runs sh -c 'sleep 30 & echo $$; wait' (sh does not exec sleep);
// kill -9 of the helper must leave nothing of the command's group with the
// supervisor. Without it (direct), the parent-death signal kills sh only
// and sleep lives on: the check sees the difference.
func TestKill9OfTheDaemonKillsTheGroup(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			helper := exec.Command(os.Args[0], "-test.run=^$")
			helper.Env = append(os.Environ(), helperEnv+"="+m.name)
			stdout, err := helper.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			helper.Stderr = os.Stderr
			if err := helper.Start(); err != nil {
				t.Fatal(err)
			}
			line, err := bufio.NewReader(stdout).ReadString('\n')
			if err != nil {
				t.Fatalf("the helper printed no group id: %v", err)
			}
			pgid, err := strconv.Atoi(strings.TrimSpace(line))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = syscall.Kill(-pgid, syscall.SIGKILL) })
			if len(proctest.Group(pgid)) < 2 {
				t.Fatalf("group %d: %v, want sh and sleep", pgid, proctest.Group(pgid))
			}
			if err := helper.Process.Signal(syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			_ = helper.Wait()
			if m.supervised {
				proctest.WaitGroupGone(t, pgid, 10*time.Second)
				return
			}
			// Direct: sh (the group's leader, pid pgid) dies of the
			// parent-death signal; its sleep survives.
			proctest.WaitGone(t, pgid, 10*time.Second)
			if left := proctest.Group(pgid); len(left) != 1 {
				t.Fatalf("without a supervisor, group %d has %v left; want the sleep alone", pgid, left)
			}
		})
	}
}

// TestCommandOutputLimits: long lines are cut, the run's output is passed
// on up to MaxRunOutput and the cut said once, and the tail is the real end.
func TestCommandOutputLimits(t *testing.T) {
	s := newSink()
	script := `head -c 5000 /dev/zero | tr '\0' x; echo; yes "$(head -c 4000 /dev/zero | tr '\0' y)" | head -n 300; echo the-end`
	res, err := modes[0].command(Command{Argv: []string{"/bin/sh", "-c", script}}).Run(context.Background(), invocation(s))
	if err != nil {
		t.Fatal(err)
	}
	lines := s.all()
	first := strings.TrimPrefix(lines[0], "stdout: ")
	if len(first) > MaxLine || !strings.HasSuffix(first, cutMark) || strings.Trim(strings.TrimSuffix(first, cutMark), "x") != "" {
		t.Fatalf("first line: %d bytes ending %q; want x's cut at %d bytes", len(first), first[max(0, len(first)-20):], MaxLine)
	}
	passed, notices := 0, 0
	for _, l := range lines {
		l = strings.TrimPrefix(l, "stdout: ")
		if l == cutNotice {
			notices++
			continue
		}
		passed += len(l)
	}
	if notices != 1 || passed > MaxRunOutput || passed < MaxRunOutput-MaxLine {
		t.Fatalf("%d lines, %d bytes passed, %d cut notices; want about %d bytes and one notice", len(lines), passed, notices, MaxRunOutput)
	}
	if len(res.Tail) != TailBytes || !strings.HasSuffix(res.Tail, "y\nthe-end\n") {
		t.Fatalf("tail: %d bytes ending %q", len(res.Tail), res.Tail[max(0, len(res.Tail)-20):])
	}
}
