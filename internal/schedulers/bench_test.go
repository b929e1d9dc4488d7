package schedulers

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"go-leader-election/clock"
	"go-leader-election/jobs"
	"go-leader-election/store/memory"
)

// setClock reads whatever time the benchmark set; its timers are real.
type setClock struct {
	clock.Real
	now atomic.Int64
}

func (c *setClock) Now() time.Time { return time.Unix(0, c.now.Load()) }

// BenchmarkTick: one scheduler tick end to end on the embedded store, as the
// leader handles it: claim, log, run an empty job, record the run.
func BenchmarkTick(b *testing.B) {
	clk := &setClock{}
	s, err := New(Config{
		Job:      jobs.Job{Name: "bench", Run: func(context.Context) error { return nil }},
		Spec:     "@every 1s",
		Schedule: Every(time.Second),
		Store:    memory.New(),
		Clock:    clk,
		Identity: NewIdentity("bench"),
		Timing:   DefaultTiming(),
		Log:      zerolog.Nop(),
	})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	epoch := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var prev time.Time
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		t := epoch.Add(time.Duration(i+1) * time.Second)
		clk.now.Store(t.UnixNano())
		s.tick(ctx, t, prev)
		if r := s.running(); r != nil {
			<-r.ended
		}
		prev = t
	}
	if st := s.Status(); st.LastRun == nil || st.Term != 1 {
		b.Fatalf("status after the benchmark: %+v", st)
	}
}
