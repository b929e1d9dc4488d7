package e2e

import (
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestBalance is the balance issue's acceptance run on real processes: n0
// alone runs both jobs; n1 joins and within 10s each node runs one; n2
// joins and within 10s no node runs both; go_preacher's leader gets
// SIGTERM and within 10s the two left run one job each. Judged from the
// Running events: no tick run twice, no tick lost.
func TestBalance(t *testing.T) {
	if testing.Short() {
		t.Skip("starts real processes for about 50 seconds")
	}
	c := newCluster(t, "PREACHER_TIMES=1")
	// ran returns, per node name, the jobs it ran with ticks in [from, to].
	ran := func(from, to time.Time) map[string]map[string]bool {
		events, _, _ := c.snapshot()
		out := map[string]map[string]bool{}
		for _, ev := range events {
			if ev.Message == "Running" && !ev.Tick.Before(from) && !ev.Tick.After(to) {
				if out[ev.Node] == nil {
					out[ev.Node] = map[string]bool{}
				}
				out[ev.Node][ev.Job] = true
			}
		}
		return out
	}
	// within waits up to limit for ok to hold of the runs of the last 3 ticks.
	within := func(what string, limit time.Duration, ok func(map[string]map[string]bool) bool) {
		t.Helper()
		deadline := time.Now().Add(limit)
		for {
			now := time.Now().Truncate(time.Second)
			got := ran(now.Add(-3*time.Second), now)
			if ok(got) {
				t.Logf("%s: %v", what, got)
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: not within %s; the last ticks ran %v", what, limit, got)
			}
			time.Sleep(200 * time.Millisecond) // polling other processes' output
		}
	}
	oneEach := func(nodes ...string) func(map[string]map[string]bool) bool {
		return func(got map[string]map[string]bool) bool {
			if len(got) != len(nodes) {
				return false
			}
			for _, n := range nodes {
				if len(got[n]) != 1 {
					return false
				}
			}
			return true
		}
	}

	<-c.start("n0").port
	from := time.Now().Truncate(time.Second).Add(2 * time.Second)
	within("n0 alone runs both", 10*time.Second, func(got map[string]map[string]bool) bool { return len(got["n0"]) == 2 })
	c.mu.Lock()
	c.faults = append(c.faults, fault{kind: "n1 joins", at: time.Now()})
	c.mu.Unlock()
	<-c.start("n1").port
	within("n1 joined: one job each", 10*time.Second, oneEach("n0", "n1"))
	c.mu.Lock()
	c.faults = append(c.faults, fault{kind: "n2 joins", at: time.Now()})
	c.mu.Unlock()
	<-c.start("n2").port
	within("n2 joined: no node runs both", 10*time.Second, func(got map[string]map[string]bool) bool {
		for _, js := range got {
			if len(js) > 1 {
				return false
			}
		}
		return len(got) == 2
	})
	p := c.leader("go_preacher")
	c.signal(p, syscall.SIGTERM, "SIGTERM go_preacher's leader", "go_preacher")
	p.waitExit(t, 10*time.Second)
	var left []string
	for _, n := range []string{"n0", "n1", "n2"} {
		if n != p.node {
			left = append(left, n)
		}
	}
	within("after the SIGTERM: the two left run one job each", 10*time.Second, oneEach(left...))
	// A crash: kill -9 of one of the two; the last one runs both.
	c.mu.Lock()
	var victim *proc
	for _, q := range c.procs {
		if q.node == left[0] {
			victim = q
		}
	}
	c.mu.Unlock()
	c.signal(victim, syscall.SIGKILL, "kill -9 "+left[0], "")
	victim.waitExit(t, 5*time.Second)
	within("after the kill -9: the last one runs both", 15*time.Second, func(got map[string]map[string]bool) bool {
		return len(got) == 1 && len(got[left[1]]) == 2
	})
	v := c.finish(from, time.Second)
	var table strings.Builder
	table.WriteString("balance: n0 alone, n1 joins, n2 joins, SIGTERM of go_preacher's leader, kill -9 of another; both jobs @every 1s\n")
	v.print(&table)
	publish(t, table.String())
	v.assertSafe(t)
	for _, r := range v.rows {
		limit := 0 // a join or a graceful leave loses nothing
		if strings.HasPrefix(r.fault.kind, "kill -9") {
			limit = 1
		}
		if r.maxMissed() > limit {
			t.Errorf("%s: ticks lost: %s, want at most %d per job", r.fault.kind, r.missedText(), limit)
		}
	}
	events, _, _ := c.snapshot()
	handovers := 0
	for _, ev := range events {
		if ev.Message == "Handing over" {
			handovers++
		}
	}
	if handovers == 0 {
		t.Error("no Handing over event")
	}
}
