// Command scale measures how the scheduler's cost grows with the number of
// jobs, and what an idle daemon costs. It prints markdown tables on stdout.
//
//	go run ./cmd/scale                              # 10, 100, 1000 jobs × 30 s, 3 nodes
//	go run ./cmd/scale -jobs 10,100 -duration 10s   # a quick check
//	go run ./cmd/scale -jobs 1000 -balance=false    # without balance (as BALANCE=false)
//	go run ./cmd/scale -jobs 1000 -churn            # a node joins, another leaves, 60 s
//	go run ./cmd/scale -idle                        # an idle daemon, 60 s
//	go run ./cmd/scale -store postgres              # the scale run on PostgreSQL
//
// # Scale run (default)
//
// The command starts a Datastore emulator (package
// go-leader-election/emulator) in a child process — it
// re-executes itself with -role=emulator — so that the emulator's CPU and
// memory are not counted with the nodes'. It reads the emulator's address from
// the child's `export DATASTORE_EMULATOR_HOST=...` line. With -store postgres
// it starts a throwaway PostgreSQL cluster instead (.ci/postgres.sh, found
// from `go env GOMOD`, with fsync on), whose CPU (the postmaster and its
// children, ended ones included) and private memory (RssAnon) are reported
// where the emulator's are; each node then has a store/postgres Store in
// the schema scale_<N>_<run>, and the RPCs counted are its round trips.
//
// Then, for each size N of -jobs, in increasing order, in this process: it
// builds -nodes nodes, each with its own store/datastore Store on the emulator
// (namespace "scale-N", a new one per size; nothing else is reset between
// sizes) and its own name ("node0", "node1", ...), and on each node a
// scheduler.Scheduler (the library the daemon is built on) with N jobs
// (job_0000, job_0001, ...), every job "@every <-every>" with
// scheduler.DefaultTiming() and the real clock, logging through the daemon's
// own JSON logger (package logging) into a counter at level info, and no run
// history. With -balance (the default) balance is on as in the daemon
// (period -member-period, default 2 s as MEMBER_PERIOD; clock offset from
// the store's commit timestamps), so the jobs share themselves out;
// -balance=false turns it off (BALANCE=false). A job's run records (job,
// tick, node) from jobs.TokenFrom and returns at once. All nodes run for
// -duration, then are cancelled and waited for (they release their leases
// on the way out).
//
// With -churn (default -duration 60 s) one more node, node<-nodes>, is built
// likewise and joins at a third of the duration, and node0 leaves gracefully
// (its Group's context is cancelled, as SIGTERM does in the daemon) at two
// thirds; both happen inside the judged window.
//
// What is judged and measured, per size:
//
//   - The judged ticks are those from the first tick at least 2 s after the
//     start to the last tick at least 1 s before the end. Each (job, judged
//     tick) must have run exactly once: "runs twice" counts job-ticks run more
//     than once, "missed" job-ticks run never.
//   - Start lag: what scheduler.Observer.Started reports (run start minus
//     tick), for the runs of judged ticks; p50, p99 and max.
//   - The measurement window is from half a tick before the first judged tick
//     to half a tick after the last, so it covers exactly the work of the
//     judged ticks in steady state: no first claims (entity inserts), no
//     release at shutdown. Store RPCs per job-tick (the sum over the nodes'
//     Store.Calls().Total(), and by method), node CPU per 1,000 job-ticks
//     (getrusage(RUSAGE_SELF) user+sys of this process) and the emulator's
//     CPU per 1,000 job-ticks (utime+stime of /proc/<child>/stat, 100 Hz) are
//     taken over that window. The whole run's CPU (from starting the
//     schedulers to the last one stopped) is reported too. With balance the
//     window also holds the membership's renewals and reads, the hand-overs
//     of start-up and, with -churn, the join and the leave (its releases).
//   - Balance: the jobs each node led at the end of the window (which node
//     ran each job's last judged tick), against ceil(jobs / nodes running at
//     the end); each Group.Members()'s Leads as the last node sees them; the
//     jobs moved, the judged job-ticks run by another node than the same
//     job's previous judged tick (with -churn also split by phase: before
//     the join, between the join and the leave, after it), with the start
//     lags of the moved job-ticks and of the others apart; and the
//     "Handing over", "Member joined" and "Member left" events logged.
//   - Memory: this process's RSS at the end of the window (VmRSS), its peak
//     RSS (VmHWM: the maximum over the process's life so far, hence the sizes
//     in increasing order), and the emulator child's VmRSS. Not getrusage's
//     maxrss: a process started by vfork+exec, as `go run` starts this one,
//     inherits its parent's peak there.
//
// With -cpuprofile FILE the scale run writes a CPU profile of this process
// (all sizes) for `go tool pprof -top`.
//
// # Idle daemon (-idle)
//
// The command builds the daemon (`go build` in the module root, found with
// `go env GOMOD`), starts it with GO_PREACHER_SCHEDULE and
// SCALA_PREACHER_SCHEDULE at "@every 1m", APP_PORT=0 and LOG_FORMAT=json,
// first on the embedded store and then (unless -idle-stores says otherwise)
// on the emulator child (and, with postgres in -idle-stores, on a throwaway
// PostgreSQL cluster). It lets the daemon start up for 5 s — start-up is
// excluded — then measures over -duration (default 60 s with -idle): VmRSS
// and VmHWM from /proc/<pid>/status at the end, and utime+stime from
// /proc/<pid>/stat as CPU seconds and as a percentage of one core. It also
// scrapes a few Go runtime gauges from the daemon's /metrics. Then it sends
// SIGTERM and checks that the daemon exits with status 0.
//
// The numbers are of the machine the command runs on, which is printed (CPU
// count, model, load average, Go version); other work on the machine makes
// them noisy.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"go-leader-election/emulator"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil && !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(os.Stderr, "scale:", err)
		os.Exit(1)
	}
}

// options are the command's flags.
type options struct {
	role       string
	addr       string
	jobs       []int
	duration   time.Duration
	nodes      int
	every      time.Duration
	idle       bool
	idleStores []string
	cpuProfile string
	// balance builds each node's Group with a Membership; memberPeriod is
	// its Period (the daemon's MEMBER_PERIOD).
	balance      bool
	memberPeriod time.Duration
	// churn: a node joins a third of the way through each size's run and
	// node0 leaves gracefully two thirds of the way through.
	churn bool
	// store is the scale run's store: "datastore" (the emulator) or
	// "postgres" (a throwaway cluster).
	store string
}

func parseFlags(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("scale", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.role, "role", "", "internal: `emulator` runs the Datastore emulator (the child process)")
	fs.StringVar(&o.addr, "addr", "127.0.0.1:0", "internal: the emulator child's `host:port`")
	jobs := fs.String("jobs", "10,100,1000", "comma-separated numbers of jobs, one run each, in increasing order")
	fs.DurationVar(&o.duration, "duration", 30*time.Second, "how long each size runs (with -idle: the measurement window, default 60s)")
	fs.IntVar(&o.nodes, "nodes", 3, "nodes (each with its own store client) per size")
	fs.DurationVar(&o.every, "every", time.Second, "the jobs' schedule, @every this")
	fs.BoolVar(&o.idle, "idle", false, "measure an idle daemon instead")
	stores := fs.String("idle-stores", "memory,datastore", "with -idle: the stores to run the daemon on, in order (memory, datastore, postgres)")
	fs.StringVar(&o.cpuProfile, "cpuprofile", "", "write a CPU profile of this process to `file` (scale run)")
	fs.BoolVar(&o.balance, "balance", true, "share the jobs out among the nodes (a Membership per node, as BALANCE=true)")
	fs.DurationVar(&o.memberPeriod, "member-period", 2*time.Second, "with -balance: the member records' renewal period (as MEMBER_PERIOD)")
	fs.StringVar(&o.store, "store", "datastore", "the scale run's store: `datastore` (the emulator, in a child process) or postgres (a throwaway cluster, started with .ci/postgres.sh, fsync on)")
	fs.BoolVar(&o.churn, "churn", false, "a node joins at a third of each size's run and node0 leaves gracefully at two thirds (default -duration 60s)")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if (o.idle || o.churn) && !set["duration"] {
		o.duration = 60 * time.Second
	}
	for _, s := range strings.Split(*jobs, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 {
			return o, fmt.Errorf("-jobs: %q is not a positive number", s)
		}
		o.jobs = append(o.jobs, n)
	}
	if !slices.IsSorted(o.jobs) {
		return o, errors.New("-jobs: sizes must be in increasing order (peak RSS is over the process's life)")
	}
	for _, s := range strings.Split(*stores, ",") {
		switch s = strings.TrimSpace(s); s {
		case "memory", "datastore", "postgres":
			o.idleStores = append(o.idleStores, s)
		default:
			return o, fmt.Errorf("-idle-stores: unknown store %q (memory, datastore, postgres)", s)
		}
	}
	switch {
	case o.nodes < 1:
		return o, errors.New("-nodes must be at least 1")
	case o.duration <= 0:
		return o, errors.New("-duration must be positive")
	case o.every < 10*time.Millisecond || o.every%time.Millisecond != 0:
		return o, errors.New("-every must be a whole number of milliseconds, at least 10ms")
	case o.memberPeriod < 500*time.Millisecond || o.memberPeriod > time.Minute:
		return o, errors.New("-member-period must be from 500ms to 1m (as MEMBER_PERIOD)")
	case o.churn && o.idle:
		return o, errors.New("-churn is for the scale run, not -idle")
	case o.churn && o.duration < 12*time.Second:
		return o, errors.New("-churn needs a -duration of at least 12s")
	case o.store != "datastore" && o.store != "postgres":
		return o, fmt.Errorf("-store: unknown store %q (datastore, postgres)", o.store)
	}
	return o, nil
}

// run is the command; args exclude the program name.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	switch {
	case o.role == "emulator":
		return emulator.Main(ctx, []string{"--host-port=" + o.addr, "--project=" + project}, stdout, stderr)
	case o.role != "":
		return fmt.Errorf("-role: unknown role %q", o.role)
	case o.idle:
		return runIdle(ctx, o, stdout, stderr)
	}
	if o.cpuProfile != "" {
		f, err := os.Create(o.cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	return runScale(ctx, o, stdout, stderr)
}
