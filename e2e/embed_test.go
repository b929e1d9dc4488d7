package e2e

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// embedRun is one line the example service prints per run.
type embedRun struct {
	Job  string    `json:"job"`
	Tick time.Time `json:"tick"`
	Node string    `json:"node"`
	Term int64     `json:"term"`
}

// TestEmbedExample runs three copies of examples/embed (a service of its
// own module that imports the scheduler library) on the emulator: every
// tick of each of its jobs runs once, on one copy, terms never go back, and
// each copy serves the scheduler's /jobs under its own /scheduler/ prefix.
func TestEmbedExample(t *testing.T) {
	if testing.Short() {
		t.Skip("real processes for seconds")
	}
	bin := filepath.Join(t.TempDir(), "embed")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Dir = filepath.Join("..", "examples", "embed")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build examples/embed: %v\n%s", err, out)
	}
	c := newCluster(t)
	var mu sync.Mutex
	var runs []embedRun
	var procs []*exec.Cmd
	var ports []int
	for i, node := range []string{"alpha", "bravo", "charlie"} {
		port := freePort(t)
		cmd := exec.Command(bin)
		cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "DATASTORE_EMULATOR_HOST=" + c.emuHost,
			"DATASTORE_PROJECT_ID=e2e", "NODE_NAME=" + node, fmt.Sprintf("PORT=%d", port), "EXAMPLE_FAST=1"}
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = cmd.Process.Kill() })
		procs, ports = append(procs, cmd), append(ports, port)
		go func(i int, out io.Reader) {
			sc := bufio.NewScanner(out)
			for sc.Scan() {
				var r embedRun
				if err := json.Unmarshal(sc.Bytes(), &r); err != nil || r.Job == "" || r.Term < 1 {
					t.Errorf("copy %d printed %q: want a run's JSON line", i, sc.Text())
					continue
				}
				mu.Lock()
				runs = append(runs, r)
				mu.Unlock()
			}
		}(i, out)
	}
	start := time.Now()
	time.Sleep(8 * time.Second) // real processes: let eight ticks pass
	end := time.Now()
	for _, port := range ports {
		if body := get(t, fmt.Sprintf("http://127.0.0.1:%d/scheduler/jobs", port)); !strings.Contains(body, `"job": "send_digest"`) {
			t.Errorf("port %d /scheduler/jobs: %s", port, body)
		}
	}
	for _, p := range procs {
		_ = p.Process.Signal(syscall.SIGTERM)
	}
	for _, p := range procs {
		if err := p.Wait(); err != nil {
			t.Errorf("copy exited: %v, want 0 after SIGTERM", err)
		}
	}

	mu.Lock()
	defer mu.Unlock()
	seen := map[string]map[time.Time]embedRun{}
	lastTerm := map[string]int64{}
	for _, r := range runs {
		if seen[r.Job] == nil {
			seen[r.Job] = map[time.Time]embedRun{}
		}
		if prev, ok := seen[r.Job][r.Tick]; ok {
			t.Errorf("%s tick %s ran twice: on %s and %s", r.Job, r.Tick.Format(time.TimeOnly), prev.Node, r.Node)
		}
		seen[r.Job][r.Tick] = r
		if r.Term < lastTerm[r.Job] {
			t.Errorf("%s: term %d after term %d", r.Job, r.Term, lastTerm[r.Job])
		}
		lastTerm[r.Job] = r.Term
	}
	// Every tick from the first run on, until shortly before the stop, ran.
	for _, job := range []string{"send_digest", "clean_cache"} {
		first := time.Time{}
		for tick := range seen[job] {
			if first.IsZero() || tick.Before(first) {
				first = tick
			}
		}
		if first.IsZero() || first.Sub(start) > 4*time.Second {
			t.Fatalf("%s: first run at tick %s, %s after start", job, first, first.Sub(start))
		}
		for tick := first; tick.Before(end.Add(-time.Second)); tick = tick.Add(time.Second) {
			if _, ok := seen[job][tick]; !ok {
				t.Errorf("%s: tick %s did not run", job, tick.Format(time.TimeOnly))
			}
		}
	}
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

func get(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Errorf("GET %s: %v", url, err)
		return ""
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// TestREADMEEmbedProgram builds the README's "Embed it" program as another
// module would (a replace directive to this checkout), checks it is at most
// 30 lines, runs it, and stops it with SIGINT: it runs its job once per
// tick and exits cleanly.
func TestREADMEEmbedProgram(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a module and runs it for seconds")
	}
	readme, err := os.ReadFile(filepath.Join("..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, section, _ := strings.Cut(string(readme), "\n## Embed it\n")
	_, program, _ := strings.Cut(section, "```go\n")
	program, _, _ = strings.Cut(program, "```")
	if n := strings.Count(program, "\n"); n == 0 || n > 30 {
		t.Fatalf("README's Embed it program has %d lines, want 1 to 30", n)
	}
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	mod := "module example.com/hello\n\ngo 1.26\n\nrequire go-leader-election v0.0.0\n\nreplace go-leader-election => " + root + "\n"
	for name, body := range map[string]string{"go.mod": mod, "main.go": program} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, args := range [][]string{{"mod", "tidy"}, {"build", "-o", "hello", "."}} {
		cmd := exec.Command("go", args...)
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	cmd := exec.Command(filepath.Join(dir, "hello"))
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	sc := bufio.NewScanner(out)
	ticks := map[string]int{}
	for len(ticks) < 3 && sc.Scan() { // @every 2s: three ticks within about 6 s
		var tick string
		var term int
		if _, err := fmt.Sscanf(sc.Text(), "hello, tick %s term %d", &tick, &term); err != nil || term != 1 {
			t.Fatalf("the program printed %q", sc.Text())
		}
		ticks[tick]++
		if ticks[tick] > 1 {
			t.Errorf("tick %s ran twice", tick)
		}
	}
	_ = cmd.Process.Signal(syscall.SIGINT)
	go func() { _, _ = io.Copy(io.Discard, out) }()
	if err := cmd.Wait(); err != nil {
		t.Errorf("after SIGINT: %v, want exit 0", err)
	}
}
