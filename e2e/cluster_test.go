package e2e

import (
	"context"
	"testing"
	"time"
)

// TestThreeNodeCluster is the Datastore issue's acceptance check: the
// binary's emulator and three daemons, both jobs @every 1s, PREACHER_TIMES=1,
// for 20 s: no tick twice, at least 90 % of ticks run, followers sit out,
// and every node's /jobs names the node that actually runs each job.
func TestThreeNodeCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("starts real processes for about 25 seconds")
	}
	threeNodes(t, newCluster(t, "PREACHER_TIMES=1"))
}

// threeNodes runs the acceptance check on c, and returns the node that ran
// each job's latest run.
func threeNodes(t *testing.T, c *cluster) map[string]string {
	nodes := map[string]int{}
	for _, n := range []string{"alpha", "bravo", "charlie"} {
		nodes[n] = <-c.start(n).port
	}
	from := time.Now().Truncate(time.Second).Add(2 * time.Second)
	time.Sleep(20 * time.Second)
	to := time.Now().Truncate(time.Second).Add(-time.Second)

	events, _, _ := c.snapshot()
	runner := map[string]string{} // job -> node of its latest run
	sitting := map[string]bool{}
	for _, ev := range events {
		switch ev.Message {
		case "Running":
			runner[ev.Job] = ev.Node
		case "Sitting out":
			sitting[ev.Node] = true
		}
	}
	for node, port := range nodes {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		view, err := jobsView(ctx, port)
		cancel()
		if err != nil {
			t.Fatalf("/jobs on %s: %v", node, err)
		}
		for _, job := range sortedKeys(runner) {
			if view[job] != runner[job] {
				t.Errorf("%s's /jobs names %q as %s's leader; %s runs it", node, view[job], job, runner[job])
			}
		}
	}
	if len(sitting) < 2 {
		t.Errorf("Sitting out logged by %v, want the followers of both jobs", sortedKeys(sitting))
	}

	c.stopAll()
	events, faults, procs := c.snapshot()
	v := judge(events, faults, procs, from, to, time.Second, time.Now())
	ticks := 0
	for tk := from; !tk.After(to); tk = tk.Add(time.Second) {
		ticks += 2
	}
	ran := ticks - v.totalMissed()
	t.Logf("3 nodes, 20 s: %d of %d job-ticks ran, %d twice, %d overlapping", ran, ticks, len(v.twice), len(v.overlaps))
	v.assertSafe(t)
	if ran*10 < ticks*9 {
		t.Errorf("%d of %d job-ticks ran, want at least 90%%", ran, ticks)
	}
	return runner
}
