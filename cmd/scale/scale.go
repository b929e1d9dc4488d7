package main

import (
	"context"
	"fmt"
	"io"
	"maps"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"go-leader-election/clock"
	"go-leader-election/jobs"
	"go-leader-election/logging"
	"go-leader-election/schedulers"
	"go-leader-election/store/datastore"
)

// sample is what is read at one instant of a size's run.
type sample struct {
	at       time.Time
	cpu      time.Duration // this process
	emuCPU   time.Duration // the emulator child
	rpc      int64         // sum over the nodes' stores
	byMethod map[string]int64
	logs     int64
}

// result is one size's numbers.
type result struct {
	jobs, nodes int
	duration    time.Duration
	load1       string // 1-minute load average before the size ran

	ticks, jobTicks   int // judged ticks per job; job-ticks judged
	runsTwice, missed int
	runs, noToken     int // runs recorded in all (whole run)
	lags              []time.Duration

	window      [2]sample // measurement window
	whole       [2]sample // from starting the schedulers to the last stopped
	stop        time.Duration
	calls       map[string][]time.Duration // store calls in the window, by op
	callsFailed int                        // in the window
	failedRun   int                        // whole run
	skips       map[string]int64
	leaseLost   int64
	jobErrors   int64
	warnings    string
	rssEnd      int64 // this process's VmRSS at the window's end
	peakRSS     int64 // this process's VmHWM after the size
	emuRSS      int64 // the child's VmRSS at the window's end
	heapInuse   int64 // Go heap in use at the window's end
	stackInuse  int64 // goroutine stacks at the window's end
	goroutines  int
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func runScale(ctx context.Context, o options, stdout, stderr io.Writer) error {
	fmt.Fprintf(stderr, "scale: machine: %s\n", machine())
	emu, err := startEmulator(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "scale: emulator child pid %s at %s\n", emu.pid, emu.host)
	var results []result
	for _, n := range o.jobs {
		fmt.Fprintf(stderr, "scale: %d jobs × %d nodes for %s (load %s)\n", n, o.nodes, o.duration, loadAvg())
		r, err := runSize(ctx, o, emu, n)
		if err != nil {
			_ = emu.stop()
			return err
		}
		fmt.Fprintf(stderr, "scale: %d jobs: %d job-ticks judged, %d runs twice, %d missed, lag p99 %s\n",
			n, r.jobTicks, r.runsTwice, r.missed, percentile(r.lags, 0.99))
		results = append(results, r)
		if ctx.Err() != nil {
			break
		}
	}
	if err := emu.stop(); err != nil {
		fmt.Fprintf(stderr, "scale: %v\n", err)
	}
	printScale(stdout, o, results)
	return ctx.Err()
}

// runSize runs n jobs on o.nodes nodes for o.duration and judges the runs.
func runSize(ctx context.Context, o options, emu *child, n int) (result, error) {
	r := result{jobs: n, nodes: o.nodes, duration: o.duration, load1: load1()}
	spec := "@every " + o.every.String()
	sched, err := schedulers.ParseSchedule(spec)
	if err != nil {
		return r, err
	}
	every := schedulers.Every(o.every)
	timing := schedulers.DefaultTiming()
	rec := newRecorder()
	obs := newObserver(o.every)
	logs := newLogCounter()
	base := logging.New(logs, "json", "info", "scale")

	scheduled := make([]schedulers.Scheduled, n)
	for j := range scheduled {
		job := jobs.Job{Name: fmt.Sprintf("job_%04d", j), Schedule: spec, Run: rec.job(j)}
		scheduled[j] = schedulers.Scheduled{Job: job, Spec: spec, Schedule: sched}
	}
	var stores []*datastore.Store
	defer func() {
		for _, st := range stores {
			_ = st.Close()
		}
	}()
	var groups []*schedulers.Group
	for i := range o.nodes {
		st, err := datastore.New(ctx, datastore.Config{
			Project: project, Namespace: fmt.Sprintf("scale-%d", n),
			Timeout: timing.StoreTimeout, EmulatorHost: emu.host,
		})
		if err != nil {
			return r, err
		}
		stores = append(stores, st)
		if err := st.Ping(ctx); err != nil { // connects, outside the measurement
			return r, err
		}
		id := schedulers.NewIdentity(fmt.Sprintf("node%d", i))
		g, err := schedulers.NewGroup(schedulers.GroupConfig{
			Jobs: scheduled, Store: st, Clock: clock.Real{}, Identity: id, Timing: timing, Log: base, Observer: obs,
		})
		if err != nil {
			return r, err
		}
		groups = append(groups, g)
	}

	take := func() sample {
		s := sample{at: time.Now(), cpu: selfCPU(), logs: logs.total.Load(), byMethod: map[string]int64{}}
		s.emuCPU, _ = procCPU(emu.pid)
		for _, st := range stores {
			s.rpc += st.Calls().Total()
			for m, c := range st.Calls().Snapshot() {
				s.byMethod[m] += c
			}
		}
		return s
	}

	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	r.whole[0] = take()
	start := time.Now()
	for _, g := range groups {
		wg.Go(func() { g.Run(runCtx) })
	}
	end := start.Add(o.duration)
	first := every.Next(start.Add(2*time.Second - 1)) // the first tick >= start+2s
	last := every.Next(end.Add(-time.Second)).Add(-o.every)
	if !first.After(last) {
		r.ticks = int(last.Sub(first)/o.every) + 1
	}
	r.jobTicks = r.ticks * n
	half := o.every / 2
	if r.ticks > 0 {
		sleepUntil(runCtx, first.Add(-half))
		r.window[0] = take()
		sleepUntil(runCtx, last.Add(half))
		r.window[1] = take()
		r.rssEnd = procStatusOrZero("self")["VmRSS"]
		r.emuRSS = procStatusOrZero(emu.pid)["VmRSS"]
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		r.heapInuse, r.stackInuse, r.goroutines = int64(ms.HeapInuse), int64(ms.StackInuse), runtime.NumGoroutine()
	}
	sleepUntil(runCtx, end)
	stopAt := time.Now()
	cancel()
	wg.Wait()
	r.stop = time.Since(stopAt)
	r.whole[1] = take()
	r.peakRSS = procStatusOrZero("self")["VmHWM"]

	// Judge.
	for j := range n {
		for k := range r.ticks {
			switch c := rec.count(j, first.Add(time.Duration(k)*o.every)); {
			case c == 0:
				r.missed++
			case c > 1:
				r.runsTwice++
			}
		}
	}
	rec.mu.Lock()
	for _, c := range rec.runs {
		r.runs += c
	}
	r.noToken = rec.noToken
	rec.mu.Unlock()
	if r.ticks > 0 {
		r.lags = obs.lagsBetween(first, last)
		r.calls, r.callsFailed = obs.callsBetween(r.window[0].at, r.window[1].at)
	}
	r.failedRun = obs.failedCalls()
	r.skips = obs.skips()
	obs.mu.Lock()
	r.leaseLost, r.jobErrors = obs.leaseLost, obs.failed
	obs.mu.Unlock()
	r.warnings = logs.warnings()
	return r, nil
}

func sleepUntil(ctx context.Context, t time.Time) {
	timer := time.NewTimer(time.Until(t))
	defer timer.Stop()
	select {
	case <-ctx.Done():
	case <-timer.C:
	}
}

// procStatus for the report: missing values read as 0.
func procStatusOrZero(pid string) map[string]int64 {
	m, _ := procStatus(pid)
	if m == nil {
		m = map[string]int64{}
	}
	return m
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f", float64(d)/float64(time.Millisecond)) }

// perJobTicks is v per job-tick, times scale, or "—" with no job-ticks.
func perJobTicks(v float64, jobTicks int, scale float64, format string) string {
	if jobTicks == 0 {
		return "—"
	}
	return fmt.Sprintf(format, v/float64(jobTicks)*scale)
}

func printScale(w io.Writer, o options, results []result) {
	fmt.Fprintf(w, "### Scale run: %d node(s), jobs @every %s, %s per size\n\n", o.nodes, o.every, o.duration)
	fmt.Fprintf(w, "Machine: %s.\n\n", machine())
	fmt.Fprintln(w, "| jobs | nodes | job-ticks judged | runs twice | missed ticks | start lag p50 (ms) | p99 (ms) | max (ms) | store RPCs / job-tick ¹ | node CPU s / 1,000 job-ticks ¹ | node peak RSS (MiB) ² | emulator CPU s / 1,000 job-ticks ¹ | emulator CPU s, whole run ³ |")
	fmt.Fprintln(w, "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
	for _, r := range results {
		win := r.window
		fmt.Fprintf(w, "| %d | %d | %d | %d | %d | %s | %s | %s | %s | %s | %s | %s | %.2f |\n",
			r.jobs, r.nodes, r.jobTicks, r.runsTwice, r.missed,
			ms(percentile(r.lags, 0.5)), ms(percentile(r.lags, 0.99)), ms(percentile(r.lags, 1)),
			perJobTicks(float64(win[1].rpc-win[0].rpc), r.jobTicks, 1, "%.2f"),
			perJobTicks((win[1].cpu-win[0].cpu).Seconds(), r.jobTicks, 1000, "%.2f"),
			mib(r.peakRSS),
			perJobTicks((win[1].emuCPU-win[0].emuCPU).Seconds(), r.jobTicks, 1000, "%.2f"),
			(r.whole[1].emuCPU - r.whole[0].emuCPU).Seconds())
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "¹ Over the measurement window, from half a tick before the first judged tick to half a tick after the last: exactly the judged ticks' work in steady state (no first claims, no releases at shutdown). RPCs are the sum of every node Store's `Calls().Total()`; node CPU is this process's getrusage user+sys; emulator CPU is the child's /proc utime+stime (10 ms resolution).")
	fmt.Fprintln(w, "² VmHWM of this process (/proc/self/status): the maximum over its life so far, so a size's figure covers the smaller sizes run before it. (Not getrusage's maxrss: under `go run` that starts at the go tool's own peak, which a vfork+exec child inherits.)")
	fmt.Fprintln(w, "³ From starting the schedulers to the last one stopped (leases released).")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Details:")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| jobs | load1 before | window (s) | RPCs / job-tick by method ¹ | log events / job-tick ¹ | claim p50 / p99 (ms) ¹ | get p50 / p99 (ms) ¹ | node CPU s, window / whole run | node RSS at window end (MiB) | Go heap / stacks in use (MiB), goroutines | emulator RSS (MiB) | stop (s) | runs (whole run) | skips (whole run) | failed store calls (window / run) | warnings (whole run) |")
	fmt.Fprintln(w, "|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---|")
	for _, r := range results {
		win := r.window
		var by []string
		for _, m := range slices.Sorted(maps.Keys(win[1].byMethod)) {
			if d := win[1].byMethod[m] - win[0].byMethod[m]; d > 0 {
				by = append(by, m+" "+perJobTicks(float64(d), r.jobTicks, 1, "%.2f"))
			}
		}
		skips := formatCounts(r.skips)
		if r.leaseLost > 0 {
			skips += fmt.Sprintf("; lease lost ×%d", r.leaseLost)
		}
		if r.jobErrors > 0 || r.noToken > 0 {
			skips += fmt.Sprintf("; job errors ×%d, runs without token ×%d", r.jobErrors, r.noToken)
		}
		fmt.Fprintf(w, "| %d | %s | %.1f | %s | %s | %s / %s | %s / %s | %.2f / %.2f | %s | %s / %s, %d | %s | %.2f | %d | %s | %d / %d | %s |\n",
			r.jobs, r.load1, win[1].at.Sub(win[0].at).Seconds(), strings.Join(by, ", "),
			perJobTicks(float64(win[1].logs-win[0].logs), r.jobTicks, 1, "%.2f"),
			ms(percentile(r.calls["claim"], 0.5)), ms(percentile(r.calls["claim"], 0.99)),
			ms(percentile(r.calls["get"], 0.5)), ms(percentile(r.calls["get"], 0.99)),
			(win[1].cpu - win[0].cpu).Seconds(), (r.whole[1].cpu - r.whole[0].cpu).Seconds(),
			mib(r.rssEnd), mib(r.heapInuse), mib(r.stackInuse), r.goroutines, mib(r.emuRSS), r.stop.Seconds(), r.runs, skips,
			r.callsFailed, r.failedRun, r.warnings)
	}
	fmt.Fprintln(w)
}
