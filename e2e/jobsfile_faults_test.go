//go:build linux

package e2e

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"go-leader-election/internal/procgroup/proctest"
	"go-leader-election/scheduler"
)

// timing is the daemons' timing: the defaults (LEASE_DURATION and the rest
// unset).
var timing = scheduler.DefaultTiming()

// The bounds TestCrashMidRun holds a kill -9 mid-run to at @every 1s: the
// next run comes within crashLeadTime of the kill, and starts at most
// crashMaxLate after its tick.
const (
	crashLeadTime = 5 * time.Second
	crashMaxLate  = time.Second
)

// longJob is a jobs file whose job long_sleep runs, every second, a shell
// that prints "start" and runs marker, a sleep of 30 s that no other test
// runs: /bin/sh -c 'echo start; sleep 30.<digits>'. Debian's sh does not
// exec the sleep, so the command is a group of two processes.
func longJob(marker string) string {
	return "jobs:\n  - name: long_sleep\n    schedule: \"@every 1s\"\n    shell: \"echo start; " + marker + "\"\n"
}

// sleepMarker is a sleep of 30 s whose command line is this test's own.
func sleepMarker() string { return fmt.Sprintf("sleep 30.%09d", time.Now().UnixNano()%1e9) }

// killMarked kills what is left of the processes running marker, so that a
// failed test leaves no sleep behind.
func killMarked(marker string) {
	for _, pid := range proctest.Matching(marker) {
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
}

// runningCommand waits for a run of long_sleep that has started its sleep,
// and returns the run's Running event and the command's process group.
func (c *cluster) runningCommand(marker string, since time.Time) (event, int) {
	c.t.Helper()
	out := c.waitEvent("long_sleep's start", since, 15*time.Second, func(ev event) bool {
		return ev.Message == "Output" && ev.Job == "long_sleep" && ev.Line == "start"
	})
	run := c.waitEvent("long_sleep's Running event", since, time.Second, func(ev event) bool {
		return ev.Message == "Running" && ev.Job == "long_sleep" && ev.Tick.Equal(out.Tick) && ev.Instance == out.Instance
	})
	deadline := time.Now().Add(5 * time.Second)
	for {
		for _, pid := range proctest.Matching(marker) {
			comm, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
			pgid, gerr := syscall.Getpgid(pid)
			if err == nil && gerr == nil && strings.TrimSpace(string(comm)) == "sleep" {
				return run, pgid
			}
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("long_sleep printed start on %s, but no %q process runs 5s later", run.Node, marker)
		}
		time.Sleep(10 * time.Millisecond) // polling /proc
	}
}

// intoRun is how long into a run of long_sleep the tests strike: past
// its claim's trust, so that the lease is being renewed, LeaseDuration at
// a time, as for any command that outlasts its tick.
const intoRun = 2500 * time.Millisecond

// longRun is a run of long_sleep, and its command.
type longRun struct {
	event         // its Running event
	marker string // the command's sleep: see sleepMarker
	pgid   int    // the command's process group
	group  []int  // the group's processes
}

// startLongJob starts three daemons running long_sleep (each with its own
// extra environment, if any; SHUTDOWN_TIMEOUT=1s so that they stop soon),
// waits until one runs it and intoRun has passed, and returns that run.
func (c *cluster) startLongJob(extra ...func(name string) []string) longRun {
	c.t.Helper()
	marker := sleepMarker()
	c.t.Cleanup(func() { killMarked(marker) })
	file := writeFile(c.t, c.t.TempDir(), "jobs.yaml", longJob(marker))
	began := time.Now() // the first node may run the job before the last starts
	for _, n := range []string{"alpha", "bravo", "charlie"} {
		env := []string{"JOBS_FILE=" + file, "SHUTDOWN_TIMEOUT=1s"}
		for _, e := range extra {
			env = append(env, e(n)...)
		}
		c.startNode(n, env...)
	}
	run, pgid := c.runningCommand(marker, began)
	group := proctest.Group(pgid)
	if len(group) < 2 {
		c.t.Errorf("the command's group has %v; want the shell and its sleep", group)
	}
	time.Sleep(time.Until(run.Time.Add(intoRun))) // the point to strike at
	return longRun{event: run, marker: marker, pgid: pgid, group: group}
}

// diesBeforeLapse waits for the command's group to die after its node lost
// the lease's trust, and checks that it died before the lease could lapse:
// within LeaseDuration - RenewDeadline of "Lost leadership", the part of
// the lease the holder does not trust. It returns when it died.
func (c *cluster) diesBeforeLapse(run longRun, since time.Time) (died time.Time, lost event) {
	c.t.Helper()
	proctest.WaitGroupGone(c.t, run.pgid, timing.LeaseDuration)
	died = time.Now()
	lost = c.waitEvent("Lost leadership of long_sleep on "+run.Node, since, time.Second, func(ev event) bool {
		return ev.Message == "Lost leadership" && ev.Job == "long_sleep" && ev.Instance == run.Instance
	})
	if margin := timing.LeaseDuration - timing.RenewDeadline; died.Sub(lost.Time) > margin {
		c.t.Errorf("the command died %s after Lost leadership, want within %s (LEASE_DURATION - RENEW_DEADLINE)", died.Sub(lost.Time), margin)
	}
	return died, lost
}

// stopLongJob stops the cluster: the run of long_sleep then going on is
// cancelled past SHUTDOWN_TIMEOUT, its command gets SIGTERM, and nothing
// runs marker any more once the daemons have exited. No tick may have run
// twice, no runs overlapped.
func (c *cluster) stopLongJob(run longRun) {
	c.t.Helper()
	c.stopAll()
	if left := proctest.Matching(run.marker); len(left) > 0 {
		c.t.Errorf("processes %v still run %q after every daemon stopped", left, run.marker)
	}
	events, faults, procs := c.snapshot()
	v := judge(events, faults, procs, time.Now(), time.Now(), every, time.Now())
	v.assertSafe(c.t)
}

// TestJobsFileKillDaemonMidCommand: kill -9 of the daemon running a long
// command (sh -c 'echo start; sleep 30') kills the command's whole process
// group at once, sleep included, and the next tick runs on another node
// within the bounds of a kill -9 mid-run (TestCrashMidRun's).
func TestJobsFileKillDaemonMidCommand(t *testing.T) {
	if testing.Short() {
		t.Skip("real processes for about 10 seconds")
	}
	c := newCluster(t)
	run := c.startLongJob()
	c.mu.Lock()
	p := c.procs[run.Instance]
	c.mu.Unlock()

	c.signal(p, syscall.SIGKILL, "kill -9 the daemon running long_sleep", "long_sleep")
	killed := time.Now()
	p.waitExit(t, 5*time.Second)
	exited := time.Now()
	proctest.WaitGroupGone(t, run.pgid, time.Second)
	gone := time.Now()
	next := c.waitEvent("long_sleep's next run elsewhere", killed, crashLeadTime, func(ev event) bool {
		return ev.Message == "Running" && ev.Job == "long_sleep" && ev.Instance != p.instance
	})
	t.Logf("kill -9 of %s %s into its run of long_sleep (group %d: %v): the daemon reaped %s after the kill, its command's group gone %s after that; "+
		"next run on %s, tick %s, %s after the kill and %s after its tick",
		p.node, killed.Sub(run.Time).Round(time.Millisecond), run.pgid, run.group, exited.Sub(killed).Round(time.Millisecond), gone.Sub(exited).Round(time.Millisecond),
		next.Node, next.Tick.Format(time.TimeOnly), next.Time.Sub(killed).Round(time.Millisecond), next.Time.Sub(next.Tick).Round(time.Millisecond))
	if late := next.Time.Sub(next.Tick); late > crashMaxLate {
		t.Errorf("the next run started %s after its tick, want within %s", late, crashMaxLate)
	}
	if left := slices.DeleteFunc(proctest.Matching(run.marker), func(pid int) bool { return slices.Contains(run.group, pid) }); len(left) > 2 {
		t.Errorf("%d processes run %q: want only the next run's shell and sleep", len(left), run.marker)
	}
	c.stopLongJob(run)
}

// TestJobsFileStoreFrozenMidCommand: the store freezes (SIGSTOP of the
// emulator) while a node runs a long command, for longer than the lease:
// the node loses the lease's trust and kills the command's group before the
// lease can lapse, without a word from the store, so the command is gone
// before any node starts the next run once the store is back.
func TestJobsFileStoreFrozenMidCommand(t *testing.T) {
	if testing.Short() {
		t.Skip("real processes for about 15 seconds")
	}
	c := newCluster(t)
	run := c.startLongJob()

	c.signalStore(syscall.SIGSTOP, "SIGSTOP store")
	frozen := time.Now()
	died, lost := c.diesBeforeLapse(run, frozen)
	// The fault lasts until the lease has lapsed, had the node kept it.
	time.Sleep(time.Until(frozen.Add(timing.LeaseDuration + every)))
	c.signalStore(syscall.SIGCONT, "")
	c.undo()
	resumed := time.Now()
	next := c.waitEvent("long_sleep's next run", resumed, 15*time.Second, func(ev event) bool {
		return ev.Message == "Running" && ev.Job == "long_sleep"
	})
	t.Logf("store frozen %s into %s's run of long_sleep (tick %s): Lost leadership %s after the freeze, the command's group gone %s after that; "+
		"store back %s after the freeze; next run on %s, tick %s, %s after the command's death",
		frozen.Sub(run.Time).Round(time.Millisecond), run.Node, run.Tick.Format(time.TimeOnly), lost.Time.Sub(frozen).Round(time.Millisecond),
		died.Sub(lost.Time).Round(time.Millisecond), resumed.Sub(frozen).Round(time.Millisecond),
		next.Node, next.Tick.Format(time.TimeOnly), next.Time.Sub(died).Round(time.Millisecond))
	if !died.Before(resumed) || !died.Before(next.Time) {
		t.Errorf("the command died at %s, the store came back at %s, the next run started at %s: want the death first",
			died.Format("15:04:05.000"), resumed.Format("15:04:05.000"), next.Time.Format("15:04:05.000"))
	}
	c.stopLongJob(run)
}

// TestJobsFileHolderCutOffMidCommand: the node running a long command is
// cut off from the store (its own link to the store stops carrying bytes)
// while the others keep theirs: it kills the command's group before the
// lease can lapse, and another node, which takes the lease over once it
// has lapsed, starts the next run only after the command is gone.
func TestJobsFileHolderCutOffMidCommand(t *testing.T) {
	if testing.Short() {
		t.Skip("real processes for about 15 seconds")
	}
	c := newCluster(t)
	links := map[string]*storeLink{}
	run := c.startLongJob(func(name string) []string {
		links[name] = newStoreLink(t, c.emuHost)
		return []string{"DATASTORE_EMULATOR_HOST=" + links[name].Addr()}
	})

	links[run.Node].cut()
	cut := time.Now()
	c.mu.Lock()
	c.faults = append(c.faults, fault{kind: "holder cut off from the store", at: cut, job: "long_sleep"})
	c.mu.Unlock()
	died, lost := c.diesBeforeLapse(run, cut)
	next := c.waitEvent("long_sleep's next run on another node", cut, crashLeadTime+timing.LeaseDuration, func(ev event) bool {
		return ev.Message == "Running" && ev.Job == "long_sleep" && ev.Node != run.Node
	})
	links[run.Node].mend()
	c.undo()
	t.Logf("%s cut off from the store %s into its run of long_sleep (tick %s): Lost leadership %s after the cut, the command's group gone %s after that; "+
		"next run on %s, tick %s, %s after the command's death (%s after the cut)",
		run.Node, cut.Sub(run.Time).Round(time.Millisecond), run.Tick.Format(time.TimeOnly), lost.Time.Sub(cut).Round(time.Millisecond),
		died.Sub(lost.Time).Round(time.Millisecond), next.Node, next.Tick.Format(time.TimeOnly),
		next.Time.Sub(died).Round(time.Millisecond), next.Time.Sub(cut).Round(time.Millisecond))
	if !died.Before(next.Time) {
		t.Errorf("the command died at %s, after %s started the next run at %s", died.Format("15:04:05.000"), next.Node, next.Time.Format("15:04:05.000"))
	}
	c.stopLongJob(run)
}
