package schedulers

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"go-leader-election/clock"
	"go-leader-election/jobs"
	"go-leader-election/store"
)

// Identity names a process. Node is the operator's name for the replica;
// Holder adds a per-process random suffix, so that a restarted process with
// the same node name never inherits its predecessor's live lease.
type Identity struct {
	Node   string
	Holder string
}

// NewIdentity returns node's identity for this process.
func NewIdentity(node string) Identity {
	b := make([]byte, 4)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return Identity{Node: node, Holder: node + "/" + hex.EncodeToString(b)}
}

// Config is what a Scheduler is built from.
type Config struct {
	Job      jobs.Job
	Spec     string // the schedule as written, for status
	Schedule Schedule
	Store    store.Store
	Clock    clock.Clock
	Identity Identity
	Timing   Timing
	Log      zerolog.Logger
	// Health, if set, is told the outcome of every store call.
	Health *Health
	// Observer, if set, is told of runs, skips and leadership changes.
	Observer Observer
}

// Scheduler runs one job on this node, on the ticks no other node runs.
type Scheduler struct {
	cfg Config
	job jobs.Job
	clk clock.Clock
	id  Identity
	t   Timing
	log zerolog.Logger
	obs Observer

	mu sync.Mutex
	// known is the record as this node last read or wrote it; seenAt is when
	// this node first saw known.Version (the observed-time method).
	known  store.Lease
	seenAt time.Time
	// sentAt and ttl describe this node's most recent successful write as
	// holder; zero sentAt means it does not hold the lease.
	sentAt    time.Time
	ttl       time.Duration
	myVersion int64
	run       *activeRun
	last      *RunRecord
	next      time.Time
}

// New returns a scheduler; Run starts it.
func New(cfg Config) *Scheduler {
	if cfg.Clock == nil {
		cfg.Clock = clock.Real{}
	}
	if cfg.Observer == nil {
		cfg.Observer = nopObserver{}
	}
	log := cfg.Log.With().Str("job", cfg.Job.Name).Str("node", cfg.Identity.Node).Logger()
	return &Scheduler{cfg: cfg, job: cfg.Job, clk: cfg.Clock, id: cfg.Identity, t: cfg.Timing, log: log, obs: cfg.Observer}
}

// Run handles ticks until ctx ends, then stops claiming, lets a running job
// finish (up to Timing.ShutdownTimeout, then cancels it), releases the lease
// if this node holds it, and returns.
func (s *Scheduler) Run(ctx context.Context) {
	s.log.Info().Str("schedule", s.cfg.Spec).Str("first_tick", formatTick(s.cfg.Schedule.Next(s.clk.Now()))).Msg("Scheduled")
	var last time.Time
	for {
		t := s.nextTick(last)
		at := t
		if !s.leading() {
			at = t.Add(s.t.FollowerDelay)
		}
		if !s.sleepUntil(ctx, at) {
			break
		}
		s.tick(ctx, t, last)
		last = t
	}
	s.shutdown()
}

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

// note records a record read from or returned by the store.
func (s *Scheduler) note(l store.Lease) {
	s.mu.Lock()
	s.noteLocked(l)
	s.mu.Unlock()
}

func (s *Scheduler) noteLocked(l store.Lease) {
	if l.Version != s.known.Version || s.seenAt.IsZero() {
		s.seenAt = s.clk.Now()
	}
	s.known = l
	if l.Holder != s.id.Holder && l.Version > s.myVersion {
		s.sentAt = time.Time{} // someone else wrote after this node's last write
	}
}

// noteWrite records a successful write as holder, sent at sent.
func (s *Scheduler) noteWrite(l store.Lease, sent time.Time) {
	s.mu.Lock()
	s.noteLocked(l)
	if sent.After(s.sentAt) {
		s.sentAt, s.ttl, s.myVersion = sent, l.TTL, l.Version
		if s.run != nil {
			// The latest write is the lease now, even when it is shorter
			// than the one before (a renewal of a long claim).
			s.run.expiry.Reset(s.trustedUntilLocked().Sub(s.clk.Now()))
		}
	}
	s.mu.Unlock()
}

// lapseAt is when, by this node's clock, l lapses: its TTL after this node
// first saw its version. Clock offsets between nodes do not enter into it.
func (s *Scheduler) lapseAt(l store.Lease) time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.noteLocked(l)
	return s.seenAt.Add(l.TTL)
}

// trustedUntilLocked is when this node stops trusting its own hold.
func (s *Scheduler) trustedUntilLocked() time.Time {
	if s.sentAt.IsZero() {
		return time.Time{}
	}
	return s.sentAt.Add(s.t.trusted(s.ttl))
}

// leading reports whether this node holds the lease: its latest write as
// holder has not expired by its own reckoning. (Running a job asks more: that
// the write is still trusted, see trustedUntilLocked.)
func (s *Scheduler) leading() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.leadingLocked()
}

func (s *Scheduler) leadingLocked() bool {
	return s.known.Holder == s.id.Holder && !s.sentAt.IsZero() && s.clk.Now().Before(s.sentAt.Add(s.ttl))
}

// call runs one store call under the store timeout, reporting its health.
// Calls made on behalf of an accepted claim must complete even when
// shutdown begins, so they never inherit the scheduler's cancellation.
func (s *Scheduler) call(op string, f func(ctx context.Context) error) error {
	ctx, cancel := context.WithTimeout(context.Background(), s.t.StoreTimeout)
	defer cancel()
	start := time.Now()
	err := f(ctx)
	s.cfg.Health.report(s.job.Name, op, err)
	s.obs.StoreCall(s.job.Name, op, time.Since(start), err)
	return err
}
