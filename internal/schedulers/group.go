package schedulers

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"go-leader-election/clock"
	"go-leader-election/internal/balance"
	"go-leader-election/internal/storehealth"
	"go-leader-election/jobs"
	"go-leader-election/store"
)

// Scheduled is one job as a node runs it: the job, its schedule and its
// policy.
type Scheduled struct {
	Job      jobs.Job
	Spec     string
	Schedule Schedule
	Policy   Policy
}

// GroupConfig is what a Group is built from: the fields shared by every
// job's scheduler on one node (see Config for each).
type GroupConfig struct {
	Jobs     []Scheduled
	Store    store.Store
	Clock    clock.Clock
	Identity Identity
	Timing   Timing
	Log      zerolog.Logger
	Observer Observer
	// Health, if set, is the node's store health (with its outage log);
	// default a Health that logs nothing.
	Health *storehealth.Health
	// Membership, if set, shares the jobs out among the nodes: it is run
	// with the schedulers and consulted by each (see balance.Membership).
	Membership *balance.Membership
	// History, if set, keeps the history of every job's runs; the group
	// writes it through one History (history.go) shared by its schedulers.
	History store.History
	// Control, if set, enables the operator's actions (actions.go).
	Control store.Control
}

// Group is one node's schedulers, one per job, sharing a store, an identity
// and one Health. The daemon and cmd/scale build their nodes with it. Jobs
// may be added and removed while it runs (a reloaded jobs file).
type Group struct {
	cfg     GroupConfig
	health  *storehealth.Health
	members *balance.Membership
	history *History      // nil when the history is off
	runs    store.History // what history writes to, for reads
	timeout time.Duration

	mu      sync.Mutex
	scheds  []*Scheduler
	stops   map[*Scheduler]context.CancelFunc // of the running ones
	ended   map[*Scheduler]chan struct{}      // closed when each has stopped
	running context.Context                   // Run's, once it runs
	closed  bool                              // Run's context has ended: no more starts
	wg      sync.WaitGroup                    // the running schedulers
}

// NewGroup returns a scheduler per job, or the first configuration error.
func NewGroup(cfg GroupConfig) (*Group, error) {
	g := &Group{cfg: cfg, health: cfg.Health, members: cfg.Membership, runs: cfg.History,
		timeout: cfg.Timing.StoreTimeout, stops: map[*Scheduler]context.CancelFunc{},
		ended: map[*Scheduler]chan struct{}{}}
	if g.health == nil {
		g.health = &storehealth.Health{}
	}
	if cfg.History != nil {
		var err error
		g.history, err = NewHistory(HistoryConfig{Store: cfg.History, Timeout: cfg.Timing.StoreTimeout,
			Log: cfg.Log.With().Str("node", cfg.Identity.Node).Logger(), Observer: cfg.Observer})
		if err != nil {
			return nil, err
		}
	}
	for _, j := range cfg.Jobs {
		s, err := g.newScheduler(j)
		if err != nil {
			return nil, err
		}
		g.scheds = append(g.scheds, s)
	}
	return g, nil
}

// newScheduler builds j's scheduler with the group's shared parts.
func (g *Group) newScheduler(j Scheduled) (*Scheduler, error) {
	cfg := g.cfg
	sc := Config{
		Job: j.Job, Spec: j.Spec, Schedule: j.Schedule, Store: cfg.Store, Clock: cfg.Clock,
		Identity: cfg.Identity, Timing: cfg.Timing, Log: cfg.Log, Health: g.health, Observer: cfg.Observer,
		History: g.history, Control: cfg.Control, Policy: j.Policy,
	}
	if cfg.Membership != nil { // a nil *Membership in the interface would not be a nil Balancer
		sc.Balance = cfg.Membership
	}
	return New(sc)
}

// Run runs every scheduler (and the membership) until ctx ends and all have
// stopped and released their leases. The membership record is deleted as
// soon as ctx ends, so that peers stop preferring this node while its last
// runs finish.
func (g *Group) Run(ctx context.Context) {
	var members sync.WaitGroup
	if g.members != nil {
		members.Go(func() { g.members.Run(ctx) })
	}
	g.mu.Lock()
	g.running = ctx
	for _, s := range g.scheds {
		g.startLocked(s)
	}
	g.mu.Unlock()
	<-ctx.Done()
	g.mu.Lock()
	g.closed = true // no scheduler starts after this: wg.Wait is safe
	g.mu.Unlock()
	g.wg.Wait()
	members.Wait()
	if g.history != nil {
		// The last runs' records, within a store call's time.
		flush, cancel := context.WithTimeout(context.Background(), g.timeout)
		defer cancel()
		g.history.Flush(flush)
	}
}

// startLocked runs s until Run's context ends or s is removed.
func (g *Group) startLocked(s *Scheduler) {
	if g.running == nil || g.closed {
		return
	}
	ctx, stop := context.WithCancel(g.running)
	ended := make(chan struct{})
	g.stops[s], g.ended[s] = stop, ended
	g.wg.Go(func() {
		defer close(ended)
		defer stop()
		s.Run(ctx)
	})
}

// Add adds a job, started at once if the group runs, or returns the
// scheduler's configuration error, or ErrDuplicateJob.
func (g *Group) Add(j Scheduled) error {
	s, err := g.newScheduler(j)
	if err != nil {
		return err
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, have := range g.scheds {
		if have.job.Name == j.Job.Name {
			return fmt.Errorf("%w: %s", ErrDuplicateJob, j.Job.Name)
		}
	}
	g.scheds = append(g.scheds, s)
	g.startLocked(s)
	return nil
}

// Remove stops job's scheduler: it claims no more ticks, its run (if any)
// finishes as on shutdown, and it releases its lease. It returns at once,
// with a channel closed once the scheduler has stopped (at once if it never
// ran), or ErrUnknownJob if the group has no such job.
func (g *Group) Remove(job string) (<-chan struct{}, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	for i, s := range g.scheds {
		if s.job.Name != job {
			continue
		}
		g.scheds = slices.Delete(g.scheds, i, i+1)
		ended := g.ended[s]
		if stop := g.stops[s]; stop != nil {
			stop()
		} else {
			ended = make(chan struct{})
			close(ended)
		}
		delete(g.stops, s)
		delete(g.ended, s)
		return ended, nil
	}
	return nil, ErrUnknownJob
}

// schedulers returns the group's schedulers, in the order added.
func (g *Group) schedulers() []*Scheduler {
	g.mu.Lock()
	defer g.mu.Unlock()
	return slices.Clone(g.scheds)
}

// Members returns the live members with the jobs each leads, as this node
// sees them; nil without a Membership.
func (g *Group) Members() []balance.MemberStatus {
	if g.members == nil {
		return nil
	}
	ms := g.members.Members()
	leads := map[string][]string{}
	for _, st := range g.Statuses() {
		if st.Leader != "" {
			leads[st.Leader] = append(leads[st.Leader], st.Job)
		}
	}
	for i := range ms {
		ms[i].Leads = append([]string{}, leads[ms[i].Node]...)
		if ms[i].Preferred == nil {
			ms[i].Preferred = []string{}
		}
	}
	return ms
}

// Statuses returns each job's status, in the order the jobs were added.
func (g *Group) Statuses() []Status {
	scheds := g.schedulers()
	out := make([]Status, len(scheds))
	for i, s := range scheds {
		out[i] = s.Status()
	}
	return out
}

// Health is the store's health as this node's store calls saw it.
func (g *Group) Health() *storehealth.Health { return g.health }
