package schedulers

import (
	"context"
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
// and one Health. The daemon and cmd/scale build their nodes with it.
type Group struct {
	scheds  []*Scheduler
	health  *storehealth.Health
	members *balance.Membership
	history *History      // nil when the history is off
	runs    store.History // what history writes to, for reads
	timeout time.Duration
}

// NewGroup returns a scheduler per job, or the first configuration error.
func NewGroup(cfg GroupConfig) (*Group, error) {
	g := &Group{health: cfg.Health, members: cfg.Membership, runs: cfg.History, timeout: cfg.Timing.StoreTimeout}
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
		sc := Config{
			Job: j.Job, Spec: j.Spec, Schedule: j.Schedule, Store: cfg.Store, Clock: cfg.Clock,
			Identity: cfg.Identity, Timing: cfg.Timing, Log: cfg.Log, Health: g.health, Observer: cfg.Observer,
			History: g.history, Control: cfg.Control, Policy: j.Policy,
		}
		if cfg.Membership != nil { // a nil *Membership in the interface would not be a nil Balancer
			sc.Balance = cfg.Membership
		}
		s, err := New(sc)
		if err != nil {
			return nil, err
		}
		g.scheds = append(g.scheds, s)
	}
	return g, nil
}

// Run runs every scheduler (and the membership) until ctx ends and all have
// stopped and released their leases. The membership record is deleted as
// soon as ctx ends, so that peers stop preferring this node while its last
// runs finish.
func (g *Group) Run(ctx context.Context) {
	var wg sync.WaitGroup
	if g.members != nil {
		wg.Go(func() { g.members.Run(ctx) })
	}
	for _, s := range g.scheds {
		wg.Go(func() { s.Run(ctx) })
	}
	wg.Wait()
	if g.history != nil {
		// The last runs' records, within a store call's time.
		flush, cancel := context.WithTimeout(context.Background(), g.timeout)
		defer cancel()
		g.history.Flush(flush)
	}
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

// Statuses returns each job's status, in the order of GroupConfig.Jobs.
func (g *Group) Statuses() []Status {
	out := make([]Status, len(g.scheds))
	for i, s := range g.scheds {
		out[i] = s.Status()
	}
	return out
}

// Health is the store's health as this node's store calls saw it.
func (g *Group) Health() *storehealth.Health { return g.health }
