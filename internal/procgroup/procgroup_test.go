//go:build linux

package procgroup

import (
	"errors"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"

	"go-leader-election/internal/procgroup/proctest"
)

func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == SupervisorArg {
		os.Exit(SupervisorMain(os.Args[2:]))
	}
	os.Exit(m.Run())
}

// quickEnv spares the supervisor (this test binary, maybe built with -race)
// the race detector's 1s sleep at exit.
var quickEnv = []string{"GORACE=atexit_sleep_ms=0"}

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

func TestSupervised(t *testing.T) {
	p, err := Supervise("/proc/self/exe", Spec{Argv: []string{"/bin/sh", "-c", "exec sleep 30"}, Env: quickEnv})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Signal(syscall.SIGHUP); err == nil {
		t.Fatal("a supervised command took SIGHUP; only TERM and KILL go through the pipe")
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

func TestSupervisedNotStarted(t *testing.T) {
	for _, c := range []struct {
		program string
		spec    Spec
		want    string
	}{
		{"/proc/self/exe", Spec{Argv: []string{"no-such-program-5c1"}, Env: quickEnv}, `exec: "no-such-program-5c1": executable file not found in $PATH`},
		{"/proc/self/exe", Spec{Argv: []string{"/bin/true"}, Env: quickEnv, Dir: "/no/such/dir"}, "chdir /no/such/dir"},
		{"/proc/self/exe", Spec{}, "an empty command"},
		{"/no/such/supervisor", Spec{Argv: []string{"/bin/true"}}, "/no/such/supervisor"},
		{"/bin/true", Spec{Argv: []string{"/bin/true"}}, "the supervisor ended before starting the command"},
	} {
		_, err := Supervise(c.program, c.spec)
		if !errors.Is(err, ErrNotStarted) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s %q: %v; want not started, %q", c.program, c.spec.Argv, err, c.want)
		}
	}
}
