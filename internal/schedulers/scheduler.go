package schedulers

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"go-leader-election/clock"
	"go-leader-election/internal/balance"
	"go-leader-election/internal/storehealth"
	"go-leader-election/jobs"
	"go-leader-election/lease"
	"go-leader-election/store"
)

// Config is what a Scheduler is built from.
type Config struct {
	// Job is the work; its Name keys the lease. Required.
	Job jobs.Job
	// Spec is the schedule as written, for status.
	Spec string
	// Schedule gives the job's ticks. Required.
	Schedule Schedule
	// Store keeps the job's lease. Required.
	Store store.Store
	// Clock tells the time. Default clock.Real{}.
	Clock clock.Clock
	// Identity names this process. Required (Holder non-empty).
	Identity Identity
	// Timing tunes the protocol; it must pass Timing.Validate.
	Timing Timing
	// Log receives the job's events; job and node are added.
	Log zerolog.Logger
	// Health, if set, is told the outcome of every store call.
	Health *storehealth.Health
	// Observer, if set, is told of runs, skips and leadership changes.
	Observer Observer
	// History, if set, records every run (and runs lost by a holder this
	// node takes over from) in the store's shared history (history.go).
	History *History
	// Control, if set, enables the operator's actions: RunNow and
	// SetPaused (actions.go).
	Control store.Control
	// Balance, if set, shares the jobs out among the nodes
	// (balance.Membership): a holder hands a job over, between runs, to the
	// node it prefers.
	Balance Balancer
	// Policy is the job's overlap policy, starting deadline, retries and
	// timeout (policy.go); the zero Policy is the defaults.
	Policy Policy
}

// Balancer answers which member should lead a job, and whether it has an
// opinion (see balance.Membership.Preferred); PreferredWithout answers the
// same among the members other than the process id (a node that has
// released the job).
type Balancer interface {
	Preferred(job string) (balance.Candidate, bool)
	PreferredWithout(job, id string) (balance.Candidate, bool)
}

// Scheduler runs one job on this node, on the ticks no other node runs.
type Scheduler struct {
	cfg   Config
	job   jobs.Job
	clk   clock.Clock
	id    Identity
	t     Timing
	log   zerolog.Logger
	obs   Observer
	lease *lease.Handle

	mu      sync.Mutex
	run     *activeRun
	waiting *buffered // a tick to start when run ends (BufferOne; overlap.go)
	last    *LastRun
	next    time.Time

	act actions // the operator's actions (actions.go)
}

// New returns a scheduler, or an error naming what in cfg is invalid; Run
// starts it.
func New(cfg Config) (*Scheduler, error) {
	switch {
	case cfg.Job.Name == "" || cfg.Job.Run == nil:
		return nil, errors.New("schedulers: Config.Job needs a Name and a Run function")
	case cfg.Schedule == nil:
		return nil, fmt.Errorf("schedulers: job %s: Config.Schedule is required", cfg.Job.Name)
	case cfg.Store == nil:
		return nil, fmt.Errorf("schedulers: job %s: Config.Store is required", cfg.Job.Name)
	case cfg.Identity.Holder == "":
		return nil, fmt.Errorf("schedulers: job %s: Config.Identity.Holder is required", cfg.Job.Name)
	}
	if err := cfg.Timing.Validate(); err != nil {
		return nil, fmt.Errorf("schedulers: job %s: %w", cfg.Job.Name, err)
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.Real{}
	}
	if err := cfg.Policy.Validate(cfg.Schedule, cfg.Clock.Now()); err != nil {
		return nil, fmt.Errorf("schedulers: job %s: %w", cfg.Job.Name, err)
	}
	if cfg.Observer == nil {
		cfg.Observer = nopObserver{}
	}
	s := &Scheduler{cfg: cfg, job: cfg.Job, clk: cfg.Clock, id: cfg.Identity, t: cfg.Timing, obs: cfg.Observer,
		log: cfg.Log.With().Str("job", cfg.Job.Name).Str("node", cfg.Identity.Node).Logger(), act: newActions()}
	l, err := lease.New(lease.Config{
		Store: cfg.Store, Name: cfg.Job.Name, Holder: cfg.Identity.Holder, Node: cfg.Identity.Node,
		Clock: cfg.Clock, Trust: cfg.Timing.trust(), Timeout: cfg.Timing.StoreTimeout,
		OnCall: func(op string, d time.Duration, err error) {
			cfg.Health.ReportCall(cfg.Job.Name, op, err)
			s.obs.StoreCall(s.job.Name, op, d, err)
		},
	})
	if err != nil {
		return nil, fmt.Errorf("schedulers: job %s: %w", cfg.Job.Name, err)
	}
	s.lease = l
	return s, nil
}

// Run handles ticks until ctx ends, then stops claiming, lets a running job
// finish (up to Timing.ShutdownTimeout, then cancels it), releases the lease
// if this node holds it, and returns.
func (s *Scheduler) Run(ctx context.Context) {
	s.log.Info().Str("schedule", s.cfg.Spec).Str("first_tick", formatTick(s.cfg.Schedule.Next(s.clk.Now()))).Msg("Scheduled")
	s.lookBack(ctx) // the latest tick due, if nobody may have run it (catchup.go)
	var last time.Time
	for {
		t := s.nextTick(last)
		if !s.waitForTick(ctx, t) { // serves manual runs meanwhile (actions.go)
			break
		}
		s.tick(ctx, t, s.judged(last))
		last = t
	}
	s.shutdown()
}

// leading reports whether this node holds the lease by its own reckoning
// (its latest write as holder has not expired), so that it claims the next
// tick without reading first. Running a job asks more: that the hold is
// trusted (lease.State.Trusted).
func (s *Scheduler) leading() bool { return s.lease.State().Kind == lease.Mine }

// nextTick returns the tick to handle after last: the next one, unless the
// node fell more than a tick behind, in which case the latest one due.
func (s *Scheduler) nextTick(last time.Time) time.Time {
	now := s.clk.Now()
	t := s.cfg.Schedule.Next(now)
	if !last.IsZero() {
		t = s.cfg.Schedule.Next(last)
		for i := 0; i < 1000; i++ {
			following := s.cfg.Schedule.Next(t)
			if following.After(now) {
				break
			}
			t = following
		}
		if !s.cfg.Schedule.Next(t).After(now) {
			t = s.cfg.Schedule.Next(now)
		}
	}
	s.mu.Lock()
	s.next = t
	s.mu.Unlock()
	return t
}

// sleepUntil waits until the clock reads at, or ctx ends (false).
func (s *Scheduler) sleepUntil(ctx context.Context, at time.Time) bool {
	d := at.Sub(s.clk.Now())
	if d <= 0 {
		return ctx.Err() == nil
	}
	timer := s.clk.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-timer.C:
		return true
	}
}

func formatTick(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }
