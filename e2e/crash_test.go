package e2e

import (
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestCrashMidRun: kill -9 of go_preacher's leader early in a run, in its
// middle, just before its end, and between runs, with the default timing,
// at @every 1s with 0.8s runs and at the demo's defaults (@every 10s, 4s
// runs). Each killed node is restarted before the next kill. The README's
// Guarantees table is this test's output.
func TestCrashMidRun(t *testing.T) {
	if testing.Short() {
		t.Skip("starts real processes for about 90 seconds")
	}
	cases := []struct {
		name     string
		every    time.Duration
		run      time.Duration
		env      []string
		maxLost  int
		maxLate  time.Duration
		leadTime time.Duration // how long after a kill the next run may come
	}{
		{"@every 1s, 0.8s runs", time.Second, 800 * time.Millisecond,
			[]string{"PREACHER_TIMES=5", "PREACHER_PAUSE=200ms"}, 1, time.Second, 5 * time.Second},
		{"@every 10s, 4s runs (the demo's defaults)", 10 * time.Second, 4 * time.Second,
			[]string{"GO_PREACHER_SCHEDULE=@every 10s", "SCALA_PREACHER_SCHEDULE=@every 10s", "PREACHER_TIMES=5", "PREACHER_PAUSE=1s"},
			0, time.Second, 15 * time.Second},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := newCluster(t, tc.env...)
			for _, n := range []string{"alpha", "bravo", "charlie"} {
				<-c.start(n).port
			}
			points := []struct {
				name string
				at   time.Duration
			}{
				{"early", tc.run / 8},
				{"middle", tc.run / 2},
				{"just before its end", tc.run - tc.run/16},
				{"between runs", tc.run + (tc.every-tc.run)/2},
			}
			var from time.Time
			for _, pt := range points {
				// A fresh run of go_preacher: its leader is the one to kill.
				run := c.waitEvent("a run of go_preacher", time.Now(), 2*tc.every+5*time.Second, func(ev event) bool {
					return ev.Message == "Running" && ev.Job == "go_preacher"
				})
				if from.IsZero() {
					from = run.Tick
				}
				c.mu.Lock()
				p := c.procs[run.Instance]
				c.mu.Unlock()
				time.Sleep(time.Until(run.Time.Add(pt.at)))
				c.signal(p, syscall.SIGKILL, fmt.Sprintf("kill -9 %s (%s into the run)", pt.name, pt.at), "go_preacher")
				p.waitExit(t, 5*time.Second)
				killed := time.Now()
				c.waitEvent("the next run elsewhere", killed, tc.leadTime, func(ev event) bool {
					return ev.Message == "Running" && ev.Job == "go_preacher" && ev.Instance != p.instance
				})
				<-c.restart(p).port
			}
			// One more run after the last kill, so that its tick is judged.
			c.waitEvent("a run after the last kill", time.Now(), 2*tc.every+5*time.Second, func(ev event) bool {
				return ev.Message == "Running" && ev.Job == "go_preacher"
			})
			v := c.finish(from, tc.every)
			var table strings.Builder
			fmt.Fprintf(&table, "crash mid-run: 3 nodes, default timing, both jobs %s\n", tc.name)
			v.print(&table)
			publish(t, table.String())
			v.assertSafe(t)
			for _, r := range v.rows {
				if r.missed["go_preacher"] > tc.maxLost {
					t.Errorf("%s: %d ticks of go_preacher lost, want at most %d", r.fault.kind, r.missed["go_preacher"], tc.maxLost)
				}
				if r.lateness > tc.maxLate {
					t.Errorf("%s: the next run started %s after its tick, want within %s", r.fault.kind, r.lateness, tc.maxLate)
				}
			}
		})
	}
}
