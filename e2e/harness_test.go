package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"maps"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"go-leader-election/internal/pgtest"
)

var binary string // built once by TestMain

func TestMain(m *testing.M) {
	flag.Parse()
	if testing.Short() {
		os.Exit(m.Run()) // every test here skips itself
	}
	dir, err := os.MkdirTemp("", "gle-e2e")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "go-leader-election")
	build := exec.Command("go", "build", "-o", binary, "..")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// event is one JSON log line of a daemon, tagged with the process it came from.
type event struct {
	Message string    `json:"message"`
	Job     string    `json:"job"`
	Node    string    `json:"node"`
	Tick    time.Time `json:"tick"`
	Term    int64     `json:"term"`
	Leader  string    `json:"leader"`
	Reason  string    `json:"reason"`
	Port    int       `json:"port"`
	Time    time.Time `json:"time"`
	Error   string    `json:"error"`
	Action  string    `json:"action"` // of an Action event
	Remote  string    `json:"remote"`
	// FirstTick is a "Scheduled" event's, LateBy a "Catching up" event's,
	// To a "Released" or "Handing over" event's successor.
	FirstTick time.Time `json:"first_tick"`
	LateBy    string    `json:"late_by"`
	To        string    `json:"to"`
	Stream    string    `json:"stream"`  // of an Output event
	Line      string    `json:"line"`    // of an Output event
	Added     []string  `json:"added"`   // of Jobs reloaded
	Removed   []string  `json:"removed"` // of Jobs reloaded
	Changed   []string  `json:"changed"` // of Jobs reloaded
	Errors    []string  `json:"errors"`  // of Jobs file rejected
	Instance  int       `json:"-"`
}

// proc is one daemon process.
type proc struct {
	instance int
	node     string
	extra    []string // environment beyond the cluster's
	cmd      *exec.Cmd
	port     chan int
	exited   chan struct{}
	mu       sync.Mutex
	endedAt  time.Time // when it was killed or exited
	stopped  bool      // SIGSTOPped now
}

type cluster struct {
	t       *testing.T
	env     []string
	emu     *exec.Cmd
	emuHost string
	// storeEnv is the daemons' store variables; pg is the PostgreSQL
	// cluster of a cluster on PostgreSQL (newPostgresCluster), else nil.
	storeEnv []string
	pg       *pgtest.Cluster

	mu     sync.Mutex
	events []event
	procs  []*proc
	faults []fault
	logs   strings.Builder
}

// fault is something the harness did, for the table.
type fault struct {
	kind string
	at   time.Time // when it was done
	end  time.Time // when it was undone (SIGCONT), if it was
	job  string    // the job whose leader it hit, if any
}

func newCluster(t *testing.T, env ...string) *cluster {
	c := &cluster{t: t, env: env}
	c.startEmulator()
	t.Cleanup(c.close)
	return c
}

// newPostgresCluster is newCluster on a PostgreSQL cluster of its own
// (fresh: the daemons create the tables), which signalStore pauses.
func newPostgresCluster(t *testing.T, env ...string) *cluster {
	c := &cluster{t: t, env: env, pg: pgtest.Start(t)}
	c.storeEnv = []string{"DATABASE_URL=" + c.pg.URL}
	t.Cleanup(c.close)
	return c
}

var hostLine = regexp.MustCompile(`export DATASTORE_EMULATOR_HOST=(\S+)`)

func (c *cluster) startEmulator() {
	c.emu = exec.Command(binary, "emulator", "--host-port=127.0.0.1:0", "--project=e2e")
	out, err := c.emu.StdoutPipe()
	if err != nil {
		c.t.Fatal(err)
	}
	c.emu.Stderr = io.Discard
	if err := c.emu.Start(); err != nil {
		c.t.Fatal(err)
	}
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		if m := hostLine.FindStringSubmatch(sc.Text()); m != nil {
			c.emuHost = m[1]
			break
		}
	}
	if c.emuHost == "" {
		c.t.Fatal("the emulator printed no DATASTORE_EMULATOR_HOST line")
	}
	c.storeEnv = []string{"DATASTORE_EMULATOR_HOST=" + c.emuHost, "DATASTORE_PROJECT_ID=e2e"}
	go func() { _, _ = io.Copy(io.Discard, out) }()
}

// start launches a daemon named node, with extra environment.
func (c *cluster) start(node string, extra ...string) *proc {
	c.mu.Lock()
	p := &proc{instance: len(c.procs), node: node, extra: extra, port: make(chan int, 1), exited: make(chan struct{})}
	c.procs = append(c.procs, p)
	c.mu.Unlock()
	p.cmd = exec.Command(binary)
	env := append([]string{"PATH=" + os.Getenv("PATH")}, c.storeEnv...)
	env = append(env, "NODE_NAME="+node, "APP_PORT=0", "LOG_FORMAT=json",
		"GO_PREACHER_SCHEDULE=@every 1s", "SCALA_PREACHER_SCHEDULE=@every 1s",
		"PREACHER_TIMES=2", "PREACHER_PAUSE=200ms")
	p.cmd.Env = append(append(env, c.env...), extra...)
	out, err := p.cmd.StdoutPipe()
	if err != nil {
		c.t.Fatal(err)
	}
	p.cmd.Stderr = p.cmd.Stdout
	if err := p.cmd.Start(); err != nil {
		c.t.Fatal(err)
	}
	go c.read(p, out)
	return p
}

// restart starts a new process like p: same node name and environment.
func (c *cluster) restart(p *proc) *proc { return c.start(p.node, p.extra...) }

// signalStore sends sig to the emulator, or to every PostgreSQL process.
func (c *cluster) signalStore(sig syscall.Signal, kind string) {
	switch {
	case c.pg != nil:
		c.pg.Signal(c.t, sig)
	default:
		if err := c.emu.Process.Signal(sig); err != nil {
			c.t.Fatalf("signal %v to the emulator: %v", sig, err)
		}
	}
	if kind != "" {
		c.mu.Lock()
		c.faults = append(c.faults, fault{kind: kind, at: time.Now()})
		c.mu.Unlock()
	}
}

func (c *cluster) read(p *proc, out io.Reader) {
	defer func() {
		_ = p.cmd.Wait()
		p.mu.Lock()
		if p.endedAt.IsZero() {
			p.endedAt = time.Now()
		}
		p.mu.Unlock()
		close(p.exited)
	}()
	sc := bufio.NewScanner(out)
	sc.Buffer(make([]byte, 1<<16), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		var ev event
		if !strings.HasPrefix(line, "{") || json.Unmarshal([]byte(line), &ev) != nil {
			continue // job output
		}
		ev.Instance = p.instance
		if ev.Port != 0 {
			p.port <- ev.Port
		}
		c.mu.Lock()
		c.events = append(c.events, ev)
		fmt.Fprintf(&c.logs, "#%d %s\n", p.instance, line)
		c.mu.Unlock()
	}
}

// signal sends sig to p and records the fault.
func (c *cluster) signal(p *proc, sig syscall.Signal, kind, job string) {
	now := time.Now()
	if err := p.cmd.Process.Signal(sig); err != nil {
		c.t.Fatalf("signal %v to %s: %v", sig, p.node, err)
	}
	p.mu.Lock()
	switch sig {
	case syscall.SIGKILL:
		p.endedAt = now
	case syscall.SIGSTOP:
		p.stopped = true
	case syscall.SIGCONT:
		p.stopped = false
	}
	p.mu.Unlock()
	if kind != "" {
		c.mu.Lock()
		c.faults = append(c.faults, fault{kind: kind, at: now, job: job})
		c.mu.Unlock()
	}
}

// waitBetweenRuns waits, up to 5 s, until p has no run under way (its
// latest Running of each job is followed by a Finished).
func (c *cluster) waitBetweenRuns(p *proc) {
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		evs, _, _ := c.snapshot()
		running := map[string]bool{}
		for _, ev := range evs {
			if ev.Instance == p.instance && (ev.Message == "Running" || ev.Message == "Finished") {
				running[ev.Job] = ev.Message == "Running"
			}
		}
		if !slices.Contains(slices.Collect(maps.Values(running)), true) {
			return
		}
	}
}

// undo marks the end of the latest fault (a SIGCONT).
func (c *cluster) undo() {
	c.mu.Lock()
	c.faults[len(c.faults)-1].end = time.Now()
	c.mu.Unlock()
}

// waitExit waits for p to exit and reports how long it took.
func (p *proc) waitExit(t *testing.T, limit time.Duration) time.Duration {
	start := time.Now()
	select {
	case <-p.exited:
		return time.Since(start)
	case <-time.After(limit):
		t.Fatalf("%s did not exit within %s", p.node, limit)
		return 0
	}
}

// waitEvent waits until an event after since satisfies ok.
func (c *cluster) waitEvent(what string, since time.Time, limit time.Duration, ok func(event) bool) event {
	c.t.Helper()
	deadline := time.Now().Add(limit)
	for i := 0; ; i++ {
		c.mu.Lock()
		for _, ev := range c.events {
			if !ev.Time.Before(since) && ok(ev) {
				c.mu.Unlock()
				return ev
			}
		}
		c.mu.Unlock()
		if time.Now().After(deadline) {
			c.t.Fatalf("no %s within %s", what, limit)
		}
		time.Sleep(20 * time.Millisecond) // polling another process's output
	}
}

// leader returns the process that ran job's latest run.
func (c *cluster) leader(job string) *proc {
	ev := c.waitEvent("Finished of "+job, time.Now(), 5*time.Second, func(ev event) bool {
		return ev.Message == "Finished" && ev.Job == job
	})
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.procs[ev.Instance]
}

func (c *cluster) snapshot() ([]event, []fault, []*proc) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]event(nil), c.events...), append([]fault(nil), c.faults...), append([]*proc(nil), c.procs...)
}

// stopAll sends SIGTERM to every live daemon and waits for them.
func (c *cluster) stopAll() {
	_, _, procs := c.snapshot()
	for _, p := range procs {
		select {
		case <-p.exited:
			continue
		default:
		}
		p.mu.Lock()
		stopped := p.stopped
		p.mu.Unlock()
		if stopped {
			_ = p.cmd.Process.Signal(syscall.SIGCONT)
		}
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
	}
	for _, p := range procs {
		p.waitExit(c.t, 40*time.Second)
	}
}

func (c *cluster) close() {
	_, _, procs := c.snapshot()
	for _, p := range procs {
		_ = p.cmd.Process.Kill()
	}
	if c.emu != nil {
		_ = c.emu.Process.Signal(syscall.SIGCONT)
		_ = c.emu.Process.Kill()
		_ = c.emu.Wait()
	}
	if path := os.Getenv("E2E_LOGS"); path != "" {
		c.mu.Lock()
		_ = os.WriteFile(path, []byte(c.logs.String()), 0o644)
		c.mu.Unlock()
	}
	if c.t.Failed() {
		c.mu.Lock()
		c.t.Logf("daemon logs:\n%s", c.logs.String())
		c.mu.Unlock()
	}
}

// jobsView fetches a node's /jobs.
func jobsView(ctx context.Context, port int) (map[string]string, error) {
	req, _ := http.NewRequestWithContext(ctx, "GET", fmt.Sprintf("http://127.0.0.1:%d/jobs", port), nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var body struct {
		Jobs []struct {
			Job    string `json:"job"`
			Leader string `json:"leader"`
		} `json:"jobs"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, j := range body.Jobs {
		out[j.Job] = j.Leader
	}
	return out, nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
