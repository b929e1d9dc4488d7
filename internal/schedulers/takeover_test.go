package schedulers

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/rs/zerolog"

	"go-leader-election/internal/schedule"
	"go-leader-election/store"
	"go-leader-election/store/memory"
)

// A holder that dies (its store calls stop reaching the store) at any point
// of a run, with the default Timing: what it costs its peers. These are the
// goals of the crash-takeover work, on synthetic time; e2e/crash_test.go
// measures the same on real processes.
func TestCrashOfTheHolderCosts(t *testing.T) {
	cases := []struct {
		spec     string
		every    time.Duration
		run      time.Duration
		killAt   []time.Duration // after the start of a run
		maxLost  int             // ticks no node ran, from the kill on
		maxAfter time.Duration   // from the kill to the next run elsewhere
		maxLate  time.Duration   // that run's start minus its tick
	}{
		// The demo's defaults: no tick lost, the next runs at most 1s late.
		{"@every 10s", 10 * time.Second, 4 * time.Second,
			[]time.Duration{200 * time.Millisecond, 2 * time.Second, 3900 * time.Millisecond, 6 * time.Second},
			0, 0, time.Second},
		// Short ticks, short runs: at most one tick lost.
		{"@every 1s", time.Second, 800 * time.Millisecond,
			[]time.Duration{200 * time.Millisecond, 400 * time.Millisecond, 750 * time.Millisecond, 900 * time.Millisecond},
			1, 0, time.Second},
		// A run longer than its interval: it runs again elsewhere within 4s.
		{"@every 1s", time.Second, 3 * time.Second,
			[]time.Duration{200 * time.Millisecond, 1500 * time.Millisecond, 2900 * time.Millisecond},
			-1, 4 * time.Second, time.Second},
		// An hourly job killed in a 10s run: the next hour runs on time.
		{"@hourly", time.Hour, 10 * time.Second,
			[]time.Duration{5 * time.Second},
			0, 0, time.Second},
	}
	for _, tc := range cases {
		for _, at := range tc.killAt {
			t.Run(fmt.Sprintf("%s, %s runs, killed %s in", tc.spec, tc.run, at), func(t *testing.T) {
				synctest.Test(t, func(t *testing.T) {
					c := newCluster(t, tc.spec, tc.run)
					t0 := time.Now()
					for _, n := range []string{"a", "b", "c"} {
						c.start(n, 0)
					}
					// Kill the leader in its second run.
					second := c.rec.nextTick(t0, tc.spec, 2)
					time.Sleep(time.Until(second.Add(at)))
					rec, err := c.store.Get(t.Context(), "job")
					if err != nil {
						t.Fatal(err)
					}
					dead := rec.Node
					killed := time.Now()
					c.nodes[dead].store.down.Store(true)
					time.Sleep(tc.every*6 + tc.run)
					c.stopAll()

					runs := c.rec.sorted()
					seen := map[int64]runRecord{}
					for i, r := range runs {
						if _, dup := seen[r.tick.UnixNano()]; dup {
							t.Errorf("tick %s ran twice", r.tick.Format(time.TimeOnly))
						}
						seen[r.tick.UnixNano()] = r
						if i > 0 && r.start.Before(runs[i-1].end) {
							t.Errorf("runs overlap: %+v and %+v", runs[i-1], r)
						}
					}
					var after *runRecord
					lost := 0
					end := killed.Add(tc.every * 5)
					for tk := second.Add(tc.every); tk.Before(end); tk = tk.Add(tc.every) {
						r, ok := seen[tk.UnixNano()]
						if !ok {
							lost++
							continue
						}
						if after == nil {
							after = &r
						}
					}
					if after == nil {
						t.Fatalf("no run after the kill: %+v", runs)
					}
					if after.node == dead {
						t.Fatalf("the dead node ran tick %s", after.tick.Format(time.TimeOnly))
					}
					late := after.start.Sub(after.tick)
					since := after.start.Sub(killed)
					t.Logf("killed %s into the run: %d ticks lost, tick %s ran on %s %s late, %s after the kill",
						at, lost, after.tick.Format(time.TimeOnly), after.node, late, since)
					if tc.maxLost >= 0 && lost > tc.maxLost {
						t.Errorf("%d ticks lost, want at most %d", lost, tc.maxLost)
					}
					if tc.maxAfter > 0 && since > tc.maxAfter {
						t.Errorf("ran again %s after the kill, want within %s", since, tc.maxAfter)
					}
					if late > tc.maxLate {
						t.Errorf("the first run after the kill started %s after its tick, want within %s", late, tc.maxLate)
					}
				})
			})
		}
	}
}

// nextTick returns the n-th tick of spec after from.
func (r *recorder) nextTick(from time.Time, spec string, n int) time.Time {
	s, err := schedule.Parse(spec, "")
	if err != nil {
		panic(err)
	}
	for range n {
		from = s.Next(from)
	}
	return from
}

// writeCounter counts the lease writes (claims and renewals) that reach the
// store.
type writeCounter struct {
	*faultyStore
	mu     sync.Mutex
	writes []time.Time
}

func (w *writeCounter) Claim(ctx context.Context, req store.ClaimRequest) (store.Lease, error) {
	w.mu.Lock()
	w.writes = append(w.writes, time.Now())
	w.mu.Unlock()
	return w.faultyStore.Claim(ctx, req)
}

func (w *writeCounter) Renew(ctx context.Context, req store.RenewRequest) (store.Lease, error) {
	w.mu.Lock()
	w.writes = append(w.writes, time.Now())
	w.mu.Unlock()
	return w.faultyStore.Renew(ctx, req)
}

// TestRunsWriteTheirLeaseAtMostOncePerSecond: Datastore sustains about one
// write per second per entity. A run that ends within its claim writes
// nothing more; a run that outlasts it is written about once per
// RetryPeriod (1s), tick writes included. (At @every 1s the claim's trust
// ends at the next tick, so the first second holds the claim and one
// renewal: 12 writes in a 10s run, the tick-10 claim at its end included.)
func TestRunsWriteTheirLeaseAtMostOncePerSecond(t *testing.T) {
	for _, tc := range []struct {
		spec      string
		run       time.Duration
		maxWrites int // over the run, the claim included
	}{
		{"@every 10s", 4 * time.Second, 1},
		{"@every 1m", 30 * time.Second, 30},
		{"@every 1s", 10 * time.Second, 12},
		{"@every 10s", 25 * time.Second, 25},
	} {
		t.Run(fmt.Sprintf("%s, %s run", tc.spec, tc.run), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				sched, err := schedule.Parse(tc.spec, "")
				if err != nil {
					t.Fatal(err)
				}
				rec := &recorder{}
				w := &writeCounter{faultyStore: &faultyStore{Store: memory.New()}}
				s, err := New(Config{
					Job: rec.job("a", func() time.Duration { return tc.run }), Spec: tc.spec, Schedule: sched,
					Store: w, Identity: NewIdentity("a"), Timing: DefaultTiming(), Log: zerolog.Nop(),
				})
				if err != nil {
					t.Fatal(err)
				}
				ctx, cancel := context.WithCancel(context.Background())
				done := make(chan struct{})
				go func() { defer close(done); s.Run(ctx) }()
				first := sched.Next(time.Now())
				time.Sleep(time.Until(first.Add(tc.run + 100*time.Millisecond)))
				cancel()
				<-done
				runs := rec.sorted()
				if len(runs) == 0 || runs[0].err != nil {
					t.Fatalf("runs %+v, want the first to end well", runs)
				}
				n := 0
				for _, at := range w.writes {
					if !at.Before(runs[0].start.Add(-time.Millisecond)) && !at.After(runs[0].end) {
						n++
					}
				}
				perSecond := float64(n) / runs[0].end.Sub(runs[0].start).Seconds()
				t.Logf("%d lease writes during a %s run (%.2f per second)", n, tc.run, perSecond)
				if n > tc.maxWrites {
					t.Errorf("%d lease writes during the run, want at most %d", n, tc.maxWrites)
				}
			})
		})
	}
}
