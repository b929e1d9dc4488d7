package schedulers

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"go-leader-election/clock"
	"go-leader-election/internal/schedule"
	"go-leader-election/jobs"
	"go-leader-election/store"
	"go-leader-election/store/memory"
)

// These tests run inside testing/synctest bubbles: time is synthetic and
// advances only when every goroutine waits, so a minute of protocol takes
// microseconds and no test sleeps on the wall clock.

type runRecord struct {
	node       string
	tick       time.Time
	term       int64
	start, end time.Time
	err        error
}

// recorder is the job every node runs: it records each run and lasts d, or
// until its context ends.
type recorder struct {
	mu   sync.Mutex
	runs []runRecord
}

func (r *recorder) job(node string, d func() time.Duration) jobs.Job {
	return jobs.Job{Name: "job", Run: func(ctx context.Context) error {
		tok, _ := jobs.TokenFrom(ctx)
		rec := runRecord{node: node, tick: tok.Tick, term: tok.Term, start: time.Now()}
		timer := time.NewTimer(d())
		select {
		case <-ctx.Done():
			rec.err = context.Cause(ctx)
		case <-timer.C:
		}
		timer.Stop()
		rec.end = time.Now()
		r.mu.Lock()
		r.runs = append(r.runs, rec)
		r.mu.Unlock()
		return rec.err
	}}
}

func (r *recorder) sorted() []runRecord {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := append([]runRecord(nil), r.runs...)
	sort.Slice(out, func(i, j int) bool { return out[i].start.Before(out[j].start) })
	return out
}

// faultyStore lets a test cut one node off the store.
type faultyStore struct {
	store.Store
	down       atomic.Bool // every call fails, as for a dead or partitioned node
	renewsFail atomic.Bool
}

var errInjected = errors.New("injected store failure")

func (f *faultyStore) Get(ctx context.Context, job string) (store.Lease, error) {
	if f.down.Load() {
		return store.Lease{}, errInjected
	}
	return f.Store.Get(ctx, job)
}

func (f *faultyStore) Claim(ctx context.Context, req store.ClaimRequest) (store.Lease, error) {
	if f.down.Load() {
		return store.Lease{}, errInjected
	}
	return f.Store.Claim(ctx, req)
}

func (f *faultyStore) Renew(ctx context.Context, req store.RenewRequest) (store.Lease, error) {
	if f.down.Load() || f.renewsFail.Load() {
		return store.Lease{}, errInjected
	}
	return f.Store.Renew(ctx, req)
}

func (f *faultyStore) Release(ctx context.Context, req store.ReleaseRequest) error {
	if f.down.Load() {
		return errInjected
	}
	return f.Store.Release(ctx, req)
}

type node struct {
	name   string
	store  *faultyStore
	sched  *Scheduler
	cancel context.CancelFunc
	done   chan struct{}
}

type cluster struct {
	t     *testing.T
	store store.Store
	rec   *recorder
	spec  string
	dur   func() time.Duration
	log   *syncBuffer
	nodes map[string]*node
	// policy is every node's job policy; jobFor, if set, replaces the
	// recorder's job (policies_test.go).
	policy Policy
	jobFor func(node string) jobs.Job
}

func newCluster(t *testing.T, spec string, jobDuration time.Duration) *cluster {
	c := &cluster{t: t, store: memory.New(), rec: &recorder{}, spec: spec,
		dur: func() time.Duration { return jobDuration }, log: &syncBuffer{}, nodes: map[string]*node{}}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("logs:\n%s", c.log.String())
		}
	})
	return c
}

func (c *cluster) start(name string, offset time.Duration) *node {
	return c.startOn(name, offset, c.store)
}

// startOn starts a node whose store calls go to st (the cluster's store,
// or a wrapper around it).
func (c *cluster) startOn(name string, offset time.Duration, st store.Store) *node {
	sched, err := schedule.Parse(c.spec, "")
	if err != nil {
		c.t.Fatal(err)
	}
	n := &node{name: name, store: &faultyStore{Store: st}, done: make(chan struct{})}
	timing := DefaultTiming()
	job := c.rec.job(name, c.dur)
	if c.jobFor != nil {
		job = c.jobFor(name)
	}
	n.sched, err = New(Config{
		Job: job, Spec: c.spec, Schedule: sched, Store: n.store,
		Clock: clock.Offset(clock.Real{}, offset), Identity: NewIdentity(name), Timing: timing,
		Log: zerolog.New(c.log).Hook(timeHook{}), Policy: c.policy,
	})
	if err != nil {
		c.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	n.cancel = cancel
	go func() { defer close(n.done); n.sched.Run(ctx) }()
	c.nodes[name] = n
	return n
}

// stop shuts a node down gracefully and waits for it.
func (n *node) stop() { n.cancel(); <-n.done }

// stopAll shuts every node down at once, and waits for them all.
func (c *cluster) stopAll() {
	for _, n := range c.nodes {
		n.cancel()
	}
	for _, n := range c.nodes {
		<-n.done
	}
}

// checkRuns asserts that each tick in [first, last] ran exactly once, except
// those in missing, and that no two runs overlapped.
func (c *cluster) checkRuns(first, last time.Time, every time.Duration, missing ...time.Time) []runRecord {
	c.t.Helper()
	runs := c.rec.sorted()
	count := map[int64]int{}
	for i, r := range runs {
		count[r.tick.UnixNano()]++
		if !r.start.Before(r.tick.Add(every)) {
			c.t.Errorf("tick %s started at %s, after its following tick", r.tick.Format(time.TimeOnly), r.start.Format(time.StampMilli))
		}
		if i > 0 && r.start.Before(runs[i-1].end) {
			c.t.Errorf("overlap: %s ran tick %s from %s while %s ran tick %s until %s",
				r.node, r.tick.Format(time.TimeOnly), r.start.Format(time.StampMilli),
				runs[i-1].node, runs[i-1].tick.Format(time.TimeOnly), runs[i-1].end.Format(time.StampMilli))
		}
	}
	skip := map[int64]bool{}
	for _, m := range missing {
		skip[m.UnixNano()] = true
	}
	for tk := first; !tk.After(last); tk = tk.Add(every) {
		want := 1
		if skip[tk.UnixNano()] {
			want = 0
		}
		if got := count[tk.UnixNano()]; got != want {
			c.t.Errorf("tick %s ran %d times, want %d", tk.Format(time.TimeOnly), got, want)
		}
		delete(count, tk.UnixNano())
	}
	for tk, n := range count {
		c.t.Errorf("tick %s outside [%s, %s] ran %d times", time.Unix(0, tk).UTC().Format(time.TimeOnly), first.Format(time.TimeOnly), last.Format(time.TimeOnly), n)
	}
	return runs
}

func runOf(runs []runRecord, tick time.Time) (runRecord, bool) {
	for _, r := range runs {
		if r.tick.Equal(tick) {
			return r, true
		}
	}
	return runRecord{}, false
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func (s *syncBuffer) count(msg string) int {
	return bytes.Count([]byte(s.String()), []byte(fmt.Sprintf(`"message":%q`, msg)))
}

// timeHook stamps events with the bubble's time, to the millisecond.
type timeHook struct{}

func (timeHook) Run(e *zerolog.Event, _ zerolog.Level, _ string) {
	e.Str("time", time.Now().UTC().Format("15:04:05.000"))
}
