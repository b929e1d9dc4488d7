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

	"github.com/rs/zerolog"

	"go-leader-election/internal/logging"
	"go-leader-election/internal/schedule"
	"go-leader-election/scheduler"
)

// sample is what is read at one instant of a size's run.
type sample struct {
	at       time.Time
	cpu      time.Duration // this process
	emuCPU   time.Duration // the store's server (the emulator child)
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
	emuRSS      int64 // the server's RSS at the window's end
	heapInuse   int64 // Go heap in use at the window's end
	stackInuse  int64 // goroutine stacks at the window's end
	goroutines  int

	// Balance.
	balance, churn  bool
	nodeNames       []string
	ledBy           []int // per node: jobs whose last judged tick it ran
	members         int   // nodes running at the end
	moved           int   // job-ticks run by another node than the job's previous judged tick
	movedPhase      [3]int
	lastMove        time.Duration         // from the start to the last tick moved
	movesAt         map[time.Duration]int // jobs moved by tick, since the start (rounded to a second)
	movedLags       []time.Duration       // start lags of the moved job-ticks, sorted
	unmovedLags     []time.Duration       // of the other judged job-ticks, sorted
	settled         [3]time.Duration      // by phase: from its start (run start, join, leave) to the last tick moved
	handovers       int64                 // "Handing over" events, whole run
	joined, left    int64                 // "Member joined" / "Member left" events, all nodes, whole run
	seenBy          string
	seen            []scheduler.Member // seenBy's Members() at the window's end
	joiner, leaver  string
	joinAt, leaveAt time.Duration // since the start
	leaveStop       time.Duration // from cancelling the leaver to its Group.Run returning
}

// limit is ceil(jobs/members), the most jobs balance lets a node lead.
func (r result) limit() int { return (r.jobs + r.members - 1) / r.members }

// maxLed is the most jobs one node led at the last judged tick.
func (r result) maxLed() int {
	m := 0
	for _, c := range r.ledBy {
		m = max(m, c)
	}
	return m
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func runScale(ctx context.Context, o options, stdout, stderr io.Writer) error {
	fmt.Fprintf(stderr, "scale: machine: %s\n", machine())
	emu, err := startServer(ctx, o.store)
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "scale: store: %s\n", emu.name())
	var results []result
	for _, n := range o.jobs {
		fmt.Fprintf(stderr, "scale: %d jobs × %d nodes for %s (load %s)\n", n, o.nodes, o.duration, loadAvg())
		r, err := runSize(ctx, o, emu, n)
		if err != nil {
			_ = emu.stop()
			return err
		}
		fmt.Fprintf(stderr, "scale: %d jobs: %d job-ticks judged, %d runs twice, %d missed, lag p50 %s p99 %s; led per node %s (cap %d), %d jobs moved\n",
			n, r.jobTicks, r.runsTwice, r.missed, percentile(r.lags, 0.5), percentile(r.lags, 0.99), r.ledText(), r.limit(), r.moved)
		if len(r.movesAt) > 0 {
			var at []string
			for _, d := range slices.Sorted(maps.Keys(r.movesAt)) {
				at = append(at, fmt.Sprintf("%s %d", d, r.movesAt[d]))
			}
			fmt.Fprintf(stderr, "scale: %d jobs: jobs moved by tick (time after the start): %s\n", n, strings.Join(at, ", "))
		}
		results = append(results, r)
		if ctx.Err() != nil {
			break
		}
	}
	if err := emu.stop(); err != nil {
		fmt.Fprintf(stderr, "scale: %v\n", err)
	}
	printScale(stdout, o, emu.name(), results)
	return ctx.Err()
}

// node is one node of a size's run.
type node struct {
	name   string
	st     *nodeStore
	s      *scheduler.Scheduler
	cancel context.CancelFunc
	done   chan struct{} // closed when g.Run has returned
}

// runSize runs n jobs on o.nodes nodes for o.duration and judges the runs.
// With o.churn one more node joins at a third of the run and node0 leaves
// at two thirds.
func runSize(ctx context.Context, o options, emu server, n int) (result, error) {
	r := result{jobs: n, nodes: o.nodes, duration: o.duration, load1: load1(), balance: o.balance, churn: o.churn}
	every := schedule.Every(o.every)
	rec := newRecorder()
	names := scaleJobNames(n)
	obs := newObserver(o.every, names)
	logs := newLogCounter()
	base := logging.New(logs, "json", "info", "scale")
	nodes, err := buildNodes(ctx, o, emu, n, names, rec, obs, base)
	defer func() {
		for _, nd := range nodes {
			_ = nd.st.Close()
		}
	}()
	if err != nil {
		return r, err
	}

	take := func() sample { return takeSample(logs, emu, nodes) }

	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	startNode := func(nd *node) {
		nctx, ncancel := context.WithCancel(runCtx)
		nd.cancel = ncancel
		wg.Go(func() {
			defer close(nd.done)
			_ = nd.s.Run(nctx)
		})
	}
	r.whole[0] = take()
	start := time.Now()
	for _, nd := range nodes[:o.nodes] {
		startNode(nd)
	}
	end := start.Add(o.duration)
	first := every.Next(start.Add(2*time.Second - 1)) // the first tick >= start+2s
	last := every.Next(end.Add(-time.Second)).Add(-o.every)
	if !first.After(last) {
		r.ticks = int(last.Sub(first)/o.every) + 1
	}
	r.jobTicks = r.ticks * n
	half := o.every / 2

	var events []event
	if r.ticks > 0 {
		events = append(events,
			event{first.Add(-half), func() { r.window[0] = take() }},
			event{last.Add(half), func() { r.endWindow(o, emu, nodes, take()) }})
	}
	var joinAt, leaveAt time.Time
	if o.churn {
		joinAt, leaveAt = start.Add(o.duration/3), start.Add(2*o.duration/3)
		r.joinAt, r.leaveAt = joinAt.Sub(start), leaveAt.Sub(start)
		joiner, leaver := nodes[o.nodes], nodes[0]
		r.joiner, r.leaver = joiner.name, leaver.name
		events = append(events,
			event{joinAt, func() { startNode(joiner) }},
			event{leaveAt, func() {
				leaver.cancel()
				wg.Go(func() {
					<-leaver.done
					r.leaveStop = time.Since(leaveAt) // written before wg.Wait returns
				})
			}})
	}
	play(runCtx, append(events, event{end, func() {}}))
	stopAt := time.Now()
	cancel()
	wg.Wait()
	r.stop = time.Since(stopAt)
	r.whole[1] = take()
	r.peakRSS = procStatusOrZero("self")["VmHWM"]

	r.judge(o, n, rec, obs, logs, nodes, judged{first: first, last: last, start: start, joinAt: joinAt, leaveAt: leaveAt})
	return r, nil
}

// scaleJobNames are the names of n jobs: job_0000, job_0001, ...
func scaleJobNames(n int) []string {
	names := make([]string, n)
	for j := range names {
		names[j] = fmt.Sprintf("job_%04d", j)
	}
	return names
}

// takeSample reads the counters a size's figures are computed from.
func takeSample(logs *logCounter, emu server, nodes []*node) sample {
	s := sample{at: time.Now(), cpu: selfCPU(), logs: logs.total.Load(), byMethod: map[string]int64{}}
	s.emuCPU = emu.cpu()
	for _, nd := range nodes {
		s.rpc += nd.st.total()
		for m, c := range nd.st.byMethod() {
			s.byMethod[m] += c
		}
	}
	return s
}

// endWindow records the measurement window's end: its sample, memory,
// and the members the last node sees.
func (r *result) endWindow(o options, emu server, nodes []*node, s sample) {
	r.window[1] = s
	r.rssEnd = procStatusOrZero("self")["VmRSS"]
	r.emuRSS = emu.rss()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	r.heapInuse, r.stackInuse, r.goroutines = int64(ms.HeapInuse), int64(ms.StackInuse), runtime.NumGoroutine()
	if o.balance {
		r.seenBy, r.seen = nodes[len(nodes)-1].name, nodes[len(nodes)-1].s.Members()
	}
}

// event is something a size's run does at a time.
type event struct {
	at time.Time
	do func()
}

// play does events in time order, until ctx ends.
func play(ctx context.Context, events []event) {
	slices.SortStableFunc(events, func(a, b event) int { return a.at.Compare(b.at) })
	for _, ev := range events {
		sleepUntil(ctx, ev.at)
		if ctx.Err() != nil {
			return
		}
		ev.do()
	}
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

// printScale writes the tables; srv names the store's server (the
// emulator, PostgreSQL).
func printScale(w io.Writer, o options, srv string, results []result) {
	bal := "balance off"
	if o.balance {
		bal = "balance on (member period " + o.memberPeriod.String() + ")"
	}
	churn := ""
	if o.churn {
		churn = fmt.Sprintf("; churn: node%d joins at %s, node0 leaves at %s", o.nodes, o.duration/3, 2*o.duration/3)
	}
	fmt.Fprintf(w, "### Scale run: %d node(s), jobs @every %s, %s per size, %s%s, store %s\n\n", o.nodes, o.every, o.duration, bal, churn, o.store)
	fmt.Fprintf(w, "Machine: %s.\n\n", machine())
	fmt.Fprintln(w, "| jobs | nodes | job-ticks judged | runs twice | missed ticks | start lag p50 (ms) | p99 (ms) | max (ms) | store RPCs / job-tick ¹ | node CPU s / 1,000 job-ticks ¹ | node peak RSS (MiB) ² | "+srv+" CPU s / 1,000 job-ticks ¹ | "+srv+" CPU s, whole run ³ |")
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
	fmt.Fprintln(w, "¹ Over the measurement window, from half a tick before the first judged tick to half a tick after the last: exactly the judged ticks' work in steady state (no first claims, no releases at shutdown). RPCs are the sum of every node Store's `Calls().Total()` (for PostgreSQL, round trips); node CPU is this process's getrusage user+sys; emulator CPU is the child's /proc utime+stime (10 ms resolution); PostgreSQL's is that of the postmaster and its children, ended ones included (cutime, cstime).")
	fmt.Fprintln(w, "² VmHWM of this process (/proc/self/status): the maximum over its life so far, so a size's figure covers the smaller sizes run before it. (Not getrusage's maxrss: under `go run` that starts at the go tool's own peak, which a vfork+exec child inherits.)")
	fmt.Fprintln(w, "³ From starting the schedulers to the last one stopped (leases released).")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Details:")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| jobs | load1 before | window (s) | RPCs / job-tick by method ¹ | log events / job-tick ¹ | claim p50 / p99 (ms) ¹ | get p50 / p99 (ms) ¹ | node CPU s, window / whole run | node RSS at window end (MiB) | Go heap / stacks in use (MiB), goroutines | "+srv+" RSS (MiB) ⁷ | stop (s) | runs (whole run) | skips (whole run) | failed store calls (window / run) | warnings (whole run) |")
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
	fmt.Fprintln(w, "⁷ The emulator's VmRSS; PostgreSQL's processes' RssAnon, summed (their private memory; shared buffers are not counted).")
	fmt.Fprintln(w)
	printBalance(w, results)
}

// ledText is the jobs each node led at the last judged tick, "node0 334,
// node1 333, ...", the nodes that ran none included.
func (r result) ledText() string {
	var parts []string
	for i, name := range r.nodeNames {
		parts = append(parts, fmt.Sprintf("%s %d", name, r.ledBy[i]))
	}
	return strings.Join(parts, ", ")
}

// lagText is "p50 / p99 / max" of sorted in ms, or "—".
func lagText(sorted []time.Duration) string {
	if len(sorted) == 0 {
		return "—"
	}
	return ms(percentile(sorted, 0.5)) + " / " + ms(percentile(sorted, 0.99)) + " / " + ms(percentile(sorted, 1))
}

func printBalance(w io.Writer, results []result) {
	fmt.Fprintln(w, "Balance:")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| jobs | balance | nodes at the end | jobs led per node ⁴ | ceil(jobs / nodes) | most led ≤ it | leads as the last node's Group.Members() sees them ⁵ | jobs moved ⁶ | start lag of the moved job-ticks p50 / p99 / max (ms) ⁶ | of the others p50 / p99 / max (ms) | last move, s after the start ⁶ | moved: start / after join / after leave ⁶ | last move, s after the start / join / leave ⁶ | \"Handing over\" events | member joined / left events | churn |")
	fmt.Fprintln(w, "|---:|---|---:|---|---:|---|---|---:|---:|---:|---:|---|---|---:|---|---|")
	for _, r := range results {
		bal, ok := "off", "no"
		if r.balance {
			bal = "on"
		}
		if r.maxLed() <= r.limit() {
			ok = "yes"
		}
		seen := "—"
		if r.balance {
			var parts []string
			for _, m := range r.seen {
				parts = append(parts, fmt.Sprintf("%s %d", m.Node, len(m.Leads)))
			}
			seen = r.seenBy + ": " + strings.Join(parts, ", ")
		}
		phases, settled, churn := "—", "—", "—"
		if r.churn {
			phases = fmt.Sprintf("%d / %d / %d", r.movedPhase[0], r.movedPhase[1], r.movedPhase[2])
			settled = fmt.Sprintf("%.0f / %.0f / %.0f", r.settled[0].Seconds(), r.settled[1].Seconds(), r.settled[2].Seconds())
			churn = fmt.Sprintf("%s joined at %.0f s; %s left at %.0f s (its Group.Run returned %s ms later)",
				r.joiner, r.joinAt.Seconds(), r.leaver, r.leaveAt.Seconds(), ms(r.leaveStop))
		}
		fmt.Fprintf(w, "| %d | %s | %d | %s | %d | %s | %s | %d | %s | %s | %.0f | %s | %s | %d | %d / %d | %s |\n",
			r.jobs, bal, r.members, r.ledText(), r.limit(), ok, seen, r.moved,
			lagText(r.movedLags), lagText(r.unmovedLags), r.lastMove.Seconds(), phases, settled,
			r.handovers, r.joined, r.left, churn)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "⁴ By the runs themselves: which node ran each job's last judged tick.")
	fmt.Fprintln(w, "⁵ `Leads` of each member, as that node last saw the jobs' leases, at the end of the measurement window.")
	fmt.Fprintln(w, "⁶ Job-ticks of the judged window run by another node than the job's previous judged tick (its first judged tick is not counted); the last move is the latest such tick, in seconds after the start of the run. The start lags are those of the first table, split between the moved job-ticks and the others. With -churn, by the phase the tick falls in: before the join, between the join and the leave, after the leave. Lost ticks and runs twice over the same window are the first table's \"missed ticks\" and \"runs twice\".")
	fmt.Fprintln(w)
}

// buildNodes builds the run's nodes (one more with churn), each with its
// own store client and scheduler, as the daemon builds its own (run.go).
// The nodes built so far are returned with an error, for closing.
func buildNodes(ctx context.Context, o options, emu server, n int, names []string, rec *recorder, obs *observer,
	base zerolog.Logger) ([]*node, error) {
	spec := "@every " + o.every.String()
	timing := scheduler.DefaultTiming()
	total := o.nodes
	if o.churn {
		total++
	}
	var nodes []*node
	for i := range total {
		nd := &node{name: fmt.Sprintf("node%d", i), done: make(chan struct{})}
		st, err := emu.open(ctx, n, timing.StoreTimeout)
		if err != nil {
			return nodes, err
		}
		nd.st = st
		nodes = append(nodes, nd)
		if err := st.Ping(ctx); err != nil { // connects, outside the measurement
			return nodes, err
		}
		nd.s, err = scheduler.New(st.Store, // the store itself: its Members and ClockReader too
			scheduler.WithNode(nd.name), scheduler.WithBalance(o.balance),
			scheduler.WithMemberPeriod(o.memberPeriod), scheduler.WithObserver(obs), scheduler.WithLogger(base),
			scheduler.WithHistoryLimit(0))
		if err != nil {
			return nodes, err
		}
		for j := range n {
			if err := nd.s.Add(scheduler.Job{Name: names[j], Schedule: spec, Run: rec.job(j, i)}); err != nil {
				return nodes, err
			}
		}
	}
	return nodes, nil
}

// judged is when a size's run judged its ticks: the first and last tick
// judged, its start, and (with churn) when a node joined and one left.
type judged struct {
	first, last, start, joinAt, leaveAt time.Time
}

// judge counts the run's misses, doubles and moves, and takes the
// observer's and the logs' figures.
func (r *result) judge(o options, n int, rec *recorder, obs *observer, logs *logCounter, nodes []*node, w judged) {
	r.movesAt = map[time.Duration]int{}
	movedRuns := map[runKey]bool{}
	for j := range n {
		prev := -1 // the node that ran the job's latest tick so far
		for k := range r.ticks {
			t := w.first.Add(time.Duration(k) * o.every)
			switch c := rec.count(j, t); {
			case c == 0:
				r.missed++
			case c > 1:
				r.runsTwice++
			}
			by, ok := rec.ranBy(j, t)
			if !ok {
				continue
			}
			if prev >= 0 && by != prev {
				r.moved++
				ph, from := 0, w.start
				switch {
				case !o.churn || t.Before(w.joinAt):
				case t.Before(w.leaveAt):
					ph, from = 1, w.joinAt
				default:
					ph, from = 2, w.leaveAt
				}
				r.movedPhase[ph]++
				r.settled[ph] = max(r.settled[ph], t.Sub(from))
				r.lastMove = max(r.lastMove, t.Sub(w.start))
				r.movesAt[t.Sub(w.start).Round(time.Second)]++
				movedRuns[runKey{j, t.UnixNano()}] = true
			}
			prev = by
		}
	}
	r.nodeNames = make([]string, len(nodes))
	r.ledBy = make([]int, len(nodes))
	for i, nd := range nodes {
		r.nodeNames[i] = nd.name
	}
	if r.ticks > 0 {
		for j := range n {
			if by, ok := rec.ranBy(j, w.last); ok {
				r.ledBy[by]++
			}
		}
	}
	r.members = o.nodes // at the end: with churn, one joined and one left
	rec.mu.Lock()
	for _, c := range rec.runs {
		r.runs += c
	}
	r.noToken = rec.noToken
	rec.mu.Unlock()
	if r.ticks > 0 {
		r.lags = obs.lagsBetween(w.first, w.last)
		r.movedLags, r.unmovedLags = obs.lagsOf(movedRuns, w.first, w.last)
		r.calls, r.callsFailed = obs.callsBetween(r.window[0].at, r.window[1].at)
	}
	r.failedRun = obs.failedCalls()
	r.skips = obs.skips()
	obs.mu.Lock()
	r.leaseLost, r.jobErrors = obs.leaseLost, obs.failed
	obs.mu.Unlock()
	r.warnings = logs.warnings()
	r.handovers, r.joined, r.left = logs.event("Handing over"), logs.event("Member joined"), logs.event("Member left")
}
