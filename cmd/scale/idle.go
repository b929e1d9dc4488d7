package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// idleSettle is how long the daemon starts up before the measurement.
const idleSettle = 5 * time.Second

// idleResult is one idle daemon's numbers.
type idleResult struct {
	store    string // as the daemon logged it
	load1    string
	window   time.Duration
	cpu      time.Duration
	emuCPU   time.Duration // the emulator child's, over the window; -1 if none
	rss, hwm int64
	switches float64 // context switches per second, all threads
	metrics  map[string]float64
	lines    int // stdout lines over the whole life
	warns    int // log events at warn and above
	exit     string
}

func runIdle(ctx context.Context, o options, stdout, stderr io.Writer) error {
	fmt.Fprintf(stderr, "scale: machine: %s\n", machine())
	root, err := moduleRoot(ctx)
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "scale-idle")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	bin := filepath.Join(tmp, "go-leader-election")
	build := exec.CommandContext(ctx, "go", "build", "-o", bin, ".")
	build.Dir = root
	build.Stdout, build.Stderr = stderr, stderr
	fmt.Fprintf(stderr, "scale: go build -o %s . (in %s)\n", bin, build.Dir)
	if err := build.Run(); err != nil {
		return fmt.Errorf("go build: %w", err)
	}

	var results []idleResult
	for _, st := range o.idleStores {
		var srv server // the store's server: none for the embedded store
		if st != "memory" {
			if srv, err = startServer(ctx, st); err != nil {
				return err
			}
			defer srv.stop() //nolint:errcheck // reported below when it matters
		}
		fmt.Fprintf(stderr, "scale: idle daemon on %s for %s + %s (load %s)\n", st, idleSettle, o.duration, loadAvg())
		r, err := idleRun(ctx, o, bin, st, srv)
		if err != nil {
			return err
		}
		fmt.Fprintf(stderr, "scale: idle on %s: VmRSS %s MiB, VmHWM %s MiB, CPU %.3f s (%.2f%% of a core), exit %s\n",
			r.store, mib(r.rss), mib(r.hwm), r.cpu.Seconds(), 100*r.cpu.Seconds()/r.window.Seconds(), r.exit)
		results = append(results, r)
	}
	printIdle(stdout, o, results)
	for _, r := range results {
		if r.exit != "0" {
			return fmt.Errorf("the daemon on %s exited with %s after SIGTERM", r.store, r.exit)
		}
	}
	return nil
}

// daemonEnv is this process's environment without the daemon's settings,
// plus extra.
func daemonEnv(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		drop := k == "STORE" || k == "GOOGLE_CLOUD_PROJECT" || k == "NODE_NAME" || k == "DATABASE_URL" || strings.HasSuffix(k, "_SCHEDULE")
		for _, p := range []string{"DATASTORE_", "POSTGRES_SCHEMA", "APP_", "LOG_", "PREACHER_", "LEASE_", "RENEW_", "RETRY_", "FOLLOWER_", "STORE_", "SHUTDOWN_", "CLOCK_"} {
			drop = drop || strings.HasPrefix(k, p)
		}
		if !drop {
			env = append(env, kv)
		}
	}
	return append(env, extra...)
}

// idleRun runs the daemon on store st (on srv, nil for the embedded
// store), measures it and stops it.
func idleRun(ctx context.Context, o options, bin, st string, srv server) (idleResult, error) {
	r := idleResult{window: o.duration, emuCPU: -1, load1: load1()}
	env := []string{"GO_PREACHER_SCHEDULE=@every 1m", "SCALA_PREACHER_SCHEDULE=@every 1m", "APP_PORT=0",
		"LOG_FORMAT=json", "NODE_NAME=idle-" + st}
	if srv != nil {
		env = append(env, srv.daemonEnv()...)
	}
	cmd := exec.Command(bin)
	cmd.Env = daemonEnv(env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	errs := &tailBuffer{max: 8 << 10}
	cmd.Stderr = errs
	out, err := cmd.StdoutPipe()
	if err != nil {
		return r, err
	}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return r, err
	}
	pid := strconv.Itoa(cmd.Process.Pid)
	lg := &idleLog{port: make(chan int, 1), store: make(chan string, 1), drained: make(chan struct{})}
	go lg.read(out)
	exited := make(chan error, 1)
	go func() {
		<-lg.drained // Wait closes stdout: read it all first
		exited <- cmd.Wait()
	}()
	var p int
	select {
	case p = <-lg.port:
		select {
		case r.store = <-lg.store:
		default:
			r.store = st
		}
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		return r, fmt.Errorf("the daemon on %s did not listen within 30s: %s", st, errs)
	case <-ctx.Done():
		_ = cmd.Process.Kill()
		return r, ctx.Err()
	}

	if err := r.measure(ctx, o, pid, srv, start, p); err != nil {
		return r, err
	}

	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-exited:
		r.exit = "0"
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			r.exit = ee.ProcessState.String()
		} else if err != nil {
			r.exit = err.Error()
		}
	case <-time.After(45 * time.Second):
		_ = cmd.Process.Kill()
		<-exited
		r.exit = "did not exit within 45s of SIGTERM (killed)"
	}
	r.lines, r.warns = lg.lines, lg.warns
	if r.exit != "0" {
		fmt.Fprintf(os.Stderr, "scale: daemon stderr: %s\n", errs)
	}
	return r, nil
}

// ctxSwitches sums the voluntary and involuntary context switches of every
// thread of pid.
func ctxSwitches(pid string) int64 {
	tasks, _ := filepath.Glob("/proc/" + pid + "/task/*/status")
	var n int64
	for _, t := range tasks {
		b, err := os.ReadFile(t)
		if err != nil {
			continue
		}
		for line := range strings.SplitSeq(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.HasSuffix(k, "ctxt_switches") {
				c, _ := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
				n += c
			}
		}
	}
	return n
}

// scrape reads the unlabelled samples of a Prometheus text page.
func scrape(url string) map[string]float64 {
	out := map[string]float64{}
	c := &http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		return out
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		name, v, ok := strings.Cut(sc.Text(), " ")
		if !ok || strings.HasPrefix(name, "#") || strings.Contains(name, "{") {
			continue
		}
		if f, err := strconv.ParseFloat(v, 64); err == nil {
			out[name] = f
		}
	}
	return out
}

func printIdle(w io.Writer, o options, results []idleResult) {
	fmt.Fprintf(w, "### Idle daemon: two jobs @every 1m, measured over %s from %s after start\n\n", o.duration, idleSettle)
	fmt.Fprintf(w, "Machine: %s.\n\n", machine())
	fmt.Fprintln(w, "| store | load1 before | window (s) | VmRSS (MiB) | VmHWM (MiB) | CPU (s) | % of one core | context switches / s | Go heap in use (MiB) | Go sys (MiB) | goroutines | warnings | exit after SIGTERM | store's server CPU (s) |")
	fmt.Fprintln(w, "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|")
	for _, r := range results {
		emuCPU := "—"
		if r.emuCPU >= 0 {
			emuCPU = fmt.Sprintf("%.2f", r.emuCPU.Seconds())
		}
		fmt.Fprintf(w, "| %s | %s | %.1f | %s | %s | %.2f | %.2f%% | %.1f | %s | %s | %.0f | %d | %s | %s |\n",
			r.store, r.load1, r.window.Seconds(), mib(r.rss), mib(r.hwm), r.cpu.Seconds(),
			100*r.cpu.Seconds()/r.window.Seconds(), r.switches,
			mib(int64(r.metrics["go_memstats_heap_inuse_bytes"])), mib(int64(r.metrics["go_memstats_sys_bytes"])),
			r.metrics["go_goroutines"], r.warns, r.exit, emuCPU)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "CPU is utime+stime from /proc/<pid>/stat (10 ms resolution) over the window; start-up (the first 5 s) is excluded. VmRSS and VmHWM are from /proc/<pid>/status at the window's end (VmHWM: the peak since start). The Go figures are scraped from the daemon's /metrics after the CPU sample. The store's server is the emulator child, or the PostgreSQL cluster (its postmaster and children).")
	fmt.Fprintln(w)
}

// idleLog reads an idle daemon's log: the port it listens on, the store
// it chose, and how many lines and warnings it wrote.
type idleLog struct {
	port         chan int
	store        chan string
	lines, warns int           // written by read, read after drained
	drained      chan struct{} // closed when read has read everything
}

func (l *idleLog) read(out io.Reader) {
	defer close(l.drained)
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		l.lines++
		var ev struct {
			Level   string `json:"level"`
			Message string `json:"message"`
			Port    int    `json:"port"`
			Store   string `json:"store"`
		}
		if json.Unmarshal(sc.Bytes(), &ev) != nil {
			continue // job output
		}
		switch {
		case ev.Level == "warn" || ev.Level == "error" || ev.Level == "fatal":
			l.warns++
		case ev.Message == "Store selected":
			l.store <- ev.Store
		case ev.Port != 0 && strings.HasPrefix(ev.Message, "Listening on port"):
			l.port <- ev.Port
		}
	}
	_, _ = io.Copy(io.Discard, out)
}

// measure waits for the daemon (pid, listening on port) to settle, then
// measures its CPU, context switches and memory (and the store server's
// CPU) over the window, and scrapes its metrics.
func (r *idleResult) measure(ctx context.Context, o options, pid string, srv server, start time.Time, port int) error {
	sleepUntil(ctx, start.Add(idleSettle))
	cpu0, err := procCPU(pid)
	if err != nil {
		return err
	}
	sw0 := ctxSwitches(pid)
	var emu0 time.Duration
	if srv != nil {
		emu0 = srv.cpu()
	}
	t0 := time.Now()
	sleepUntil(ctx, t0.Add(o.duration))
	cpu1, err := procCPU(pid)
	if err != nil {
		return err
	}
	r.window = time.Since(t0)
	r.cpu = cpu1 - cpu0
	r.switches = float64(ctxSwitches(pid)-sw0) / r.window.Seconds()
	if srv != nil {
		r.emuCPU = srv.cpu() - emu0
	}
	status := procStatusOrZero(pid)
	r.rss, r.hwm = status["VmRSS"], status["VmHWM"]
	r.metrics = scrape(fmt.Sprintf("http://127.0.0.1:%d/metrics", port)) // after the CPU sample

	return nil
}
