package schedulers

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/rs/zerolog"

	"go-leader-election/jobs"
	"go-leader-election/store/memory"
)

// TestPanickingJobDoesNotStopTheOthers: a job that panics on every run is
// recovered each time (Finished with the panic and a stack, counted as an
// error), keeps its schedule, and the node's other job runs every tick.
func TestPanickingJobDoesNotStopTheOthers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var panics, runs atomic.Int32
		obs := &countObserver{}
		log := &syncBuffer{}
		g, err := NewGroup(GroupConfig{
			Jobs: []Scheduled{
				{Job: jobs.Job{Name: "bad", Run: func(context.Context) error { panics.Add(1); panic("boom") }}, Spec: "@every 1s", Schedule: Every(time.Second)},
				{Job: jobs.Job{Name: "good", Run: func(context.Context) error { runs.Add(1); return nil }}, Spec: "@every 1s", Schedule: Every(time.Second)},
			},
			Store: memory.New(), Identity: NewIdentity("a"), Timing: DefaultTiming(),
			Log: zerolog.New(log), Observer: obs,
		})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { defer close(done); g.Run(ctx) }()
		time.Sleep(5*time.Second + 500*time.Millisecond)
		cancel()
		<-done
		if panics.Load() != 5 || runs.Load() != 5 {
			t.Fatalf("over 5 ticks: %d panicking runs, %d good runs; want 5 and 5", panics.Load(), runs.Load())
		}
		if got := obs.errors.Load(); got != 5 {
			t.Errorf("%d runs counted as errors, want the 5 panics", got)
		}
		var finished int
		for line := range strings.SplitSeq(log.String(), "\n") {
			if strings.Contains(line, `"job":"bad"`) && strings.Contains(line, `"message":"Finished"`) {
				finished++
				if !strings.Contains(line, `"level":"error"`) || !strings.Contains(line, `"error":"panic: boom"`) || !strings.Contains(line, `"stack":"goroutine`) {
					t.Errorf("a panicking run's Finished event lacks level, error or stack: %s", line)
				}
			}
		}
		if finished != 5 {
			t.Errorf("%d Finished events for the panicking job, want 5", finished)
		}
	})
}

func TestNewRefusesAnInvalidTiming(t *testing.T) {
	job := jobs.Job{Name: "j", Run: func(context.Context) error { return nil }}
	cfg := Config{Job: job, Schedule: Every(time.Second), Store: memory.New(), Identity: NewIdentity("a")}
	if _, err := New(cfg); err == nil || !strings.Contains(err.Error(), "RetryPeriod") {
		t.Fatalf("New with a zero Timing: %v, want an error naming the broken invariant", err)
	}
	cfg.Timing = DefaultTiming()
	cfg.Timing.LeaseDuration = cfg.Timing.RenewDeadline
	if _, err := New(cfg); err == nil || !strings.Contains(err.Error(), "LeaseDuration") {
		t.Fatalf("New with LeaseDuration = RenewDeadline: %v, want an error naming LeaseDuration", err)
	}
	cfg.Timing = DefaultTiming()
	cfg.Store = nil
	if _, err := New(cfg); err == nil {
		t.Fatal("New without a store succeeded")
	}
}

type countObserver struct {
	nopObserver
	errors atomic.Int32
}

func (o *countObserver) Finished(_ string, _ time.Duration, err error) {
	if err != nil {
		o.errors.Add(1)
	}
}
