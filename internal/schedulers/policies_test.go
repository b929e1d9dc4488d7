package schedulers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/rs/zerolog"

	"go-leader-election/internal/runctx"
	"go-leader-election/internal/schedule"
	"go-leader-election/jobs"
	"go-leader-election/store"
	"go-leader-election/store/memory"
)

// The jobs' policies on three nodes, on synthetic time (synctest): catch-up,
// the overlap policies, retries and the timeout.

// logEvent is one line of a cluster's log.
type logEvent struct {
	Message string    `json:"message"`
	Job     string    `json:"job"`
	Node    string    `json:"node"`
	To      string    `json:"to"`
	Tick    time.Time `json:"tick"`
	Reason  string    `json:"reason"`
	LateBy  string    `json:"late_by"`
	Attempt int       `json:"attempt"`
	Error   string    `json:"error"`
}

// events returns the log's events with message msg.
func (s *syncBuffer) events(msg string) []logEvent {
	var out []logEvent
	for _, line := range strings.Split(s.String(), "\n") {
		var ev logEvent
		if json.Unmarshal([]byte(line), &ev) == nil && ev.Message == msg {
			out = append(out, ev)
		}
	}
	return out
}

// ticksOf returns the ticks of events, as a set.
func ticksOf(evs []logEvent) map[int64]bool {
	out := map[int64]bool{}
	for _, ev := range evs {
		out[ev.Tick.UnixNano()] = true
	}
	return out
}

// checkNoneLost asserts that every tick in [first, last] ran once or was
// skipped by the overlap policy ("Skipped"), never both, and none twice.
func (c *cluster) checkNoneLost(first, last time.Time, every time.Duration) {
	c.t.Helper()
	ran := map[int64]int{}
	for _, r := range c.rec.sorted() {
		ran[r.tick.UnixNano()]++
	}
	skipped := ticksOf(c.log.events("Skipped"))
	for tk := first; !tk.After(last); tk = tk.Add(every) {
		n, skip := ran[tk.UnixNano()], skipped[tk.UnixNano()]
		switch {
		case n > 1:
			c.t.Errorf("tick %s ran %d times", tk.Format(time.TimeOnly), n)
		case n == 1 && skip:
			c.t.Errorf("tick %s ran and was skipped", tk.Format(time.TimeOnly))
		case n == 0 && !skip:
			c.t.Errorf("tick %s lost: neither run nor skipped", tk.Format(time.TimeOnly))
		}
	}
}

// TestCatchUpAfterEveryNodeWasDown: every node stops (gracefully) before a
// tick and starts again after it. The latest tick missed runs once, late,
// on one node, if the nodes are back before its starting deadline; older
// missed ticks never run (no burst); a tick past its deadline does not run.
func TestCatchUpAfterEveryNodeWasDown(t *testing.T) {
	sec := func(n int) time.Duration { return time.Duration(n) * time.Second }
	five := 5 * time.Second
	for _, tc := range []struct {
		name     string
		deadline *time.Duration
		back     time.Duration // when the nodes start again, from t0
		caughtUp int           // the tick caught up, in seconds from t0; 0: none
	}{
		{"back within the default deadline", nil, sec(32), 30},
		{"back after two missed ticks: only the latest runs", nil, sec(47), 40},
		{"back within a 5s deadline", &five, sec(34), 30},
		{"back past a 5s deadline", &five, sec(36), 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				c := newCluster(t, "@every 10s", time.Second)
				c.policy.StartingDeadline = tc.deadline
				t0 := time.Now()
				at := func(d time.Duration) time.Time { return t0.Add(d) }
				for _, n := range []string{"a", "b", "c"} {
					c.start(n, 0)
				}
				time.Sleep(sec(25))
				c.stopAll()
				time.Sleep(time.Until(at(tc.back)))
				for _, n := range []string{"a", "b", "c"} {
					c.start(n, 0)
				}
				next := at(tc.back).Truncate(10 * time.Second).Add(10 * time.Second)
				time.Sleep(time.Until(next.Add(sec(5))))
				c.stopAll()

				var missing []time.Time
				for tk := at(sec(30)); tk.Before(next); tk = tk.Add(sec(10)) {
					if !tk.Equal(at(sec(tc.caughtUp))) {
						missing = append(missing, tk)
					}
				}
				runs := c.checkRuns(at(sec(10)), next, sec(10), missing...)
				caught := c.log.events("Catching up")
				if tc.caughtUp == 0 {
					if len(caught) != 0 {
						t.Errorf("Catching up %+v, want none", caught)
					}
					return
				}
				r, _ := runOf(runs, at(sec(tc.caughtUp)))
				if late := r.start.Sub(r.tick); late < tc.back-sec(tc.caughtUp) {
					t.Errorf("tick %ds ran %s late, want the nodes' return (%s)", tc.caughtUp, late, tc.back)
				}
				if len(caught) != 1 || !caught[0].Tick.Equal(r.tick) || caught[0].LateBy == "" {
					t.Errorf("Catching up %+v, want one, of tick %ds, with late_by", caught, tc.caughtUp)
				}
			})
		})
	}
}

// TestCatchUpAfterAGracefulStopMidRun is the late-run SIGTERM case: a run
// crosses its next tick (1.2s runs @every 1s), and its node is stopped
// during it, so it does not mark that tick taken and releases the lease
// only after it. A follower looks again at the end of the holder's turn,
// finds the lease released and runs the tick late: none is lost.
func TestCatchUpAfterAGracefulStopMidRun(t *testing.T) {
	for _, stopAt := range []time.Duration{100 * time.Millisecond, 300 * time.Millisecond, 900 * time.Millisecond} {
		t.Run(stopAt.String(), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				c := newCluster(t, "@every 1s", 1200*time.Millisecond)
				t0 := time.Now()
				for _, n := range []string{"a", "b", "c"} {
					c.start(n, 0)
				}
				// Ticks 1, 3, 5 run; 2, 4 are skipped (Forbid). Stop the
				// leader during the run of tick 5.
				time.Sleep(time.Until(t0.Add(5*time.Second + stopAt)))
				rec, err := c.store.Get(t.Context(), "job")
				if err != nil {
					t.Fatal(err)
				}
				c.nodes[rec.Node].stop()
				time.Sleep(5 * time.Second)
				c.stopAll()
				c.checkNoneLost(t0.Add(time.Second), t0.Add(9*time.Second), time.Second)
				caught := c.log.events("Catching up")
				if len(caught) != 1 || !caught[0].Tick.Equal(t0.Add(6*time.Second)) || caught[0].Node == rec.Node {
					t.Errorf("Catching up %+v, want one, of tick 6, on another node than %s", caught, rec.Node)
				}
			})
		})
	}
}

// TestOverlapReplaceNeverRunsTwoAtOnce: runs of 1.5s @every 1s with
// Replace: every tick cancels the run before it and starts once that run
// has returned, even when the job takes 300ms to stop; every tick runs,
// once, and no two runs overlap.
func TestOverlapReplaceNeverRunsTwoAtOnce(t *testing.T) {
	for _, linger := range []time.Duration{0, 300 * time.Millisecond} {
		t.Run("stops in "+linger.String(), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				c := newCluster(t, "@every 1s", 1500*time.Millisecond)
				c.policy.Overlap = Replace
				c.jobFor = func(node string) jobs.Job {
					j := c.rec.job(node, c.dur)
					run := j.Run
					j.Run = func(ctx context.Context) error {
						err := run(ctx)
						if ctx.Err() != nil {
							time.Sleep(linger) // slow to stop
						}
						return err
					}
					return j
				}
				t0 := time.Now()
				for _, n := range []string{"a", "b", "c"} {
					c.start(n, 0)
				}
				time.Sleep(8*time.Second + 500*time.Millisecond)
				c.stopAll()
				runs := c.checkRuns(t0.Add(time.Second), t0.Add(8*time.Second), time.Second) // overlaps too
				for _, r := range runs[:len(runs)-1] {
					if !errors.Is(r.err, errReplaced) {
						t.Errorf("the run of tick %s ended with %v, want it replaced", r.tick.Format(time.TimeOnly), r.err)
					}
					if late := r.start.Sub(r.tick); r.tick.After(t0.Add(time.Second)) && late != linger {
						t.Errorf("tick %s started %s late, want %s (when the replaced run returned)",
							r.tick.Format(time.TimeOnly), late, linger)
					}
				}
				if got := len(c.log.events("Replacing")); got != len(runs)-1 {
					t.Errorf("%d Replacing events, want %d", got, len(runs)-1)
				}
			})
		})
	}
}

// TestOverlapBufferOneNeverRunsTwoAtOnce: runs of 1.4s @every 1s with
// BufferOne: a tick that comes during a run starts as soon as it ends, if
// before the tick's starting deadline (here the following tick); a later
// tick takes the place of one still waiting, which is skipped. No two runs
// overlap, none runs twice, and none is lost.
func TestOverlapBufferOneNeverRunsTwoAtOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newCluster(t, "@every 1s", 1400*time.Millisecond)
		c.policy.Overlap = BufferOne
		t0 := time.Now()
		for _, n := range []string{"a", "b", "c"} {
			c.start(n, 0)
		}
		time.Sleep(12 * time.Second)
		c.stopAll()
		s := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Second) }
		var skipped []logEvent
		for _, ev := range c.log.events("Skipped") {
			if !ev.Tick.After(s(11)) {
				skipped = append(skipped, ev)
			}
		}
		var missing []time.Time
		for _, ev := range skipped {
			missing = append(missing, ev.Tick)
			if ev.Reason != "a later tick came" {
				t.Errorf("tick %s skipped: %s, want for a later tick", ev.Tick.Format(time.TimeOnly), ev.Reason)
			}
		}
		// 1.4s runs back to back: about one tick in four waits past its
		// deadline, and the next takes its place.
		if len(skipped) < 2 || len(skipped) > 3 {
			t.Errorf("%d ticks skipped, want 2 or 3 in 11", len(skipped))
		}
		runs := c.checkRuns(s(1), s(11), time.Second, missing...) // once each, no overlap
		for i, r := range runs[1:] {
			if prev := runs[i]; !r.start.Equal(prev.end) {
				t.Errorf("tick %s started at %s, want at the end of the run before (%s)",
					r.tick.Format(time.TimeOnly), r.start.Format(time.StampMilli), prev.end.Format(time.StampMilli))
			}
		}
		c.checkNoneLost(s(1), s(11), time.Second)
		if got := len(c.log.events("Buffered")); got != len(runs)+len(skipped) { // the 12th too
			t.Errorf("%d Buffered events, want %d", got, len(runs)-1+len(skipped))
		}
	})
}

// attempt is one call of a failing job.
type attempt struct {
	node  string
	tick  time.Time
	term  int64
	n     int // runctx's Attempt
	start time.Time
}

// failing returns a job that records each call and fails until attempt
// okAt (always when 0), each call taking d.
func failing(mu *sync.Mutex, attempts *[]attempt, d time.Duration, okAt int) jobs.Job {
	return jobs.Job{Name: "job", Run: func(ctx context.Context) error {
		info := runctx.From(ctx)
		mu.Lock()
		*attempts = append(*attempts, attempt{info.Node, info.Tick, info.Term, info.Attempt, time.Now()})
		mu.Unlock()
		time.Sleep(d)
		if okAt > 0 && info.Attempt >= okAt {
			return nil
		}
		return fmt.Errorf("attempt %d failed", info.Attempt)
	}}
}

// TestRetriesStopAtTheDeadline: a job that always fails is retried, with a
// doubling backoff, under its claim and term on the node that claimed it,
// until the next attempt would start at or past the starting deadline (the
// following tick by default); one that succeeds is not retried again.
func TestRetriesStopAtTheDeadline(t *testing.T) {
	five := 5 * time.Second
	for _, tc := range []struct {
		name     string
		deadline *time.Duration
		okAt     int
		retries  int
		want     int // attempts
	}{
		// Attempts of 100ms from 10s, backoffs of 1s, 2s, 4s, 8s (±20%):
		// the 2nd starts in [10.9s, 11.3s], the 3rd in [12.6s, 13.8s], the
		// 4th in [15.9s, 18.7s], the 5th after 22s.
		{"always failing, until the following tick", nil, 0, 10, 4},
		{"always failing, until a 5s deadline", &five, 0, 10, 3},
		{"succeeds at attempt 2", nil, 2, 10, 2},
		{"always failing, 1 retry", nil, 0, 1, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var mu sync.Mutex
				var attempts []attempt
				c := newCluster(t, "@every 10s", 0)
				c.policy = Policy{Retries: tc.retries, StartingDeadline: tc.deadline}
				c.jobFor = func(string) jobs.Job { return failing(&mu, &attempts, 100*time.Millisecond, tc.okAt) }
				t0 := time.Now()
				for _, n := range []string{"a", "b", "c"} {
					c.start(n, 0)
				}
				time.Sleep(20*time.Second + 50*time.Millisecond)
				c.stopAll()
				tick := t0.Add(10 * time.Second)
				startBy := tick.Add(10 * time.Second)
				if tc.deadline != nil {
					startBy = tick.Add(*tc.deadline)
				}
				mu.Lock()
				defer mu.Unlock()
				var first []attempt // the attempts at the first tick
				for _, a := range attempts {
					if a.tick.Equal(tick) {
						first = append(first, a)
					}
				}
				if len(first) != tc.want {
					t.Fatalf("%d attempts at the first tick, want %d: %+v", len(first), tc.want, first)
				}
				for i, a := range first {
					if a.n != i+1 || a.node != first[0].node || a.term != first[0].term {
						t.Errorf("attempt %d: %+v, want attempt %d on %s under term %d", i+1, a, i+1, first[0].node, first[0].term)
					}
					if !a.start.Before(startBy) {
						t.Errorf("attempt %d started at %s, at or past the deadline %s", a.n,
							a.start.Format(time.StampMilli), startBy.Format(time.StampMilli))
					}
				}
				retrying := c.log.events("Retrying")
				if len(retrying) != len(first)-1 {
					t.Errorf("%d Retrying events for %d attempts", len(retrying), len(first))
				}
				for _, ev := range retrying {
					if ev.Error == "" || ev.Attempt < 2 || !ev.Tick.Equal(tick) {
						t.Errorf("Retrying %+v, want the tick, the attempt to come and the error", ev)
					}
				}
			})
		})
	}
}

// TestGracefulStopWithBalanceLosesNoTick: with balance on, the leader of a
// job (0.8s runs @every 1s, three nodes) is stopped 200ms into a run. It
// releases the lease after its run, before the next tick, naming as its
// successor the node balance prefers among the others; the others, whose
// views may still prefer the leaving node, see it release and defer to the
// successor instead, which claims the next tick on time: no run is late
// enough to cross the tick after, and no tick is lost.
func TestGracefulStopWithBalanceLosesNoTick(t *testing.T) {
	for _, at := range []time.Duration{30 * time.Second, 31 * time.Second} {
		t.Run(at.String(), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				b := newBalanced(t, 2)
				t0 := time.Now()
				for _, n := range []string{"n0", "n1", "n2"} {
					b.start(n, 800*time.Millisecond)
				}
				time.Sleep(time.Until(t0.Add(at + 200*time.Millisecond)))
				rec, err := b.st.Get(t.Context(), "job0")
				if err != nil {
					t.Fatal(err)
				}
				b.stop(rec.Node)
				time.Sleep(5 * time.Second)
				b.check(t0.Add(at-5*time.Second), t0.Add(at+4*time.Second))
				named := false
				for _, ev := range b.log.events("Released") {
					named = named || ev.Job == "job0" && ev.Node == rec.Node && ev.To != "" && ev.To != rec.Node
				}
				if !named {
					t.Errorf("%s released job0 without naming its successor", rec.Node)
				}
			})
		})
	}
}

// runGroups runs job with policy on three nodes sharing a memory store with
// a history, until until, and returns the history's records of the job.
func runGroups(t *testing.T, job jobs.Job, policy Policy, until time.Time) []store.RunRecord {
	t.Helper()
	st := memory.New()
	var stops []func()
	for _, n := range []string{"a", "b", "c"} {
		g, err := NewGroup(GroupConfig{
			Jobs:  []Scheduled{{Job: job, Spec: "@every 10s", Schedule: Every(10 * time.Second), Policy: policy}},
			Store: st, Identity: NewIdentity(n), Timing: DefaultTiming(), Log: zerolog.Nop(), History: st,
		})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { defer close(done); g.Run(ctx) }()
		stops = append(stops, func() { cancel(); <-done })
	}
	time.Sleep(time.Until(until))
	for _, stop := range stops {
		stop()
	}
	runs, err := st.Runs(context.Background(), job.Name, 10)
	if err != nil {
		t.Fatal(err)
	}
	return runs
}

// TestTimeoutCancelsTheRun: past its timeout a run's context is cancelled
// and the run is recorded with result "timeout"; the timeout bounds the
// retries too, and the record counts the attempts.
func TestTimeoutCancelsTheRun(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		t0 := time.Now()
		var ended time.Time
		slow := jobs.Job{Name: "job", Run: func(ctx context.Context) error {
			select {
			case <-ctx.Done():
				ended = time.Now()
				return ctx.Err()
			case <-time.After(5 * time.Second):
				return nil
			}
		}}
		runs := runGroups(t, slow, Policy{Timeout: 2 * time.Second}, t0.Add(15*time.Second))
		if len(runs) != 1 || runs[0].Result != store.ResultTimeout || runs[0].Attempts != 1 ||
			!strings.Contains(runs[0].Error, "timeout after 2s") {
			t.Fatalf("runs %+v, want one timed out after 2s", runs)
		}
		if got := ended.Sub(runs[0].Start); got != 2*time.Second {
			t.Errorf("the run's context ended %s after its start, want 2s", got)
		}
	})
	synctest.Test(t, func(t *testing.T) {
		t0 := time.Now()
		var mu sync.Mutex
		var attempts []attempt
		runs := runGroups(t, failing(&mu, &attempts, time.Second, 0), Policy{Timeout: 3500 * time.Millisecond, Retries: 5},
			t0.Add(15*time.Second))
		// Attempts of 1s from the start, backoffs of 1s and 2s (±20%): the
		// second attempt ends by 3.2s, the third would start after 3.6s,
		// and the timeout comes at 3.5s, during the backoff.
		if len(runs) != 1 || runs[0].Result != store.ResultTimeout || runs[0].Attempts != 2 ||
			!strings.Contains(runs[0].Error, "attempt 2 failed") {
			t.Fatalf("runs %+v, want one timed out after its 2nd attempt", runs)
		}
		if d := runs[0].Duration; d != 3500*time.Millisecond {
			t.Errorf("the run took %s, want the timeout, 3.5s", d)
		}
	})
}

// TestPolicyValidate: each field's bounds, and the starting deadline's: at
// most the schedule's shortest interval, found over its coming ticks (a
// daylight-saving change shortens a day).
func TestPolicyValidate(t *testing.T) {
	d := func(v time.Duration) *time.Duration { return &v }
	now := time.Date(2026, 1, 10, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		spec   string
		policy Policy
		want   string // "" valid
	}{
		{"@every 1m", Policy{}, ""},
		{"@every 1m", Policy{Overlap: BufferOne, Retries: 3, RetryBackoff: time.Second, Timeout: time.Minute, StartingDeadline: d(time.Minute)}, ""},
		{"@every 1m", Policy{StartingDeadline: d(0)}, ""},
		{"@every 1m", Policy{Overlap: -1}, "overlap Overlap(-1): want forbid, replace or buffer_one"},
		{"@every 1m", Policy{Retries: -2}, "retries -2: must not be negative"},
		{"@every 1m", Policy{RetryBackoff: -time.Millisecond}, "retry_backoff -1ms: must not be negative"},
		{"@every 1m", Policy{Timeout: -time.Second}, "timeout -1s: must not be negative (0: none)"},
		{"@every 1m", Policy{StartingDeadline: d(-time.Second)}, "starting_deadline -1s: must not be negative (0: never late)"},
		{"@every 1m", Policy{StartingDeadline: d(61 * time.Second)}, "starting_deadline 1m1s: must not exceed the schedule's shortest interval, 1m0s (unset: until the next tick)"},
		{"*/15 * * * *", Policy{StartingDeadline: d(15 * time.Minute)}, ""},
		// 2:30 in New York: 23h30m from the day before spring-forward day
		// (Vixie's rule runs it at 3:00), and to the day after.
		{"CRON_TZ=America/New_York 30 2 * * *", Policy{StartingDeadline: d(24 * time.Hour)},
			"starting_deadline 24h0m0s: must not exceed the schedule's shortest interval, 23h30m0s (unset: until the next tick)"},
		{"CRON_TZ=America/New_York 30 2 * * *", Policy{StartingDeadline: d(23 * time.Hour)}, ""},
	} {
		sched, err := schedule.Parse(tc.spec, "job")
		if err != nil {
			t.Fatal(err)
		}
		err = tc.policy.Validate(sched, now)
		var pe *PolicyError
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s %+v: %v, want valid", tc.spec, tc.policy, err)
		case tc.want != "" && (!errors.As(err, &pe) || err.Error() != tc.want):
			t.Errorf("%s %+v: %v, want a PolicyError %q", tc.spec, tc.policy, err, tc.want)
		}
	}
}
