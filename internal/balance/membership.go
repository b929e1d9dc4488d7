package balance

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"go-leader-election/clock"
	"go-leader-election/lease"
	"go-leader-election/store"
)

// ClockOffsetWarning is the clock offset from the store past which a node
// logs "Clock offset high": skew never makes a tick run twice, but a node
// whose clock is ahead runs its ticks that much early.
const ClockOffsetWarning = 500 * time.Millisecond

// MembershipConfig is what a Membership is built from.
type MembershipConfig struct {
	// Store keeps the member records. Required.
	Store store.Members
	// Self is this process as a member: ID its unique identity (the
	// holder name of its leases), Node its node name. Required (ID
	// non-empty).
	Self Candidate
	// Jobs are the names of the jobs this process runs, to share out
	// among the members that run them too (SetJobs changes them).
	Jobs []string
	// JobSet is a hash of this process's jobs, published in its record:
	// members with the same JobSet run the same jobs (SetJobs changes it).
	JobSet string
	// Period is how often the record is renewed and the others read. A
	// record's TTL is 3 Periods; a member joins the assignment once seen
	// for 2 Periods. Default 2s. Invariant: positive.
	Period time.Duration
	// Timeout bounds each store call. Default Period/2.
	Timeout time.Duration
	// Clock tells the time. Default clock.Real{}.
	Clock clock.Clock
	// Started is when this process started (shown to people).
	Started time.Time
	// ClockOffset, if set, estimates this process's clock minus the
	// store's; it is published in the record.
	ClockOffset func() (time.Duration, bool)
	// Log receives the membership events.
	Log zerolog.Logger
}

// Membership announces this process in the store, reads the others'
// records, and shares the jobs out among the live members (Assign). Its
// judgement of lapse is package lease's, by observed time. When the store
// cannot be read for longer than a record's TTL, balance pauses (Preferred
// answers ok=false) and the schedulers keep what they hold.
type Membership struct {
	cfg MembershipConfig
	clk clock.Clock
	log zerolog.Logger

	mu         sync.Mutex
	others     map[string]*memberView // by ID
	listedAt   time.Time              // last successful read, own clock
	offset     time.Duration
	offsetOK   bool
	warned     bool
	badSeen    map[string]bool
	jobs       []string          // this process's jobs (cfg.Jobs, then SetJobs)
	jobSet     string            // their hash
	assigned   map[string]string // job → member ID
	candidates []Candidate       // what assigned was computed from
	holdings   string            // and what the candidates run (holdingsLocked)
	sets       jobSets           // the live members' job sets (jobsets.go)
}

type memberView struct {
	rec       store.Member
	seen      *lease.Observer // judges rec for lapse, by observed time
	firstSeen time.Time
	lapsed    bool
}

// NewMembership returns a Membership; Run starts it.
func NewMembership(cfg MembershipConfig) (*Membership, error) {
	if cfg.Store == nil || cfg.Self.ID == "" {
		return nil, errors.New("balance: MembershipConfig needs a Store and a Self")
	}
	if cfg.Period == 0 {
		cfg.Period = 2 * time.Second
	}
	if cfg.Period < 0 {
		return nil, fmt.Errorf("balance: member period %s must be positive", cfg.Period)
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = cfg.Period / 2
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.Real{}
	}
	m := &Membership{cfg: cfg, clk: cfg.Clock, others: map[string]*memberView{}, badSeen: map[string]bool{},
		log: cfg.Log.With().Str("node", cfg.Self.Node).Logger(), jobs: slices.Clone(cfg.Jobs), jobSet: cfg.JobSet}
	m.candidates = []Candidate{cfg.Self}
	m.assigned = Assign(m.jobs, m.candidates, nil)
	return m, nil
}

// TTL is how long a member record promises the next write.
func (m *Membership) TTL() time.Duration { return 3 * m.cfg.Period }

// Run renews this process's record and reads the others' every Period
// until ctx ends, then deletes the record (a graceful leave) and returns.
func (m *Membership) Run(ctx context.Context) {
	for {
		m.round(ctx)
		timer := m.clk.NewTimer(m.cfg.Period)
		select {
		case <-ctx.Done():
			timer.Stop()
			dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), m.cfg.Timeout)
			if err := m.cfg.Store.DeleteMember(dctx, m.cfg.Self.ID); err != nil {
				m.log.Warn().Err(err).Msg("Member record not deleted; peers see it lapse")
			}
			cancel()
			return
		case <-timer.C:
		}
	}
}

func (m *Membership) round(ctx context.Context) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), m.cfg.Timeout)
	defer cancel()
	now := m.clk.Now()
	rec := store.Member{ID: m.cfg.Self.ID, Node: m.cfg.Self.Node, Started: m.cfg.Started,
		Renewed: now, TTL: m.TTL()}
	m.mu.Lock()
	rec.JobSet = m.jobSet
	if m.sets.differ { // the others need the names to know what this one runs
		rec.Jobs = m.jobs
	}
	m.mu.Unlock()
	if m.cfg.ClockOffset != nil {
		if off, ok := m.cfg.ClockOffset(); ok {
			rec.ClockOffset = off
			m.noteOffset(off)
		}
	}
	if _, err := m.cfg.Store.PutMember(ctx, rec); err != nil {
		m.log.Debug().Err(err).Msg("Member record not renewed")
	}
	list, bad, err := m.cfg.Store.ListMembers(ctx)
	if err != nil {
		m.log.Debug().Err(err).Msg("Members not read; balance pauses while this lasts")
		return
	}
	for _, b := range bad {
		if key := b.Error(); !m.badSeen[key] {
			m.badSeen[key] = true
			m.log.Warn().Err(b).Msg("Member record ignored")
		}
	}
	m.update(list)
}

func (m *Membership) noteOffset(off time.Duration) {
	m.mu.Lock()
	m.offset, m.offsetOK = off, true
	high := off > ClockOffsetWarning || off < -ClockOffsetWarning
	warn := high && !m.warned
	m.warned = high
	m.mu.Unlock()
	if warn {
		m.log.Warn().Str("offset", off.Round(time.Millisecond).String()).Str("bound", ClockOffsetWarning.String()).
			Msg("Clock offset high")
	}
}

// update takes a fresh list of the records.
func (m *Membership) update(list []store.Member) {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.clk.Now()
	m.listedAt = now
	present := map[string]bool{}
	for _, r := range list {
		if r.ID == m.cfg.Self.ID {
			continue
		}
		present[r.ID] = true
		v := m.others[r.ID]
		if v == nil {
			v = &memberView{seen: lease.NewObserver(m.clk), firstSeen: now, lapsed: true}
			m.others[r.ID] = v
		}
		v.rec = r
		st := v.seen.Observe(r.Lease())
		lapsed := st.Lapsed(now)
		switch {
		case v.lapsed && !lapsed:
			v.firstSeen = now // (re)joined: seen stably only from now
			m.log.Info().Str("member", r.Node).Str("id", r.ID).Msg("Member joined")
		case !v.lapsed && lapsed:
			m.log.Info().Str("member", r.Node).Str("id", r.ID).Str("reason", "lapsed").Msg("Member left")
		}
		v.lapsed = lapsed
		if lapsed && now.Sub(st.Until) > 10*m.TTL() {
			// A record lapsed this long belongs to a process that died:
			// tidy it away (the delete is idempotent; any node may do it).
			go m.deleteLapsed(r.ID)
		}
	}
	for id, v := range m.others {
		if present[id] {
			continue
		}
		if !v.lapsed {
			m.log.Info().Str("member", v.rec.Node).Str("id", id).Str("reason", "left").Msg("Member left")
		}
		delete(m.others, id)
	}
	m.noteJobSetsLocked()
	m.reassignLocked(now, false)
}

// reassignLocked recomputes the assignment when the candidates, or what
// they run, changed (or always, with force). Members become candidates
// once seen for 2 Periods, so the set can change in a round where no record
// did: compare it, and reassign only when it differs.
func (m *Membership) reassignLocked(now time.Time, force bool) {
	c := m.candidatesLocked(now)
	h := m.holdingsLocked(c)
	if force || !slices.Equal(c, m.candidates) || h != m.holdings {
		m.candidates, m.holdings = c, h
		m.assigned = Assign(m.jobs, c, m.hasLocked)
	}
}

// deleteLapsed deletes a dead process's record, within a store call's
// time; best effort: the next round tries again if it fails.
func (m *Membership) deleteLapsed(id string) {
	ctx, cancel := context.WithTimeout(context.Background(), m.cfg.Timeout)
	defer cancel()
	_ = m.cfg.Store.DeleteMember(ctx, id)
}

// candidatesLocked returns this process and the others that are live and
// seen stably.
func (m *Membership) candidatesLocked(now time.Time) []Candidate {
	out := []Candidate{m.cfg.Self}
	for id, v := range m.others {
		if !v.lapsed && now.Sub(v.firstSeen) >= 2*m.cfg.Period {
			out = append(out, Candidate{ID: id, Node: v.rec.Node})
		}
	}
	slices.SortFunc(out, func(a, b Candidate) int { return strings.Compare(a.ID, b.ID) })
	return out
}

// Preferred returns the member that should lead job, and whether balance is
// active: false while the members could not be read for longer than a
// record's TTL.
func (m *Membership) Preferred(job string) (Candidate, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.activeLocked() {
		return Candidate{}, false
	}
	return m.candidateLocked(m.assigned[job])
}

// PreferredWithout returns the member that should lead job among the
// candidates other than the member id: the successor of a member that has
// released the job (a graceful stop, before the others see its record
// go). Every node that sees the same candidates names the same successor.
// It answers as Preferred does when id is not a candidate.
func (m *Membership) PreferredWithout(job, id string) (Candidate, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.activeLocked() {
		return Candidate{}, false
	}
	others := slices.DeleteFunc(slices.Clone(m.candidates), func(c Candidate) bool { return c.ID == id })
	if len(others) == len(m.candidates) {
		return m.candidateLocked(m.assigned[job])
	}
	return m.candidateLocked(Assign(m.jobs, others, m.hasLocked)[job])
}

// activeLocked reports whether balance is active: the members were read
// within a record's TTL.
func (m *Membership) activeLocked() bool {
	return !m.listedAt.IsZero() && m.clk.Now().Sub(m.listedAt) <= m.TTL()
}

// candidateLocked returns the member with identity id ("" for none).
func (m *Membership) candidateLocked(id string) (Candidate, bool) {
	if id == "" {
		return Candidate{}, false
	}
	if id == m.cfg.Self.ID {
		return m.cfg.Self, true
	}
	if v := m.others[id]; v != nil {
		return Candidate{ID: id, Node: v.rec.Node}, true
	}
	return Candidate{}, false
}

// MemberStatus is one live member as this node sees it, for /members.
type MemberStatus struct {
	Node    string    `json:"node"`
	ID      string    `json:"id"`
	Started time.Time `json:"started,omitzero"`
	// LastRenewal is when this node first saw the member's latest record,
	// by its own clock.
	LastRenewal time.Time `json:"last_renewal"`
	// ClockOffset is the member's own estimate of its clock minus the
	// store's; ClockOffsetKnown is false when it has none.
	ClockOffset      time.Duration `json:"-"`
	ClockOffsetText  string        `json:"clock_offset"`
	ClockOffsetKnown bool          `json:"clock_offset_known"`
	Self             bool          `json:"self"`
	// JobSet is the hash of the jobs the member runs (members that
	// disagree are logged: "Job sets differ").
	JobSet string `json:"job_set"`
	// Leads lists the jobs whose lease names the member's node, as last
	// seen here; Preferred the jobs the assignment gives it.
	Leads     []string `json:"leads"`
	Preferred []string `json:"preferred"`
}

// Members returns the live members, this process first.
func (m *Membership) Members() []MemberStatus {
	m.mu.Lock()
	defer m.mu.Unlock()
	self := MemberStatus{Node: m.cfg.Self.Node, ID: m.cfg.Self.ID, Started: m.cfg.Started,
		LastRenewal: m.listedAt, ClockOffset: m.offset, ClockOffsetKnown: m.offsetOK, Self: true, JobSet: m.jobSet}
	out := []MemberStatus{self}
	for id, v := range m.others {
		if v.lapsed {
			continue
		}
		st := v.seen.State()
		out = append(out, MemberStatus{Node: v.rec.Node, ID: id, Started: v.rec.Started,
			LastRenewal: st.Until.Add(-v.rec.TTL), ClockOffset: v.rec.ClockOffset, ClockOffsetKnown: v.rec.ClockOffset != 0,
			JobSet: v.rec.JobSet})
	}
	slices.SortFunc(out[1:], func(a, b MemberStatus) int {
		return cmp.Or(strings.Compare(a.Node, b.Node), strings.Compare(a.ID, b.ID))
	})
	for i := range out {
		out[i].ClockOffsetText = out[i].ClockOffset.Round(time.Millisecond).String()
		for _, j := range m.jobs {
			if m.assigned[j] == out[i].ID {
				out[i].Preferred = append(out[i].Preferred, j)
			}
		}
	}
	return out
}
