package schedulers

import (
	"errors"
	"fmt"
	"testing"
	"testing/synctest"
	"time"

	"go-leader-election/store"
)

func TestTenSchedulersRunEachTickOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newCluster(t, "@every 1s", 300*time.Millisecond)
		t0 := time.Now()
		for i := range 10 {
			c.start(fmt.Sprintf("n%d", i), 0)
		}
		const ticks = 100
		time.Sleep(ticks*time.Second + 500*time.Millisecond)
		c.stopAll()
		runs := c.checkRuns(t0.Add(time.Second), t0.Add(ticks*time.Second), time.Second)
		if len(runs) != ticks {
			t.Fatalf("%d runs, want %d", len(runs), ticks)
		}
		if got := c.log.count("Sitting out"); got != 9*ticks {
			t.Errorf("%d Sitting out events, want 9 per tick (%d)", got, 9*ticks)
		}
	})
}

func TestFailoverRunsTheDeadLeadersTickLate(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newCluster(t, "@every 10s", 100*time.Millisecond)
		t0 := time.Now()
		c.start("a", 0)
		c.start("b", 0)
		c.start("c", 0)
		time.Sleep(25 * time.Second) // ticks 10s and 20s run on the leader
		leader, _ := runOf(c.rec.sorted(), t0.Add(20*time.Second))
		c.nodes[leader.node].store.down.Store(true) // it dies: its calls never reach the store
		time.Sleep(40 * time.Second)
		c.stopAll()

		runs := c.checkRuns(t0.Add(10*time.Second), t0.Add(60*time.Second), 10*time.Second)
		late, _ := runOf(runs, t0.Add(30*time.Second))
		if late.node == leader.node {
			t.Fatalf("tick 30s ran on the dead node")
		}
		timing := DefaultTiming()
		if lag := late.start.Sub(t0.Add(30 * time.Second)); lag <= 0 || lag > timing.Grace+timing.FollowerDelay {
			t.Errorf("the dead leader's tick ran %s late, want within Grace+FollowerDelay (%s)", lag, timing.Grace+timing.FollowerDelay)
		}
		next, _ := runOf(runs, t0.Add(40*time.Second))
		if next.node != late.node || next.term != late.term || next.start.Sub(t0.Add(40*time.Second)) > 0 {
			t.Errorf("tick 40s: %+v, want the new leader %s, same term, on time", next, late.node)
		}
		if late.term != leader.term+1 {
			t.Errorf("term after failover = %d, want %d", late.term, leader.term+1)
		}
	})
}

func TestForbidSkipsTicksWhileRunning(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newCluster(t, "@every 1s", 2500*time.Millisecond)
		t0 := time.Now()
		c.start("a", 0)
		c.start("b", 0)
		time.Sleep(9*time.Second + 900*time.Millisecond)
		c.stopAll()
		// Ticks 1, 4, 7 run; 2, 3, 5, 6, 8, 9 are skipped by the runner and
		// run by nobody.
		s := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Second) }
		runs := c.checkRuns(s(1), s(9), time.Second, s(2), s(3), s(5), s(6), s(8), s(9))
		for _, r := range runs {
			if r.err != nil {
				t.Errorf("run of %s ended with %v", r.tick.Format(time.TimeOnly), r.err)
			}
		}
		if got := c.log.count("Skipped"); got != 6 {
			t.Errorf("%d Skipped events, want 6", got)
		}
	})
}

func TestLeaseLostMidRunCancelsTheJob(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newCluster(t, "@every 1m", time.Hour)
		t0 := time.Now()
		a := c.start("a", 0)
		// a runs tick 1m; its claim (until 2m + Grace) is trusted until
		// about 1m40s, when renewals begin.
		time.Sleep(time.Minute + 50*time.Second)
		a.store.renewsFail.Store(true)
		c.start("b", 0)
		time.Sleep(3 * time.Minute)
		c.stopAll()

		runs := c.rec.sorted()
		if len(runs) < 2 {
			t.Fatalf("runs = %+v, want a's cancelled run and later runs", runs)
		}
		first := runs[0]
		if first.node != "a" || !errors.Is(first.err, errLostLeadership) {
			t.Fatalf("first run = %+v, want a's run cancelled with lost leadership", first)
		}
		timing := DefaultTiming()
		failedFrom := t0.Add(time.Minute + 50*time.Second)
		if limit := failedFrom.Add(timing.RenewDeadline); first.end.After(limit) {
			t.Errorf("a's run ended at %s, after its renew deadline %s", first.end.Format(time.TimeOnly), limit.Format(time.TimeOnly))
		}
		for _, r := range runs[1:] {
			if r.start.Before(first.end) {
				t.Errorf("%s started tick %s before a's run ended", r.node, r.tick.Format(time.TimeOnly))
			}
		}
		if c.log.count("Lost leadership") < 1 {
			t.Errorf("no Lost leadership event")
		}
	})
}

func TestReleaseOnShutdownHandsOverTheNextTickOnTime(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newCluster(t, "@every 1s", 200*time.Millisecond)
		t0 := time.Now()
		a := c.start("a", 0)
		time.Sleep(1500 * time.Millisecond) // a claims tick 1 alone, and leads
		c.start("b", 0)
		time.Sleep(3600 * time.Millisecond) // a runs 2..5; tick 5 is running
		a.stop()                            // waits for the run, releases
		time.Sleep(5 * time.Second)
		c.stopAll()
		runs := c.checkRuns(t0.Add(time.Second), t0.Add(10*time.Second), time.Second)
		r6, _ := runOf(runs, t0.Add(6*time.Second))
		if r6.node != "b" {
			t.Fatalf("tick 6 ran on %q, want b", r6.node)
		}
		if lag := r6.start.Sub(r6.tick); lag > DefaultTiming().FollowerDelay {
			t.Errorf("tick 6 ran %s late after a graceful handover, want at most FollowerDelay", lag)
		}
		if c.log.count("Released") != 2 {
			t.Errorf("%d Released events, want 2 (a, then b)", c.log.count("Released"))
		}
	})
}

func TestSkewedClocksNeverRunATickTwice(t *testing.T) {
	for _, leader := range []time.Duration{700 * time.Millisecond, -700 * time.Millisecond} {
		t.Run(fmt.Sprintf("leader offset %s", leader), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				c := newCluster(t, "@every 1s", 400*time.Millisecond)
				t0 := time.Now()
				a := c.start("a", leader)
				time.Sleep(100 * time.Millisecond)
				c.start("b", -leader)
				c.start("c", 0)
				time.Sleep(30 * time.Second)
				a.store.down.Store(true) // and the skewed leader dies
				time.Sleep(30 * time.Second)
				c.stopAll()
				runs := c.rec.sorted()
				seen := map[int64]string{}
				for i, r := range runs {
					if prev, dup := seen[r.tick.UnixNano()]; dup {
						t.Errorf("tick %s ran on %s and %s", r.tick.Format(time.TimeOnly), prev, r.node)
					}
					seen[r.tick.UnixNano()] = r.node
					if i > 0 && r.start.Before(runs[i-1].end) {
						t.Errorf("runs overlap: %+v and %+v", runs[i-1], r)
					}
				}
				// At most one tick is lost to the leader's death.
				if missed := 60 - len(runs); missed > 2 {
					t.Errorf("%d runs of ~60 ticks: %d missed", len(runs), missed)
				}
				_ = t0
			})
		})
	}
}

// A lease naming a holder that never existed (or died before anyone saw
// it) is taken over once it has lapsed by the node's own observation.
func TestGhostHolderIsTakenOverAfterItsTTL(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newCluster(t, "@every 1s", 100*time.Millisecond)
		t0 := time.Now()
		ghost, err := c.store.Claim(t.Context(), store.ClaimRequest{
			Job: "job", Holder: "ghost/0", Node: "ghost", Tick: t0.Add(-time.Hour), TTL: 3 * time.Second, Now: t0,
		})
		if err != nil {
			t.Fatal(err)
		}
		c.start("a", 0)
		time.Sleep(6*time.Second + 500*time.Millisecond)
		c.stopAll()
		// Seen at the node's start, as it looks back at tick 0 (catchup.go),
		// the ghost's 3 s lapse at 3 s: ticks 1-2 are not run, tick 3 runs
		// on time (its read at 3.05 s sees the lapse), ticks 4-6 too.
		s := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Second) }
		runs := c.checkRuns(s(1), s(6), time.Second, s(1), s(2))
		if runs[0].term != ghost.Term+1 {
			t.Errorf("term after the takeover = %d, want %d", runs[0].term, ghost.Term+1)
		}
	})
}
