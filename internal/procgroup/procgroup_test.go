//go:build linux

package procgroup

import (
	"errors"
	"io"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"go-leader-election/internal/procgroup/proctest"
)

func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == SupervisorArg {
		os.Exit(SupervisorMain(os.Args[2:]))
	}
	// Spares each supervisor (this test binary, maybe built with -race) the
	// race detector's 1s sleep at exit.
	os.Setenv("GORACE", "atexit_sleep_ms=0")
	os.Exit(m.Run())
}

func TestStatus(t *testing.T) {
	for _, c := range []struct {
		s     Status
		str   string
		shell int
	}{
		{Status{Code: 0}, "exit 0", 0},
		{Status{Code: 3}, "exit 3", 3},
		{Status{Code: -1, Signal: syscall.SIGTERM}, "signal: terminated", 143},
		{Status{Code: -1, Signal: syscall.SIGKILL}, "signal: killed", 137},
	} {
		if c.s.String() != c.str || c.s.ShellCode() != c.shell {
			t.Errorf("%+v: %q, %d; want %q, %d", c.s, c.s.String(), c.s.ShellCode(), c.str, c.shell)
		}
		if back, err := decodeStatus(c.s.encode() + "\n"); err != nil || back != c.s {
			t.Errorf("%+v through the pipe: %+v, %v", c.s, back, err)
		}
	}
	for _, bad := range []string{"", "exit", "exit -1", "signal 0", "started 12"} {
		if _, err := decodeStatus(bad); err == nil {
			t.Errorf("decodeStatus(%q) accepted", bad)
		}
	}
}

// TestGroupSignalAfterExit: once reaped, a group is not signalled (its id
// may belong to another group by then).
func TestGroupSignalAfterExit(t *testing.T) {
	g, err := Start(exec.Command("/bin/sh", "-c", "exit 4"), Options{KillLeftovers: true})
	if err != nil {
		t.Fatal(err)
	}
	if st, err := g.Wait(); err != nil || st != (Status{Code: 4}) {
		t.Fatalf("%+v, %v", st, err)
	}
	if err := g.Signal(syscall.SIGTERM); !errors.Is(err, os.ErrProcessDone) {
		t.Fatalf("Signal after exit: %v", err)
	}
}

// TestGroupWithoutKillLeftovers: lock's way: a background process the
// command leaves behind lives on (lock documents it).
func TestGroupWithoutKillLeftovers(t *testing.T) {
	cmd := exec.Command("/bin/sh", "-c", "sleep 30 > /dev/null 2>&1 & echo $!")
	var out strings.Builder
	cmd.Stdout = &out
	g, err := Start(cmd, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := g.Wait(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = syscall.Kill(-g.Pid(), syscall.SIGKILL) })
	if left := proctest.Group(g.Pid()); len(left) != 1 {
		t.Fatalf("group %d: %v, want the sleep %s", g.Pid(), left, out.String())
	}
}

// supervisor is a supervisor for the test: this test binary.
func supervisor(t *testing.T) *Supervisor {
	t.Helper()
	s, err := NewSupervisor("/proc/self/exe")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func TestSupervised(t *testing.T) {
	s := supervisor(t)
	p, err := s.Start(Spec{Argv: []string{"sleep", "30"}, Env: []string{"PATH=/usr/bin:/bin"}})
	if err != nil {
		t.Fatal(err)
	}
	if !proctest.Alive(p.Pid()) {
		t.Fatalf("pid %d is not the command", p.Pid())
	}
	if err := p.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if st, err := p.Wait(); err != nil || st != (Status{Code: -1, Signal: syscall.SIGTERM}) {
		t.Fatalf("%+v, %v; want SIGTERM", st, err)
	}
	if err := p.Signal(syscall.SIGKILL); !errors.Is(err, os.ErrProcessDone) {
		t.Fatalf("Signal after exit: %v", err)
	}
}

// TestSupervisorCloseKillsEveryGroup: closing the supervisor, as the
// program's death does, kills every group it runs, background processes
// included.
func TestSupervisorCloseKillsEveryGroup(t *testing.T) {
	s := supervisor(t)
	var pgids []int
	for range 3 {
		p, err := s.Start(Spec{Argv: []string{"/bin/sh", "-c", "sleep 30 & wait"}})
		if err != nil {
			t.Fatal(err)
		}
		pgids = append(pgids, p.Pid())
		t.Cleanup(func() { _ = syscall.Kill(-p.Pid(), syscall.SIGKILL) })
		defer func() {
			if st, err := p.Wait(); err != nil || st != (Status{Code: -1, Signal: syscall.SIGKILL}) {
				t.Errorf("%+v, %v; want SIGKILL", st, err)
			}
		}()
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	for _, pgid := range pgids {
		proctest.WaitGroupGone(t, pgid, 10*time.Second)
	}
	if _, err := s.Start(Spec{Argv: []string{"/bin/true"}}); !errors.Is(err, ErrNotStarted) {
		t.Fatalf("Start after Close: %v", err)
	}
}

// TestSupervisorRestartsAfterDying: a supervisor killed from outside fails
// its runs (their groups are killed) and is started again for the next.
func TestSupervisorRestartsAfterDying(t *testing.T) {
	s := supervisor(t)
	p, err := s.Start(Spec{Argv: []string{"/bin/sh", "-c", "sleep 30 & wait"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = syscall.Kill(-p.Pid(), syscall.SIGKILL) })
	s.mu.Lock()
	proc := s.proc
	s.mu.Unlock()
	if err := proc.Kill(); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Wait(); !errors.Is(err, ErrSupervisorDied) {
		t.Fatalf("%v; want the supervisor's death", err)
	}
	proctest.WaitGroupGone(t, p.Pid(), 10*time.Second)
	q, err := s.Start(Spec{Argv: []string{"/bin/sh", "-c", "exit 5"}})
	if err != nil {
		t.Fatal(err)
	}
	if st, err := q.Wait(); err != nil || st != (Status{Code: 5}) {
		t.Fatalf("after a restart: %+v, %v", st, err)
	}
}

func TestSupervisedNotStarted(t *testing.T) {
	s := supervisor(t)
	for _, c := range []struct {
		spec Spec
		want string
	}{
		{Spec{Argv: []string{"no-such-program-5c1"}, Env: []string{"PATH=/usr/bin:/bin"}}, `exec: "no-such-program-5c1": executable file not found in $PATH`},
		{Spec{Argv: []string{"true"}}, `exec: "true": executable file not found`}, // no PATH in an empty environment
		{Spec{Argv: []string{"/bin/true"}, Dir: "/no/such/dir"}, "dir: stat /no/such/dir: no such file or directory"},
		{Spec{Argv: []string{"/etc/passwd"}}, "permission denied"},
		{Spec{}, "an empty command"},
	} {
		_, err := s.Start(c.spec)
		if !errors.Is(err, ErrNotStarted) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: %v; want not started, %q", c.spec.Argv, err, c.want)
		}
	}
	if _, err := NewSupervisor("/no/such/supervisor"); err == nil || !strings.Contains(err.Error(), "/no/such/supervisor") {
		t.Errorf("NewSupervisor of a missing program: %v", err)
	}
}

func TestLookPath(t *testing.T) {
	env := []string{"PATH=/nonexistent:relative/bin", "PATH=/nonexistent:/bin:/usr/bin"}
	if p, err := LookPath("sh", env); err != nil || (p != "/bin/sh" && p != "/usr/bin/sh") {
		t.Errorf("sh: %q, %v", p, err)
	}
	if p, err := LookPath("./x/y", nil); err != nil || p != "./x/y" {
		t.Errorf("a path: %q, %v", p, err)
	}
	if _, err := LookPath("sh", []string{"PATH=relative:"}); err == nil {
		t.Error("found sh in relative PATH entries")
	}
}

// TestSupervisedBytes: arguments and environment reach the command byte for
// byte, UTF-8 or not; only the given environment does.
func TestSupervisedBytes(t *testing.T) {
	s := supervisor(t)
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	p, err := s.Start(Spec{Argv: []string{"/bin/sh", "-c", `printf '%s|%s|%s' "$1" "$X" "$HOME"`, "sh", "a\xffb"}, Env: []string{"X=\xfe"}, Stdout: w})
	w.Close()
	if err != nil {
		t.Fatal(err)
	}
	out, _ := io.ReadAll(r)
	if _, err := p.Wait(); err != nil || string(out) != "a\xffb|\xfe|" {
		t.Fatalf("%q, %v", out, err)
	}
}
