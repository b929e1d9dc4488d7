package scheduler_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"go-leader-election/scheduler"
	"go-leader-election/store/memory"
)

func nop(context.Context) error { return nil }

func TestNewRejectsBadOptions(t *testing.T) {
	bad := scheduler.DefaultTiming()
	bad.RenewDeadline = bad.LeaseDuration
	const secret = "short secret"
	for _, tc := range []struct {
		opt  scheduler.Option
		want string
	}{
		{scheduler.WithNode("my node"), `WithNode("my node")`},
		{scheduler.WithNode(""), `WithNode("")`},
		{scheduler.WithTiming(bad), "RenewDeadline"},
		{scheduler.WithMemberPeriod(time.Hour), "WithMemberPeriod(1h0m0s)"},
		{scheduler.WithHistoryLimit(-1), "WithHistoryLimit(-1)"},
		{scheduler.WithHistoryLimit(501), "WithHistoryLimit(501)"},
		{scheduler.WithAdminToken(secret), "at least 16"},
		{scheduler.WithRegisterer(nil), "WithRegisterer"},
		{scheduler.WithClock(nil), "WithClock"},
		{scheduler.WithObserver(nil), "WithObserver"},
	} {
		_, err := scheduler.New(memory.New(), tc.opt)
		if !errors.Is(err, scheduler.ErrBadOption) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("New: %v, want ErrBadOption naming %s", err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), secret) {
			t.Errorf("New: %v echoes the admin token", err)
		}
	}
	if _, err := scheduler.New(nil); !errors.Is(err, scheduler.ErrBadOption) {
		t.Errorf("New(nil): %v, want ErrBadOption", err)
	}
}

func TestAddRejectsBadJobs(t *testing.T) {
	s, err := scheduler.New(memory.New())
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Add(scheduler.Job{Name: "a", Schedule: "@every 1s", Run: nop}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		job  scheduler.Job
		is   error
		want string
	}{
		{scheduler.Job{Name: "Bad-Name", Schedule: "@every 1s", Run: nop}, scheduler.ErrBadJob, `"Bad-Name"`},
		{scheduler.Job{Name: "", Schedule: "@every 1s", Run: nop}, scheduler.ErrBadJob, "empty job name"},
		{scheduler.Job{Name: "9lives", Schedule: "@every 1s", Run: nop}, scheduler.ErrBadJob, `"9lives"`},
		{scheduler.Job{Name: "b", Schedule: "every tuesday", Run: nop}, scheduler.ErrBadJob, `job b: bad schedule "every tuesday"`},
		{scheduler.Job{Name: "c", Schedule: "@every 1s"}, scheduler.ErrBadJob, "job c: Run is nil"},
		{scheduler.Job{Name: "a", Schedule: "@every 2s", Run: nop}, scheduler.ErrDuplicateJob, "a"},
	} {
		err := s.Add(tc.job)
		if !errors.Is(err, tc.is) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Add(%q): %v, want %v naming %s", tc.job.Name, err, tc.is, tc.want)
		}
	}
}

// TestAddRejectsBadJobOptions: each job option is validated by Add, with
// an error naming the job, the option and the value.
func TestAddRejectsBadJobOptions(t *testing.T) {
	s, err := scheduler.New(memory.New())
	if err != nil {
		t.Fatal(err)
	}
	job := func(name, spec string) scheduler.Job { return scheduler.Job{Name: name, Schedule: spec, Run: nop} }
	for _, tc := range []struct {
		job  scheduler.Job
		opt  scheduler.JobOption
		want string
	}{
		{job("a", "@every 1s"), scheduler.WithOverlap(scheduler.Overlap(7)), "job a: WithOverlap: overlap Overlap(7): want forbid, replace or buffer_one"},
		{job("b", "@every 1s"), scheduler.WithRetries(-1, 0), "job b: WithRetries: retries -1: must not be negative"},
		{job("c", "@every 1s"), scheduler.WithRetries(3, -time.Second), "job c: WithRetries: retry_backoff -1s: must not be negative"},
		{job("d", "@every 1s"), scheduler.WithTimeout(-time.Second), "job d: WithTimeout: timeout -1s: must not be negative"},
		{job("e", "@every 1s"), scheduler.WithStartingDeadline(-time.Second), "job e: WithStartingDeadline: starting_deadline -1s: must not be negative"},
		{job("f", "@every 10s"), scheduler.WithStartingDeadline(11 * time.Second),
			"job f: WithStartingDeadline: starting_deadline 11s: must not exceed the schedule's shortest interval, 10s"},
		{job("g", "0 9 * * 1-5"), scheduler.WithStartingDeadline(25 * time.Hour),
			"job g: WithStartingDeadline: starting_deadline 25h0m0s: must not exceed the schedule's shortest interval, 24h0m0s"},
	} {
		err := s.Add(tc.job, tc.opt)
		if !errors.Is(err, scheduler.ErrBadJob) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Add(%s): %v, want ErrBadJob naming %q", tc.job.Name, err, tc.want)
		}
	}
	for i, opt := range []scheduler.JobOption{
		scheduler.WithOverlap(scheduler.BufferOne), scheduler.WithRetries(3, 0), scheduler.WithTimeout(time.Minute),
		scheduler.WithStartingDeadline(0), scheduler.WithStartingDeadline(24 * time.Hour),
	} {
		if err := s.Add(job(fmt.Sprintf("ok_%d", i), "0 9 * * 1-5"), opt); err != nil {
			t.Errorf("Add: %v", err)
		}
	}
}

func TestParseOverlap(t *testing.T) {
	for _, o := range []scheduler.Overlap{scheduler.Forbid, scheduler.Replace, scheduler.BufferOne} {
		if got, err := scheduler.ParseOverlap(o.String()); err != nil || got != o {
			t.Errorf("ParseOverlap(%q) = %v, %v; want %v", o.String(), got, err, o)
		}
	}
	if names := []string{scheduler.Forbid.String(), scheduler.Replace.String(), scheduler.BufferOne.String()}; strings.Join(names, " ") != "forbid replace buffer_one" {
		t.Errorf("names %v, want the jobs file's: forbid replace buffer_one", names)
	}
	if _, err := scheduler.ParseOverlap("allow"); err == nil || !strings.Contains(err.Error(), `"allow"`) {
		t.Errorf("ParseOverlap(allow): %v, want an error naming it", err)
	}
}

func TestRunTwice(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s, err := scheduler.New(memory.New())
		if err != nil {
			t.Fatal(err)
		}
		ctx, stop := context.WithCancel(t.Context())
		go s.Run(ctx)
		synctest.Wait()
		if err := s.Run(ctx); !errors.Is(err, scheduler.ErrStarted) {
			t.Errorf("second Run: %v, want ErrStarted", err)
		}
		stop()
		<-s.Done()
	})
}

// TestAddAndRemoveWhileRunning: a job added to one running replica runs
// there, once per tick, and nowhere else; a job removed from a replica is
// released by it and run by the replica that still has it.
func TestAddAndRemoveWhileRunning(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		st := memory.New()
		var mu sync.Mutex
		runs := map[string]map[time.Time]string{} // job -> tick -> node
		job := func(name, node string) scheduler.Job {
			return scheduler.Job{Name: name, Schedule: "@every 1s", Run: func(ctx context.Context) error {
				tok, _ := scheduler.TokenFrom(ctx)
				mu.Lock()
				defer mu.Unlock()
				if runs[name] == nil {
					runs[name] = map[time.Time]string{}
				}
				if prev, ok := runs[name][tok.Tick]; ok {
					t.Errorf("%s tick %s ran on %s and %s", name, tok.Tick.Format(time.TimeOnly), prev, node)
				}
				runs[name][tok.Tick] = node
				return nil
			}}
		}
		ctx, stop := context.WithCancel(t.Context())
		defer stop()
		replicas := map[string]*scheduler.Scheduler{}
		for _, node := range []string{"a", "b"} {
			s, err := scheduler.New(st, scheduler.WithNode(node))
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Add(job("shared", node)); err != nil {
				t.Fatal(err)
			}
			replicas[node] = s
			go s.Run(ctx)
		}
		time.Sleep(10 * time.Second)
		if err := replicas["a"].Add(job("added", "a")); err != nil {
			t.Fatal(err)
		}
		time.Sleep(10 * time.Second)
		if err := replicas["a"].Remove("shared"); err != nil {
			t.Fatal(err)
		}
		if err := replicas["a"].Remove("shared"); !errors.Is(err, scheduler.ErrUnknownJob) {
			t.Errorf("second Remove: %v, want ErrUnknownJob", err)
		}
		removedAt := time.Now()
		time.Sleep(10 * time.Second)

		mu.Lock()
		defer mu.Unlock()
		if n := len(runs["added"]); n < 9 {
			t.Errorf("the added job ran %d ticks in 10 s, want at least 9", n)
		}
		for tick, node := range runs["added"] {
			if node != "a" {
				t.Errorf("the added job ran tick %s on %s, which lacks it", tick.Format(time.TimeOnly), node)
			}
		}
		late := 0
		for tick, node := range runs["shared"] {
			if tick.After(removedAt.Add(time.Second)) {
				late++
				if node != "b" {
					t.Errorf("shared ran tick %s on %s after a removed it", tick.Format(time.TimeOnly), node)
				}
			}
		}
		if late < 8 {
			t.Errorf("shared ran %d ticks in the 10 s after a removed it, want at least 8 (on b)", late)
		}
	})
}

// TestReplicasRunEachTickOnce: three replicas of a service, each with the
// same three jobs on one store, run every tick of every job exactly once,
// share the jobs out, and release everything when stopped.
func TestReplicasRunEachTickOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		st := memory.New()
		var mu sync.Mutex
		runs := map[string]map[time.Time][]string{} // job -> tick -> nodes
		ctx, stop := context.WithCancel(t.Context())
		var replicas []*scheduler.Scheduler
		for _, node := range []string{"a", "b", "c"} {
			s, err := scheduler.New(st, scheduler.WithNode(node))
			if err != nil {
				t.Fatal(err)
			}
			for _, job := range []string{"j1", "j2", "j3"} {
				err := s.Add(scheduler.Job{Name: job, Schedule: "@every 1s", Run: func(ctx context.Context) error {
					tok, _ := scheduler.TokenFrom(ctx)
					mu.Lock()
					defer mu.Unlock()
					if runs[job] == nil {
						runs[job] = map[time.Time][]string{}
					}
					runs[job][tok.Tick] = append(runs[job][tok.Tick], node)
					return nil
				}})
				if err != nil {
					t.Fatal(err)
				}
			}
			replicas = append(replicas, s)
			go s.Run(ctx)
		}
		time.Sleep(30 * time.Second) // synthetic time: the protocol runs for 30 s
		shared := map[string]bool{}
		for _, st := range replicas[0].Status() {
			shared[st.Leader] = true
		}
		stop()
		for _, s := range replicas {
			<-s.Done()
		}
		for job, ticks := range runs {
			if len(ticks) < 28 {
				t.Errorf("%s: %d ticks run in 30 s, want at least 28", job, len(ticks))
			}
			for tick, nodes := range ticks {
				if len(nodes) != 1 {
					t.Errorf("%s: tick %s ran on %v", job, tick.Format(time.TimeOnly), nodes)
				}
			}
		}
		if len(shared) < 2 {
			t.Errorf("the jobs are led by %v: want them shared out", shared)
		}
		for _, job := range []string{"j1", "j2", "j3"} {
			if rec, err := st.Get(context.Background(), job); err != nil || rec.Held() {
				t.Errorf("%s after stop: %+v, %v: want released", job, rec, err)
			}
		}
	})
}

// TestReplaceWhileRunning: a replaced job's new Run takes over from a next
// tick; no tick runs twice and none runs both old and new.
func TestReplaceWhileRunning(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s, err := scheduler.New(memory.New(), scheduler.WithNode("a"))
		if err != nil {
			t.Fatal(err)
		}
		var mu sync.Mutex
		byTick := map[time.Time]string{}
		version := func(v string) func(context.Context) error {
			return func(ctx context.Context) error {
				tok, _ := scheduler.TokenFrom(ctx)
				mu.Lock()
				defer mu.Unlock()
				if prev, ok := byTick[tok.Tick]; ok {
					t.Errorf("tick %s ran as %s and %s", tok.Tick.Format(time.TimeOnly), prev, v)
				}
				byTick[tok.Tick] = v
				time.Sleep(300 * time.Millisecond)
				return nil
			}
		}
		if err := s.Add(scheduler.Job{Name: "j", Schedule: "@every 1s", Run: version("old")}); err != nil {
			t.Fatal(err)
		}
		ctx, stop := context.WithCancel(t.Context())
		go s.Run(ctx)
		time.Sleep(5*time.Second + 100*time.Millisecond) // mid-run
		replaced := time.Now()
		if err := s.Replace(scheduler.Job{Name: "j", Schedule: "@every 1s", Run: version("new")}); err != nil {
			t.Fatal(err)
		}
		if err := s.Replace(scheduler.Job{Name: "nope", Schedule: "@every 1s", Run: nop}); !errors.Is(err, scheduler.ErrUnknownJob) {
			t.Errorf("Replace of an unknown job: %v", err)
		}
		time.Sleep(5 * time.Second)
		stop()
		<-s.Done()
		mu.Lock()
		defer mu.Unlock()
		news := 0
		for tick, v := range byTick {
			if v == "new" {
				news++
				if tick.Before(replaced) {
					t.Errorf("tick %s, before the replace, ran the new version", tick.Format(time.TimeOnly))
				}
			} else if tick.After(replaced.Add(time.Second)) {
				t.Errorf("tick %s ran the old version after the replace", tick.Format(time.TimeOnly))
			}
		}
		if news < 4 {
			t.Errorf("the new version ran %d ticks in the 5 s after the replace, want at least 4", news)
		}
	})
}
