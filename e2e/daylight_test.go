package e2e

import (
	"fmt"
	"testing"
	"time"
)

// clockAt returns the CLOCK_OFFSET that makes a daemon started now read at
// when it starts (give or take its start-up), and the offset itself.
func clockAt(at time.Time) (string, time.Duration) {
	d := time.Until(at).Round(time.Millisecond)
	return "CLOCK_OFFSET=" + d.String(), d
}

// runsOf returns the Running events of job.
func runsOf(events []event, job string) []event {
	var out []event
	for _, ev := range events {
		if ev.Message == "Running" && ev.Job == job {
			out = append(out, ev)
		}
	}
	return out
}

// TestDaylightSavingOnRealProcesses: three daemons whose clocks
// (CLOCK_OFFSET) read seconds before a New York daylight-saving change.
// On spring-forward day (2026-03-08, 02:00 EST -> 03:00 EDT) a daily
// "30 2 * * *", whose time does not exist that day, runs at 03:00 EDT
// (07:00Z). On fall-back night (2026-11-01, 01:00-02:00 twice) a daily
// "30 1 * * *" runs once, at the first 01:30 (EDT, 05:30Z), and not at the
// second (EST, 06:30Z), even with every replica restarted in between.
func TestDaylightSavingOnRealProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("starts real processes for about 40 seconds")
	}
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	t.Run("spring forward", func(t *testing.T) {
		t.Parallel()
		tick := time.Date(2026, 3, 8, 3, 0, 0, 0, ny) // 07:00Z
		c := newCluster(t, "GO_PREACHER_SCHEDULE=CRON_TZ=America/New_York 30 2 * * *",
			"SCALA_PREACHER_SCHEDULE=CRON_TZ=America/New_York 0 4 * * *")
		env, offset := clockAt(tick.Add(-8 * time.Second))
		for _, n := range []string{"alpha", "bravo", "charlie"} {
			<-c.start(n, env).port
		}
		time.Sleep(time.Until(tick.Add(-offset + 4*time.Second))) // the nodes' 03:00:04 EDT
		c.stopAll()
		events, _, _ := c.snapshot()
		for _, ev := range events {
			if ev.Message == "Scheduled" && ev.Job == "go_preacher" && !ev.FirstTick.Equal(tick) {
				t.Errorf("%s scheduled go_preacher's first tick at %s, want %s", ev.Node, ev.FirstTick, tick.UTC())
			}
		}
		runs := runsOf(events, "go_preacher")
		if len(runs) != 1 || !runs[0].Tick.Equal(tick) {
			t.Fatalf("go_preacher ran %s, want once, at %s (03:00 EDT)", ticksText(runs), tick.UTC())
		}
		t.Logf("30 2 * * * on spring-forward day ran tick %s on %s", runs[0].Tick.In(ny).Format(time.DateTime+" MST"), runs[0].Node)
	})
	t.Run("fall back, every replica restarted", func(t *testing.T) {
		t.Parallel()
		first := time.Date(2026, 11, 1, 5, 30, 0, 0, time.UTC)  // 01:30 EDT
		second := time.Date(2026, 11, 1, 6, 30, 0, 0, time.UTC) // 01:30 EST
		next := time.Date(2026, 11, 2, 1, 30, 0, 0, ny)
		c := newCluster(t, "GO_PREACHER_SCHEDULE=CRON_TZ=America/New_York 30 1 * * *",
			"SCALA_PREACHER_SCHEDULE=CRON_TZ=America/New_York 0 4 * * *")
		env, offset := clockAt(first.Add(-8 * time.Second))
		for _, n := range []string{"alpha", "bravo", "charlie"} {
			<-c.start(n, env).port
		}
		time.Sleep(time.Until(first.Add(-offset + 3*time.Second)))
		c.stopAll()
		// Every replica again, an hour later by their clocks: seconds
		// before the second 01:30.
		env, offset = clockAt(second.Add(-8 * time.Second))
		for _, n := range []string{"alpha", "bravo", "charlie"} {
			<-c.start(n, env).port
		}
		time.Sleep(time.Until(second.Add(-offset + 4*time.Second)))
		c.stopAll()
		events, _, procs := c.snapshot()
		runs := runsOf(events, "go_preacher")
		if len(runs) != 1 || !runs[0].Tick.Equal(first) {
			t.Fatalf("go_preacher ran %s, want once, at %s (01:30 EDT)", ticksText(runs), first)
		}
		for _, ev := range events {
			if ev.Message == "Scheduled" && ev.Job == "go_preacher" && ev.Instance >= len(procs)/2 && !ev.FirstTick.Equal(next) {
				t.Errorf("restarted %s scheduled go_preacher's first tick at %s, want %s (01:30 EST the next day)",
					ev.Node, ev.FirstTick, next.UTC())
			}
		}
		t.Logf("30 1 * * * on fall-back night ran tick %s on %s, once across a restart of every replica",
			runs[0].Tick.In(ny).Format(time.DateTime+" MST"), runs[0].Node)
	})
}

func ticksText(runs []event) string {
	out := fmt.Sprintf("%d times", len(runs))
	for _, r := range runs {
		out += " " + r.Tick.UTC().Format(time.RFC3339)
	}
	return out
}
