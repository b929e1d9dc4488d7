package schedulers

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/rs/zerolog"

	"go-leader-election/internal/balance"
	"go-leader-election/jobs"
	"go-leader-election/store"
	"go-leader-election/store/memory"
)

// downableMembers is a node's view of the member registry: down, like
// faultyStore, makes every call fail (the node has died).
type downableMembers struct {
	store.Members
	f *faultyStore
}

func (d downableMembers) PutMember(ctx context.Context, m store.Member) (store.Member, error) {
	if d.f.down.Load() {
		return store.Member{}, errInjected
	}
	return d.Members.PutMember(ctx, m)
}

func (d downableMembers) ListMembers(ctx context.Context) ([]store.Member, []error, error) {
	if d.f.down.Load() {
		return nil, nil, errInjected
	}
	return d.Members.ListMembers(ctx)
}

func (d downableMembers) DeleteMember(ctx context.Context, id string) error {
	if d.f.down.Load() {
		return errInjected
	}
	return d.Members.DeleteMember(ctx, id)
}

// balanced is a cluster of nodes running several jobs with balance on.
type balanced struct {
	t     *testing.T
	every time.Duration
	st    *memory.Store
	names []string
	log   *syncBuffer
	mu    sync.Mutex
	runs  []balancedRun
	nodes map[string]*balancedNode
}

type balancedRun struct {
	job, node  string
	tick       time.Time
	start, end time.Time
}

type balancedNode struct {
	store  *faultyStore
	cancel context.CancelFunc
	done   chan struct{}
}

func newBalanced(t *testing.T, jobCount int) *balanced {
	b := &balanced{t: t, every: time.Second, st: memory.New(), log: &syncBuffer{}, nodes: map[string]*balancedNode{}}
	for i := range jobCount {
		b.names = append(b.names, fmt.Sprintf("job%d", i))
	}
	t.Cleanup(func() {
		for _, n := range b.nodes {
			n.cancel()
			<-n.done
		}
		if t.Failed() {
			t.Logf("logs:\n%s", b.log.String())
		}
	})
	return b
}

func (b *balanced) start(name string, run time.Duration) {
	n := &balancedNode{store: &faultyStore{Store: b.st}, done: make(chan struct{})}
	id := NewIdentity(name)
	log := zerolog.New(b.log).Hook(timeHook{})
	ms, err := balance.NewMembership(balance.MembershipConfig{Store: downableMembers{b.st, n.store}, Self: id.Member(), Jobs: b.names,
		Period: 2 * time.Second, Started: time.Now(), Log: log})
	if err != nil {
		b.t.Fatal(err)
	}
	var scheduled []Scheduled
	for _, j := range b.names {
		job := jobs.Job{Name: j, Run: func(ctx context.Context) error {
			tok, _ := jobs.TokenFrom(ctx)
			r := balancedRun{job: j, node: name, tick: tok.Tick, start: time.Now()}
			timer := time.NewTimer(run)
			select {
			case <-ctx.Done():
			case <-timer.C:
			}
			timer.Stop()
			r.end = time.Now()
			b.mu.Lock()
			b.runs = append(b.runs, r)
			b.mu.Unlock()
			return nil
		}}
		scheduled = append(scheduled, Scheduled{Job: job, Spec: "@every " + b.every.String(), Schedule: Every(b.every)})
	}
	g, err := NewGroup(GroupConfig{Jobs: scheduled, Store: n.store, Identity: id, Timing: DefaultTiming(), Log: log, Membership: ms})
	if err != nil {
		b.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	n.cancel = cancel
	go func() { defer close(n.done); g.Run(ctx) }()
	b.nodes[name] = n
}

func (b *balanced) stop(name string) { b.nodes[name].cancel(); <-b.nodes[name].done }

// ranIn returns, per node, the jobs it ran with ticks in [from, to].
func (b *balanced) ranIn(from, to time.Time) map[string]map[string]bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := map[string]map[string]bool{}
	for _, r := range b.runs {
		if r.tick.Before(from) || r.tick.After(to) {
			continue
		}
		if out[r.node] == nil {
			out[r.node] = map[string]bool{}
		}
		out[r.node][r.job] = true
	}
	return out
}

// check asserts every job ran every tick in [from, to] exactly once, and no
// two runs of a job overlapped.
func (b *balanced) check(from, to time.Time, lost ...string) {
	b.t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	allowed := map[string]bool{}
	for _, l := range lost {
		allowed[l] = true
	}
	for _, j := range b.names {
		var runs []balancedRun
		count := map[int64]int{}
		for _, r := range b.runs {
			if r.job == j {
				runs = append(runs, r)
				count[r.tick.UnixNano()]++
			}
		}
		sort.Slice(runs, func(x, y int) bool { return runs[x].start.Before(runs[y].start) })
		for i := 1; i < len(runs); i++ {
			if runs[i].start.Before(runs[i-1].end) {
				b.t.Errorf("%s: runs overlap: %+v and %+v", j, runs[i-1], runs[i])
			}
		}
		for tk := from; !tk.After(to); tk = tk.Add(time.Second) {
			key := j + " " + tk.Format(time.TimeOnly)
			if c := count[tk.UnixNano()]; c != 1 && !(c == 0 && allowed[key]) {
				b.t.Errorf("%s ran %d times", key, c)
			}
		}
	}
}

// TestJobsShareThemselvesOut is the acceptance run on synthetic time:
// n0 alone runs both jobs; n1 joins and each runs one; n2 joins and no node
// runs both; n0 leaves gracefully and the two left run one each; no tick is
// run twice or lost throughout.
func TestJobsShareThemselvesOut(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := newBalanced(t, 2)
		t0 := time.Now()
		at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
		b.start("n0", 200*time.Millisecond)
		time.Sleep(5 * time.Second)
		if ran := b.ranIn(at(1), at(5)); len(ran["n0"]) != 2 {
			t.Fatalf("n0 alone ran %v, want both jobs", ran)
		}
		b.start("n1", 200*time.Millisecond)
		time.Sleep(15 * time.Second) // n1 joins at 5s
		if ran := b.ranIn(at(15), at(20)); len(ran["n0"]) != 1 || len(ran["n1"]) != 1 {
			t.Fatalf("10s after n1 joined: %v, want one job each", ran)
		}
		b.start("n2", 200*time.Millisecond)
		time.Sleep(15 * time.Second) // n2 joins at 20s
		for node, js := range b.ranIn(at(30), at(35)) {
			if len(js) > 1 {
				t.Fatalf("10s after n2 joined, %s runs %v", node, js)
			}
		}
		// The leader of job0 leaves gracefully.
		leader := ""
		for node, js := range b.ranIn(at(33), at(35)) {
			if js["job0"] {
				leader = node
			}
		}
		b.stop(leader)
		time.Sleep(10*time.Second + 500*time.Millisecond) // stopped at 35s
		ran := b.ranIn(at(44), at(45))
		if len(ran) != 2 {
			t.Fatalf("10s after %s left: %v, want the two left running one job each", leader, ran)
		}
		for _, n := range []string{"n0", "n1", "n2"} {
			if n != leader {
				b.stop(n)
			}
		}
		b.check(at(1), at(45))
		if got := b.log.count("Handing over"); got < 2 {
			t.Errorf("%d Handing over events, want at least 2", got)
		}
	})
}

// TestACrashedMembersJobsSpread: a node that dies (its store calls fail)
// has its jobs taken over; with four jobs on three nodes its two jobs go to
// the two others, not both to one; nothing runs twice.
func TestACrashedMembersJobsSpread(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := newBalanced(t, 4)
		t0 := time.Now()
		at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
		for _, n := range []string{"n0", "n1", "n2"} {
			b.start(n, 100*time.Millisecond)
		}
		time.Sleep(20 * time.Second)
		ran := b.ranIn(at(18), at(20))
		for node, js := range ran {
			if len(js) > 2 {
				t.Fatalf("%s runs %v, more than its share of 2", node, js)
			}
		}
		dead := ""
		for node, js := range ran {
			if len(js) == 2 {
				dead = node
			}
		}
		if dead == "" {
			t.Fatalf("no node runs two of the four jobs: %v", ran)
		}
		b.nodes[dead].store.down.Store(true)
		time.Sleep(20 * time.Second)
		after := b.ranIn(at(35), at(40))
		if len(after[dead]) != 0 {
			t.Fatalf("the dead node still ran: %v", after)
		}
		for node, js := range after {
			if len(js) != 2 {
				t.Errorf("after %s died, %s runs %v, want 2 of the 4 jobs", dead, node, js)
			}
		}
		for _, n := range []string{"n0", "n1", "n2"} {
			if n != dead {
				b.stop(n)
			}
		}
		b.nodes[dead].cancel()
		<-b.nodes[dead].done
		b.mu.Lock()
		seen := map[string]bool{}
		for _, r := range b.runs {
			k := r.job + r.tick.String()
			if seen[k] {
				t.Errorf("%s ran twice", k)
			}
			seen[k] = true
		}
		b.mu.Unlock()
	})
}

// TestCrashWithBalanceIsTakenOverOnTime: with balance on, the crash-takeover
// figures hold (@every 10s, 4s runs, the leader dies 2s into a run): the
// next tick runs elsewhere within 1s of its time.
func TestCrashWithBalanceIsTakenOverOnTime(t *testing.T) {
	for _, at := range []time.Duration{500 * time.Millisecond, 2 * time.Second, 7 * time.Second} {
		t.Run(at.String(), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				b := newBalanced(t, 2)
				b.every = 10 * time.Second
				t0 := time.Now()
				for _, n := range []string{"n0", "n1", "n2"} {
					b.start(n, 4*time.Second)
				}
				time.Sleep(time.Until(t0.Add(40*time.Second + at)))
				rec, err := b.st.Get(t.Context(), "job0")
				if err != nil {
					t.Fatal(err)
				}
				b.nodes[rec.Node].store.down.Store(true)
				time.Sleep(15 * time.Second)
				b.mu.Lock()
				defer b.mu.Unlock()
				for _, r := range b.runs {
					if r.job == "job0" && r.tick.Equal(t0.Add(50*time.Second)) {
						if late := r.start.Sub(r.tick); late > time.Second || r.node == rec.Node {
							t.Errorf("tick 50s ran on %s %s late; its leader %s died %s into the run", r.node, late, rec.Node, at)
						}
						return
					}
				}
				t.Errorf("tick 50s of job0 did not run; its leader %s died %s into the run", rec.Node, at)
			})
		})
	}
}
