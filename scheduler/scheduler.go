package scheduler

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"reflect"
	"slices"
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

	mu          sync.Mutex
	jobs        []schedulers.Scheduled
	definitions map[string]string   // job → its target as written (jobSettings.definition)
	group       *schedulers.Group   // set by Run
	membership  *balance.Membership // set by Run, with balance on
	started     bool
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
	s := &Scheduler{st: st, set: set, id: schedulers.NewIdentity(set.node), done: make(chan struct{}),
		definitions: map[string]string{}}
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
// what is wrong) or ErrDuplicateJob. Once Run has started, the job starts at
// once, and the other replicas learn this one's new job set.
func (s *Scheduler) Add(j Job, opts ...JobOption) error {
	sc, js, err := prepare(j, opts, s.set.clock.Now())
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.indexLocked(j.Name) >= 0 {
		return fmt.Errorf("%w: %s", ErrDuplicateJob, j.Name)
	}
	if s.group != nil {
		if err := s.group.Add(sc); err != nil {
			return fmt.Errorf("%w: job %s: %v", ErrBadJob, j.Name, err)
		}
	}
	s.jobs = append(s.jobs, sc)
	s.definitions[j.Name] = js.definition
	if s.metrics != nil {
		s.metrics.AddJob(j.Name)
	}
	s.jobsChangedLocked()
	return nil
}

// prepare validates j and its options into what the engine runs.
func prepare(j Job, opts []JobOption, now time.Time) (schedulers.Scheduled, jobSettings, error) {
	var js jobSettings
	if err := CheckJobName(j.Name); err != nil {
		return schedulers.Scheduled{}, js, err
	}
	if j.Run == nil {
		return schedulers.Scheduled{}, js, fmt.Errorf("%w: job %s: Run is nil", ErrBadJob, j.Name)
	}
	sched, err := schedule.Parse(j.Schedule, j.Name)
	if err != nil {
		return schedulers.Scheduled{}, js, fmt.Errorf("%w: job %s: bad schedule %q: %v", ErrBadJob, j.Name, j.Schedule, err)
	}
	for _, o := range opts {
		if err := o(&js); err != nil {
			return schedulers.Scheduled{}, js, fmt.Errorf("%w: job %s: %v", ErrBadJob, j.Name, err)
		}
	}
	if err := checkPolicy(j.Name, js, sched, now); err != nil {
		return schedulers.Scheduled{}, js, err
	}
	return schedulers.Scheduled{Job: jobs.Job(j), Spec: j.Schedule, Schedule: sched, Policy: js.policy}, js, nil
}

// closed is a channel closed from the start.
var closed = func() chan struct{} { c := make(chan struct{}); close(c); return c }()

func (s *Scheduler) indexLocked(name string) int {
	return slices.IndexFunc(s.jobs, func(sc schedulers.Scheduled) bool { return sc.Job.Name == name })
}

// Remove removes a job: from then on this replica claims none of its ticks;
// a run under way finishes (as on shutdown, up to Timing.ShutdownTimeout)
// and the job's lease is released, so that a replica that still has the job
// runs its next tick. It returns at once, or ErrUnknownJob.
func (s *Scheduler) Remove(name string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := s.removeLocked(name); err != nil {
		return err
	}
	s.jobsChangedLocked()
	return nil
}

// removeLocked takes name out, returning a channel closed once its
// scheduler has stopped.
func (s *Scheduler) removeLocked(name string) (<-chan struct{}, error) {
	i := s.indexLocked(name)
	if i < 0 {
		return nil, fmt.Errorf("%w: %s", ErrUnknownJob, name)
	}
	var ended <-chan struct{} = closed
	if s.group != nil {
		var err error
		if ended, err = s.group.Remove(name); err != nil {
			return nil, err
		}
	}
	s.jobs = slices.Delete(s.jobs, i, i+1)
	delete(s.definitions, name)
	return ended, nil
}

// Replace changes a job (its schedule, its Run, its options), or returns
// ErrUnknownJob or Add's errors. The job's current scheduler stops as on
// Remove (a run under way finishes, the lease is released), and the new
// definition starts once it has: from the job's next tick, unless the
// current run lasts past it. It returns at once.
func (s *Scheduler) Replace(j Job, opts ...JobOption) error {
	sc, js, err := prepare(j, opts, s.set.clock.Now())
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ended, err := s.removeLocked(j.Name)
	if err != nil {
		return err
	}
	s.jobs = append(s.jobs, sc)
	s.definitions[j.Name] = js.definition
	if g := s.group; g != nil {
		// Never two schedulers of one job on a replica: they share the
		// holder, so the second could claim while the first still runs.
		go func() {
			<-ended
			if err := g.Add(sc); err != nil {
				s.set.log.Error().Err(err).Str("job", j.Name).Msg("Job not replaced")
			}
		}()
	}
	s.jobsChangedLocked()
	return nil
}

// jobsChangedLocked tells the membership, once it runs, this replica's new
// job set.
func (s *Scheduler) jobsChangedLocked() {
	if s.membership != nil {
		s.membership.SetJobs(s.jobNamesLocked(), s.jobSetLocked())
	}
}

func (s *Scheduler) jobNamesLocked() []string {
	names := make([]string, len(s.jobs))
	for i, j := range s.jobs {
		names[i] = j.Job.Name
	}
	return names
}

// jobSetLocked is a hash of this replica's jobs: their names, schedules and
// definitions (a command's or HTTP target's, as written), so that replicas
// with the same jobs publish the same hash whatever the order of their Adds.
func (s *Scheduler) jobSetLocked() string {
	lines := make([]string, len(s.jobs))
	for i, j := range s.jobs {
		lines[i] = j.Job.Name + "\x1f" + j.Spec + "\x1f" + s.definitions[j.Job.Name]
	}
	slices.Sort(lines)
	sum := sha256.Sum256([]byte(strings.Join(lines, "\x1e")))
	return hex.EncodeToString(sum[:])
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
	s.membership = membership
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
		Jobs: s.jobs, Store: s.st, Clock: s.set.clock, Identity: s.id, Timing: s.set.timing,
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
	knob := clock.OffsetOf(s.set.clock)
	offset := func() (time.Duration, bool) { return knob, true } // an embedded store runs on this clock
	if reader, ok := s.st.(store.ClockReader); ok {
		offset = func() (time.Duration, bool) {
			off, _, ok := reader.ClockOffset()
			return off + knob, ok
		}
	}
	return balance.NewMembership(balance.MembershipConfig{
		Store: ms, Self: s.id.Member(), Jobs: s.jobNamesLocked(), JobSet: s.jobSetLocked(), Period: s.set.memberPeriod, Timeout: s.set.timing.StoreTimeout,
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
