package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"go-leader-election/store"
	"go-leader-election/store/datastore"
	"go-leader-election/store/postgres"
)

// server is the store's server, run apart from the nodes so that its CPU
// and memory are not counted with theirs: the Datastore emulator (a child
// process, -store datastore) or a PostgreSQL cluster of the run's own
// (-store postgres, started with .ci/postgres.sh).
type server interface {
	// name names it in the tables.
	name() string
	// cpu is the CPU it has used so far, user and system.
	cpu() time.Duration
	// rss is its resident memory (for PostgreSQL, the processes' private
	// memory: shared buffers are counted nowhere).
	rss() int64
	// open returns a store client for one node of the run of size jobs.
	open(ctx context.Context, size int, timeout time.Duration) (*nodeStore, error)
	// daemonEnv is the environment that points a daemon at it, in a
	// namespace or schema of its own.
	daemonEnv() []string
	stop() error
}

// nodeStore is one node's store, and the round trips it counts.
type nodeStore struct {
	store.Store
	total    func() int64
	byMethod func() map[string]int64
}

func startServer(ctx context.Context, kind string) (server, error) {
	if kind == "postgres" {
		return startPostgres(ctx)
	}
	c, err := startEmulator(ctx)
	if err != nil {
		return nil, err
	}
	return emulatorServer{c}, nil
}

type emulatorServer struct{ *child }

func (emulatorServer) name() string { return "emulator" }

func (e emulatorServer) cpu() time.Duration {
	d, _ := procCPU(e.pid)
	return d
}

func (e emulatorServer) rss() int64 { return procStatusOrZero(e.pid)["VmRSS"] }

func (e emulatorServer) daemonEnv() []string {
	return []string{"DATASTORE_EMULATOR_HOST=" + e.host, "DATASTORE_PROJECT_ID=" + project,
		fmt.Sprintf("DATASTORE_NAMESPACE=idle-%d", time.Now().Unix())}
}

// open returns a client in the namespace scale-<size>.
func (e emulatorServer) open(ctx context.Context, size int, timeout time.Duration) (*nodeStore, error) {
	st, err := datastore.New(ctx, datastore.Config{
		Project: project, Namespace: fmt.Sprintf("scale-%d", size), Timeout: timeout, EmulatorHost: e.host,
	})
	if err != nil {
		return nil, err
	}
	return &nodeStore{Store: st, total: st.Calls().Total, byMethod: st.Calls().Snapshot}, nil
}

// pgServer is a throwaway PostgreSQL cluster, with fsync on: commits cost
// what they cost on a real server's disk (this machine's).
type pgServer struct {
	script, dir, url string
	pid              int    // the postmaster
	run              string // a suffix of the schemas of this run
}

var exportLine = regexp.MustCompile(`^export (\w+)='([^']*)'$`)

func startPostgres(ctx context.Context) (*pgServer, error) {
	root, err := moduleRoot(ctx)
	if err != nil {
		return nil, err
	}
	s := &pgServer{script: filepath.Join(root, ".ci", "postgres.sh"), run: strconv.FormatInt(time.Now().Unix(), 36)}
	cmd := exec.CommandContext(ctx, s.script, "start")
	cmd.Env = append(os.Environ(), "POSTGRES_OPTIONS=-c fsync=on -c full_page_writes=on")
	var errOut bytes.Buffer
	cmd.Stderr = &errOut
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("%s start: %w: %s", s.script, err, errOut.String())
	}
	for _, line := range strings.Split(string(out), "\n") {
		if m := exportLine.FindStringSubmatch(line); m != nil {
			switch m[1] {
			case "POSTGRES_TEST_URL":
				s.url = m[2]
			case "POSTGRES_TEST_DIR":
				s.dir = m[2]
			}
		}
	}
	pidFile, err := os.ReadFile(filepath.Join(s.dir, "data", "postmaster.pid"))
	if err == nil {
		first, _, _ := bytes.Cut(pidFile, []byte("\n"))
		s.pid, err = strconv.Atoi(string(first))
	}
	if s.url == "" || err != nil {
		_ = s.stop()
		return nil, fmt.Errorf("%s start: no server found (%v) in %q", s.script, err, out)
	}
	return s, nil
}

func (*pgServer) name() string { return "PostgreSQL" }

// cpu is the postmaster's CPU, its children's that have ended (cutime,
// cstime), and that of the children that run.
func (s *pgServer) cpu() time.Duration {
	total := procTreeCPU(s.pid, true)
	for _, c := range childPIDs(s.pid) {
		total += procTreeCPU(c, false)
	}
	return total
}

// rss sums the processes' anonymous resident memory (RssAnon).
func (s *pgServer) rss() int64 {
	total := procStatusOrZero(strconv.Itoa(s.pid))["RssAnon"]
	for _, c := range childPIDs(s.pid) {
		total += procStatusOrZero(strconv.Itoa(c))["RssAnon"]
	}
	return total
}

// open returns a client in the schema scale_<size>_<run>, which the first
// one creates.
func (s *pgServer) open(ctx context.Context, size int, timeout time.Duration) (*nodeStore, error) {
	st, err := postgres.New(ctx, postgres.Config{URL: s.url, Schema: fmt.Sprintf("scale_%d_%s", size, s.run), Timeout: timeout})
	if err != nil {
		return nil, err
	}
	return &nodeStore{Store: st, total: st.Calls().Total, byMethod: st.Calls().Snapshot}, nil
}

func (s *pgServer) daemonEnv() []string {
	return []string{"DATABASE_URL=" + s.url, "POSTGRES_SCHEMA=idle_" + s.run}
}

func (s *pgServer) stop() error {
	if s.dir == "" {
		return nil
	}
	if out, err := exec.Command(s.script, "stop", s.dir).CombinedOutput(); err != nil {
		return fmt.Errorf("%s stop: %w: %s", s.script, err, out)
	}
	return nil
}

// procTreeCPU is pid's utime+stime, plus, withChildren, the cutime+cstime
// of its children that have ended, from /proc/<pid>/stat.
func procTreeCPU(pid int, withChildren bool) time.Duration {
	f, err := statFields(strconv.Itoa(pid))
	if err != nil {
		return 0
	}
	var ticks int64
	fields := []int{11, 12} // utime, stime (fields 14 and 15)
	if withChildren {
		fields = append(fields, 13, 14) // cutime, cstime
	}
	for _, i := range fields {
		n, _ := strconv.ParseInt(f[i], 10, 64)
		ticks += n
	}
	return time.Duration(ticks) * time.Second / clockTicks
}

// statFields returns the fields of /proc/<pid>/stat from the third (state)
// on.
func statFields(pid string) ([]string, error) {
	b, err := os.ReadFile("/proc/" + pid + "/stat")
	if err != nil {
		return nil, err
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return nil, fmt.Errorf("/proc/%s/stat: no command name", pid)
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 15 {
		return nil, fmt.Errorf("/proc/%s/stat: %d fields", pid, len(f)+2)
	}
	return f, nil
}

// childPIDs returns the processes whose parent is pid.
func childPIDs(pid int) []int {
	entries, _ := os.ReadDir("/proc")
	var out []int
	want := strconv.Itoa(pid)
	for _, e := range entries {
		if f, err := statFields(e.Name()); err == nil && f[1] == want {
			if p, err := strconv.Atoi(e.Name()); err == nil {
				out = append(out, p)
			}
		}
	}
	return out
}

// moduleRoot is the directory of the go-leader-election module's go.mod.
func moduleRoot(ctx context.Context) (string, error) {
	gomod, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	mod := strings.TrimSpace(string(gomod))
	if mod == "" || mod == os.DevNull {
		return "", errors.New("go env GOMOD: not in a module; run from the go-leader-election module")
	}
	return filepath.Dir(mod), nil
}
