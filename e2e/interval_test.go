package e2e

import (
	"syscall"
	"testing"
	"time"
)

// TestKillAtTenSecondInterval: at @every 10s a leader's kill -9 costs no
// tick; the next one runs late, within the grace.
func TestKillAtTenSecondInterval(t *testing.T) {
	if testing.Short() {
		t.Skip("starts real processes for about 25 seconds")
	}
	c := newCluster(t, "GO_PREACHER_SCHEDULE=@every 10s", "SCALA_PREACHER_SCHEDULE=@every 10s")
	for _, n := range []string{"alpha", "bravo", "charlie"} {
		<-c.start(n).port
	}
	first := c.waitEvent("a first run", time.Time{}, 15*time.Second, func(ev event) bool {
		return ev.Message == "Finished" && ev.Job == "go_preacher"
	})
	c.mu.Lock()
	p := c.procs[first.Instance]
	c.mu.Unlock()
	c.signal(p, syscall.SIGKILL, "kill -9 leader", "go_preacher")
	next := first.Tick.Add(10 * time.Second)
	run := c.waitEvent("the next tick's run", time.Time{}, 15*time.Second, func(ev event) bool {
		return ev.Message == "Running" && ev.Job == "go_preacher" && ev.Tick.Equal(next)
	})
	if run.Instance == p.instance {
		t.Fatalf("the killed process ran tick %s", next)
	}
	late := run.Time.Sub(next)
	t.Logf("kill -9 at @every 10s: tick %s ran on %s, %s late", next.Format(time.TimeOnly), run.Node, late.Round(time.Millisecond))
	if late > time.Second {
		t.Errorf("the dead leader's next tick ran %s late, want within the grace (500ms) plus a read", late)
	}
	c.stopAll()
	events, faults, procs := c.snapshot()
	v := judge(events, faults, procs, first.Tick, next, 10*time.Second, time.Now())
	v.assertSafe(t)
	if v.totalMissed() > 0 {
		t.Errorf("missed ticks: %v", v.missed)
	}
}
