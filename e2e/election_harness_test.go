package e2e

// The leader-election service's harness: serve, lock and leader processes
// of the built binary, and the commands lock runs, which log their start,
// every 50ms that they are alive, and their stop.

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// leProc is one process of the binary, its output kept line by line.
type leProc struct {
	t      *testing.T
	name   string
	cmd    *exec.Cmd
	exited chan struct{}

	mu    sync.Mutex
	lines []leLine
	news  chan struct{} // a line came (cap 1)
}

type leLine struct {
	at     time.Time
	stderr bool
	text   string
}

// startLE starts the binary with args and env (PATH is added), until t ends.
func startLE(t *testing.T, name string, env []string, args ...string) *leProc {
	t.Helper()
	return startExe(t, name, binary, env, args...)
}

// startExe is startLE of another executable.
func startExe(t *testing.T, name, exe string, env []string, args ...string) *leProc {
	t.Helper()
	p := &leProc{t: t, name: name, exited: make(chan struct{}), news: make(chan struct{}, 1)}
	p.cmd = exec.Command(exe, args...)
	p.cmd.Env = append([]string{"PATH=" + os.Getenv("PATH")}, env...)
	stdout, err := p.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr, err := p.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Go(func() { p.read(stdout, false) })
	wg.Go(func() { p.read(stderr, true) })
	go func() {
		wg.Wait()
		_ = p.cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() {
		_ = p.cmd.Process.Kill()
		<-p.exited
		if t.Failed() {
			t.Logf("%s output:\n%s", p.name, p.output())
		}
	})
	return p
}

func (p *leProc) read(r io.Reader, stderr bool) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		p.mu.Lock()
		p.lines = append(p.lines, leLine{at: time.Now(), stderr: stderr, text: sc.Text()})
		p.mu.Unlock()
		select {
		case p.news <- struct{}{}:
		default:
		}
	}
}

func (p *leProc) output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var b strings.Builder
	for _, l := range p.lines {
		fmt.Fprintf(&b, "%s %s\n", l.at.Format("15:04:05.000"), l.text)
	}
	return b.String()
}

// waitLine waits until a line satisfies ok, and returns it.
func (p *leProc) waitLine(what string, limit time.Duration, ok func(string) bool) leLine {
	p.t.Helper()
	deadline := time.After(limit)
	for seen := 0; ; {
		p.mu.Lock()
		lines := p.lines[seen:]
		seen = len(p.lines)
		p.mu.Unlock()
		for _, l := range lines {
			if ok(l.text) {
				return l
			}
		}
		select {
		case <-p.news:
		case <-p.exited:
			// One more pass: lines may have come with the exit.
			p.mu.Lock()
			rest := p.lines[seen:]
			p.mu.Unlock()
			for _, l := range rest {
				if ok(l.text) {
					return l
				}
			}
			p.t.Fatalf("%s exited before %s", p.name, what)
		case <-deadline:
			p.t.Fatalf("%s: no %s within %s", p.name, what, limit)
		}
	}
}

// waitExit waits for the process to exit and returns its status.
func (p *leProc) waitExit(limit time.Duration) int {
	p.t.Helper()
	select {
	case <-p.exited:
		return p.cmd.ProcessState.ExitCode()
	case <-time.After(limit):
		p.t.Fatalf("%s did not exit within %s", p.name, limit)
		return 0
	}
}

func (p *leProc) signal(sig syscall.Signal) time.Time {
	p.t.Helper()
	at := time.Now()
	if err := p.cmd.Process.Signal(sig); err != nil {
		p.t.Fatalf("signal %v to %s: %v", sig, p.name, err)
	}
	return at
}

// startServe starts "serve" with env and returns it and its gRPC address.
func startServe(t *testing.T, name string, env ...string) (*leProc, string) {
	t.Helper()
	p := startLE(t, name, append([]string{"GRPC_PORT=0", "APP_PORT=0", "LOG_FORMAT=json", "NODE_NAME=" + name}, env...), "serve")
	l := p.waitLine("Listening event", 10*time.Second, func(s string) bool { return strings.Contains(s, `"grpc_port"`) })
	var ev struct {
		Port int `json:"grpc_port"`
	}
	if err := json.Unmarshal([]byte(l.text), &ev); err != nil || ev.Port == 0 {
		t.Fatalf("%s: bad Listening event %q: %v", name, l.text, err)
	}
	return p, fmt.Sprintf("127.0.0.1:%d", ev.Port)
}

// startEmulatorLE starts the binary's Datastore emulator and returns the
// environment that points serve at it.
func startEmulatorLE(t *testing.T) []string {
	t.Helper()
	p := startLE(t, "emulator", nil, "emulator", "--host-port=127.0.0.1:0", "--project=e2e")
	l := p.waitLine("emulator host", 10*time.Second, func(s string) bool { return hostLine.MatchString(s) })
	return []string{"DATASTORE_EMULATOR_HOST=" + hostLine.FindStringSubmatch(l.text)[1], "DATASTORE_PROJECT_ID=e2e"}
}

// leaderScript is the command lock runs: it logs "start NODE TERM PID NANOS
// [SLOT]", then "alive NODE NANOS" every 50ms, and "stop NODE NANOS" on
// SIGTERM (trapped before the start is logged, so that a SIGTERM sent on
// seeing the start is always logged).
const leaderScript = `trap 'echo "stop $LEADER_NODE $(date +%s%N)"; exit 0' TERM
echo "start $LEADER_NODE $LEADER_TERM $$ $(date +%s%N) $LEADER_SLOT"
while :; do echo "alive $LEADER_NODE $(date +%s%N)"; sleep 0.05; done`

// startLock starts "lock" on servers for election, running leaderScript;
// extra flags (--limit N) go before the election.
func startLock(t *testing.T, node string, servers []string, token, election string, extra ...string) *leProc {
	t.Helper()
	args := append([]string{"lock", "--ttl", "2s", "--node", node}, extra...)
	for _, s := range servers {
		args = append(args, "--server", s)
	}
	if token != "" {
		args = append(args, "--token", token)
	}
	args = append(args, election, "--", "sh", "-c", leaderScript)
	return startLE(t, "lock "+node, nil, args...)
}

// cmdRun is one command's life, from its own log lines.
type cmdRun struct {
	node        string
	term        int64
	pid         int
	start, last time.Time // its start, and its latest alive or stop line
	stopped     bool      // it logged its stop (SIGTERM)
	slot        string    // its LEADER_SLOT, under lock --limit
}

// cmdRuns reads the commands' lives from lock processes' stdout.
func cmdRuns(t *testing.T, procs ...*leProc) []cmdRun {
	t.Helper()
	var out []cmdRun
	for _, p := range procs {
		p.mu.Lock()
		var r *cmdRun
		for _, l := range p.lines {
			f := strings.Fields(l.text)
			if l.stderr || len(f) < 3 {
				continue
			}
			at := func(s string) time.Time {
				n, err := strconv.ParseInt(s, 10, 64)
				if err != nil {
					t.Errorf("%s: bad time in %q", p.name, l.text)
				}
				return time.Unix(0, n)
			}
			switch f[0] {
			case "start":
				if len(f) >= 5 {
					out = append(out, cmdRun{node: f[1]})
					r = &out[len(out)-1]
					r.term, _ = strconv.ParseInt(f[2], 10, 64)
					r.pid, _ = strconv.Atoi(f[3])
					r.start, r.last = at(f[4]), at(f[4])
					if len(f) > 5 {
						r.slot = f[5]
					}
				}
			case "alive", "stop":
				if r != nil {
					r.last = at(f[2])
					r.stopped = r.stopped || f[0] == "stop"
				}
			}
		}
		p.mu.Unlock()
	}
	return out
}

// checkCommandsNoOverlap fails if two commands ran at once.
func checkCommandsNoOverlap(t *testing.T, rs []cmdRun) {
	t.Helper()
	for i, a := range rs {
		for _, b := range rs[i+1:] {
			if a.start.Before(b.last) && b.start.Before(a.last) {
				t.Errorf("two commands ran at once: %s (term %d) %s-%s and %s (term %d) %s-%s",
					a.node, a.term, a.start.Format("15:04:05.000"), a.last.Format("15:04:05.000"),
					b.node, b.term, b.start.Format("15:04:05.000"), b.last.Format("15:04:05.000"))
			}
		}
	}
}

// waitGone waits until pid has exited (a zombie counts: it runs nothing).
func waitGone(t *testing.T, pid int, limit time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	for {
		if err := syscall.Kill(pid, 0); err == syscall.ESRCH {
			return time.Since(start)
		}
		if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid)); err == nil {
			if i := strings.LastIndexByte(string(b), ')'); i > 0 && strings.HasPrefix(string(b[i+1:]), " Z") {
				return time.Since(start)
			}
		}
		if time.Since(start) > limit {
			t.Fatalf("process %d still runs %s later", pid, limit)
		}
		time.Sleep(10 * time.Millisecond) // polling another process's state
	}
}
