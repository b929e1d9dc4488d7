package scheduler

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"time"

	"github.com/moby/moby/pkg/namesgenerator"

	"go-leader-election/clock"
	"go-leader-election/internal/balance"
	"go-leader-election/internal/metrics"
	"go-leader-election/internal/schedule"
	"go-leader-election/internal/schedulers"
	"go-leader-election/internal/storehealth"
	"go-leader-election/jobs"
	"go-leader-election/store"
)

// Scheduler runs this replica's share of the jobs. Build it with New, Add
// the jobs, then Run it. Its methods are safe for concurrent use.
type Scheduler struct {
	st      store.Store
	set     settings
	id      schedulers.Identity
	health  *storehealth.Health
	metrics *metrics.Metrics // nil without WithRegisterer
	done    chan struct{}

	mu      sync.Mutex
	jobs    []schedulers.Scheduled
	group   *schedulers.Group // set by Run
	started bool
}

// New returns a Scheduler on st, or an error wrapping ErrBadOption that
// names the option and the bad value. The scheduler uses st for as long as
// it runs; closing st is the caller's, after Done.
func New(st store.Store, opts ...Option) (*Scheduler, error) {
	if st == nil {
		return nil, fmt.Errorf("%w: scheduler.New: the store is nil", ErrBadOption)
	}
	set := defaults()
	for _, o := range opts {
		if err := o(&set); err != nil {
			return nil, err
		}
	}
	if set.node == "" {
		set.node = namesgenerator.GetRandomName(0)
	}
	if set.storeName == "" {
		set.storeName = storeName(st)
	}
	if set.storeDesc == "" {
		set.storeDesc = set.storeName
	}
	s := &Scheduler{st: st, set: set, id: schedulers.NewIdentity(set.node), done: make(chan struct{})}
	log := set.log.With().Str("node", set.node).Logger()
	// Health logs store outages, once each, naming the store.
	s.health = &storehealth.Health{Log: &log, Store: set.storeDesc}
	if set.registerer != nil {
		m, err := metrics.New(set.registerer, s.statuses)
		if err != nil {
			return nil, fmt.Errorf("%w: WithRegisterer: %v", ErrBadOption, err)
		}
		if calls, ok := st.(store.CallObserver); ok { // the store counts its own RPCs
			m.UseRPCCounter()
			calls.ObserveCalls(m.ObserveRPC)
		}
		s.metrics = m
	}
	return s, nil
}

// storeName is the name of st's package ("memory", "datastore").
func storeName(st store.Store) string {
	t := reflect.TypeOf(st)
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	p := t.PkgPath()
	return p[strings.LastIndex(p, "/")+1:]
}

// Node is this replica's name (WithNode, or the random default).
func (s *Scheduler) Node() string { return s.set.node }

// Add adds a job, or returns an error wrapping ErrBadJob (naming the job and
// what is wrong), ErrDuplicateJob, or ErrStarted once Run has been called.
func (s *Scheduler) Add(j Job, opts ...JobOption) error {
	if err := CheckJobName(j.Name); err != nil {
		return err
	}
	if j.Run == nil {
		return fmt.Errorf("%w: job %s: Run is nil", ErrBadJob, j.Name)
	}
	sched, err := schedule.Parse(j.Schedule, j.Name)
	if err != nil {
		return fmt.Errorf("%w: job %s: bad schedule %q: %v", ErrBadJob, j.Name, j.Schedule, err)
	}
	var js jobSettings
	for _, o := range opts {
		if err := o(&js); err != nil {
			return fmt.Errorf("%w: job %s: %v", ErrBadJob, j.Name, err)
		}
	}
	if err := checkPolicy(j.Name, js, sched, s.set.clock.Now()); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.started {
		return fmt.Errorf("%w: Add(%s) after Run", ErrStarted, j.Name)
	}
	for _, have := range s.jobs {
		if have.Job.Name == j.Name {
			return fmt.Errorf("%w: %s", ErrDuplicateJob, j.Name)
		}
	}
	s.jobs = append(s.jobs, schedulers.Scheduled{Job: jobs.Job(j), Spec: j.Schedule, Schedule: sched, Policy: js.policy})
	if s.metrics != nil {
		s.metrics.AddJob(j.Name)
	}
	return nil
}

// Run runs the jobs until ctx ends, then stops claiming ticks, lets running
// jobs finish (up to Timing.ShutdownTimeout, then cancels them), releases
// this replica's leases and returns; Done is closed then. It returns at once
// with ErrStarted if called before, or with the error that kept it from
// starting.
func (s *Scheduler) Run(ctx context.Context) error {
	s.mu.Lock()
	if s.started {
		s.mu.Unlock()
		return ErrStarted
	}
	s.started = true
	group, err := s.newGroup()
	s.group = group
	s.mu.Unlock()
	defer close(s.done)
	if err != nil {
		return err
	}
	group.Run(ctx)
	return nil
}

// Done is closed when Run has returned: every run has ended and every lease
// this replica held is released.
func (s *Scheduler) Done() <-chan struct{} { return s.done }

// newGroup builds the engine: one scheduler per job, the membership that
// shares them out, the history and the operator's controls.
func (s *Scheduler) newGroup() (*schedulers.Group, error) {
	membership, err := s.newMembership()
	if err != nil {
		return nil, err
	}
	var obs observers
	if s.metrics != nil {
		obs = append(obs, s.metrics)
		if membership != nil {
			if err := s.metrics.UseMembers(s.members); err != nil {
				return nil, fmt.Errorf("%w: WithRegisterer: %v", ErrBadOption, err)
			}
		}
	}
	if s.set.observer != nil {
		obs = append(obs, s.set.observer)
	}
	cfg := schedulers.GroupConfig{
		Jobs: s.jobs, Store: s.st, Clock: s.set.clock, Identity: s.id, Timing: schedulers.Timing(s.set.timing),
		Log: s.set.log, Observer: obs, Health: s.health, Membership: membership,
	}
	if h, ok := s.st.(store.History); ok && s.set.historyLimit > 0 {
		cfg.History = h
	}
	cfg.Control, _ = s.st.(store.Control)
	return schedulers.NewGroup(cfg)
}

// newMembership returns the membership that shares the jobs out, or nil
// when balance is off or the store keeps no member records. Its clock offset
// is this replica's clock minus the store's, as the store estimates it
// (Datastore: from commit timestamps), plus any offset of the clock given.
func (s *Scheduler) newMembership() (*balance.Membership, error) {
	ms, ok := s.st.(store.Members)
	if !s.set.balance || !ok {
		return nil, nil
	}
	names := make([]string, len(s.jobs))
	for i, j := range s.jobs {
		names[i] = j.Job.Name
	}
	knob := clock.OffsetOf(s.set.clock)
	offset := func() (time.Duration, bool) { return knob, true } // an embedded store runs on this clock
	if reader, ok := s.st.(store.ClockReader); ok {
		offset = func() (time.Duration, bool) {
			off, _, ok := reader.ClockOffset()
			return off + knob, ok
		}
	}
	return balance.NewMembership(balance.MembershipConfig{
		Store: ms, Self: s.id.Member(), Jobs: names, Period: s.set.memberPeriod, Timeout: s.set.timing.StoreTimeout,
		Clock: s.set.clock, Started: s.set.clock.Now(), ClockOffset: offset, Log: s.set.log,
	})
}

// running returns the engine once Run has built it, else nil.
func (s *Scheduler) running() *schedulers.Group {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.group
}

// Holder is this process's holder id in the leases it takes: the node name
// and a random suffix, so that a restarted process with the same node name
// never inherits its predecessor's live lease.
func (s *Scheduler) Holder() string { return s.id.Holder }
