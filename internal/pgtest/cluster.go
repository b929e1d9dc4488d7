package pgtest

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// Cluster is a private PostgreSQL cluster, started by .ci/postgres.sh for
// one test, so that the test may pause or restart it without disturbing
// others.
type Cluster struct {
	// URL connects as the superuser, over TCP.
	URL string
	// Dir is the cluster's directory (data, socket, log).
	Dir    string
	script string
}

var exportLine = regexp.MustCompile(`^export (\w+)='([^']*)'$`)

// Start starts a cluster, stopped and removed when t ends. Like URL, it
// skips t without POSTGRES_TEST_URL (and fails with POSTGRES_REQUIRED=1):
// the variable says that PostgreSQL is installed where the script finds it.
func Start(t testing.TB) *Cluster {
	t.Helper()
	URL(t)
	c := &Cluster{script: script(t)}
	out, err := exec.Command(c.script, "start").Output()
	if err != nil {
		t.Fatalf("%s start: %v\n%s", c.script, err, stderr(err))
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if m := exportLine.FindStringSubmatch(line); m != nil {
			switch m[1] {
			case URLVar:
				c.URL = m[2]
			case "POSTGRES_TEST_DIR":
				c.Dir = m[2]
			}
		}
	}
	if c.URL == "" || c.Dir == "" {
		t.Fatalf("%s start printed no %s or POSTGRES_TEST_DIR:\n%s", c.script, URLVar, out)
	}
	t.Cleanup(func() {
		c.Resume(t)
		if t.Failed() {
			log, _ := exec.Command(c.script, "log", c.Dir).Output()
			t.Logf("PostgreSQL's log:\n%s", log)
		}
		_ = exec.Command(c.script, "stop", c.Dir).Run()
	})
	return c
}

// script finds .ci/postgres.sh in the module's root, above the test's
// directory.
func script(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, ".ci", "postgres.sh")
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("pgtest: no go.mod above the test's directory")
		}
		dir = parent
	}
}

func stderr(err error) string {
	if ee, ok := err.(*exec.ExitError); ok {
		return string(ee.Stderr)
	}
	return ""
}

// Restart stops the server at once (an immediate shutdown: as a crash, no
// session ends cleanly) and starts it again on the same port.
func (c *Cluster) Restart(t testing.TB) {
	t.Helper()
	if out, err := exec.Command(c.script, "restart", c.Dir).CombinedOutput(); err != nil {
		t.Fatalf("restart PostgreSQL: %v\n%s", err, out)
	}
}

// Pause stops (SIGSTOP) the postmaster and every server process: the
// server hangs, connections stay open.
func (c *Cluster) Pause(t testing.TB) { c.Signal(t, syscall.SIGSTOP) }

// Resume continues (SIGCONT) the processes Pause stopped.
func (c *Cluster) Resume(t testing.TB) { c.Signal(t, syscall.SIGCONT) }

// Signal sends sig to the postmaster, then to its children.
func (c *Cluster) Signal(t testing.TB, sig syscall.Signal) {
	t.Helper()
	pid := c.PostmasterPID()
	if pid == 0 {
		return // not running
	}
	pids := append([]int{pid}, children(pid)...)
	for _, p := range pids {
		if err := syscall.Kill(p, sig); err != nil && err != syscall.ESRCH {
			t.Fatalf("signal %v to %d: %v", sig, p, err)
		}
	}
}

// children returns the processes whose parent is pid, from /proc.
func children(pid int) []int {
	entries, _ := os.ReadDir("/proc")
	var out []int
	for _, e := range entries {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...: comm may hold spaces, so from the last ')'.
		fields := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:]))
		if len(fields) > 1 && fields[1] == fmt.Sprint(pid) {
			out = append(out, p)
		}
	}
	return out
}

// PostmasterPID returns the server's main process, for tests that measure
// its CPU; 0 if it is not running.
func (c *Cluster) PostmasterPID() int {
	b, err := os.ReadFile(filepath.Join(c.Dir, "data", "postmaster.pid"))
	if err != nil {
		return 0
	}
	first, _, _ := bytes.Cut(b, []byte("\n"))
	pid, _ := strconv.Atoi(string(first))
	return pid
}
