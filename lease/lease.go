package lease

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"go-leader-election/clock"
	"go-leader-election/store"
)

// Exported errors, as the cause of a guarded context (Guard) and from Renew.
var (
	// ErrExpired: the hold was not renewed within its trusted time.
	ErrExpired = errors.New("lease: not renewed within the trusted time")
	// ErrNotHolder: the store says another process holds the lease now.
	ErrNotHolder = store.ErrNotHolder
	// ErrNotMine: Renew was called while this process does not hold the
	// lease by its own reckoning.
	ErrNotMine = errors.New("lease: not held by this process")
)

// Config is what a Handle is built from.
type Config struct {
	// Store keeps the record. Required.
	Store store.Store
	// Name is the record's key: a job's name, an election. Required.
	Name string
	// Holder identifies this process in the record ("node/suffix"), unique
	// per process. Required.
	Holder string
	// Node is the operator's name for this process, written with Holder.
	Node string
	// Clock tells the time. Default clock.Real{}.
	Clock clock.Clock
	// Trust is the fraction of a granted TTL this process acts on, counted
	// from before it sent the write: 0 < Trust < 1. The rest of the TTL is
	// what a holder that stops trusting has to stop acting before a peer
	// may take over.
	Trust float64
	// Timeout bounds every store call. Invariant: positive.
	Timeout time.Duration
	// OnCall, if set, is told the outcome of every store call ("get",
	// "claim", "renew", "release"), for health and metrics. It must not
	// block.
	OnCall func(op string, d time.Duration, err error)
}

// Handle is one process's view of one lease record: what it last saw and
// when, and what it last wrote and when it sent it. Safe for concurrent use.
type Handle struct {
	cfg Config
	clk clock.Clock

	mu sync.Mutex
	// seen is the record as last read or written, and when this process
	// first saw its Version (the observed-time method).
	seen observation
	// sentAt, ttl and version describe this process's latest successful
	// write as holder; zero sentAt means it does not hold the lease.
	sentAt  time.Time
	ttl     time.Duration
	version int64
	// lostClaim is the earliest claim attempt whose outcome is unknown (a
	// timeout, a lost reply) since the store last answered a claim: the
	// store may have applied it.
	lostClaim struct{ tick, sent time.Time }
	guard     *guard
}

// New returns a Handle; it makes no store call.
func New(cfg Config) (*Handle, error) {
	switch {
	case cfg.Store == nil:
		return nil, errors.New("lease: Config.Store is required")
	case cfg.Name == "":
		return nil, errors.New("lease: Config.Name is required")
	case cfg.Holder == "":
		return nil, errors.New("lease: Config.Holder is required")
	case !(cfg.Trust > 0 && cfg.Trust < 1):
		return nil, fmt.Errorf("lease: Config.Trust %v must be between 0 and 1, exclusive", cfg.Trust)
	case cfg.Timeout <= 0:
		return nil, fmt.Errorf("lease: Config.Timeout %s must be positive", cfg.Timeout)
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.Real{}
	}
	return &Handle{cfg: cfg, clk: cfg.Clock}, nil
}

// Name returns the lease's name.
func (l *Handle) Name() string { return l.cfg.Name }

// State returns who holds the lease and until when, as of now.
func (l *Handle) State() State {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.stateLocked(l.clk.Now())
}

func (l *Handle) stateLocked(now time.Time) State {
	if l.seen.known.Holder != l.cfg.Holder {
		return l.seen.othersState()
	}
	st := State{Record: l.seen.known, Kind: Stale}
	if !l.sentAt.IsZero() && now.Before(l.sentAt.Add(l.ttl)) {
		st.Kind = Mine
		st.Until = l.sentAt.Add(l.ttl)
		st.TrustedUntil = l.sentAt.Add(time.Duration(float64(l.ttl) * l.cfg.Trust))
	}
	return st
}

// Observe records rec, read from the store by the caller, and returns the
// state it leaves.
func (l *Handle) Observe(rec store.Lease) State {
	l.mu.Lock()
	taken := l.observeLocked(rec)
	st := l.stateLocked(l.clk.Now())
	l.mu.Unlock()
	if taken {
		l.lose(ErrNotHolder)
	}
	return st
}

// observeLocked notes rec and reports whether it shows that another process
// wrote after this process's latest write as holder, while a guard watched.
func (l *Handle) observeLocked(rec store.Lease) (taken bool) {
	l.seen.note(rec, l.clk.Now())
	if rec.Holder != l.cfg.Holder && rec.Version > l.version {
		taken = l.guard != nil
		l.sentAt = time.Time{} // someone else wrote after this process's last write
	}
	return taken
}

// wrote records a successful write as holder, sent at sent.
func (l *Handle) wrote(rec store.Lease, sent time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.observeLocked(rec) // rec names this process: never taken
	if sent.After(l.sentAt) {
		l.sentAt, l.ttl, l.version = sent, rec.TTL, rec.Version
		// The latest write is the lease now, even when it is shorter than
		// the one before.
		l.guard.rearm(l.stateLocked(l.clk.Now()).TrustedUntil, l.clk.Now())
	}
}

// Drop gives up this process's trust in its hold (it keeps the record, which
// Release may still hand back).
func (l *Handle) Drop() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sentAt = time.Time{}
}

// Read reads the record and returns the state it leaves; a record never
// written leaves the lease Free with no error.
func (l *Handle) Read(ctx context.Context) (State, error) {
	var rec store.Lease
	err := l.call(ctx, "get", func(ctx context.Context) (err error) {
		rec, err = l.cfg.Store.Get(ctx, l.cfg.Name)
		return err
	})
	switch {
	case errors.Is(err, store.ErrNotFound):
		return l.State(), nil
	case err != nil:
		return l.State(), err
	}
	return l.Observe(rec), nil
}

// Claim asks the store for the lease with ttl, for tick (zero: no tick). It
// names the record's Version as lapsed when this process has judged another
// holder's lease lapsed, and otherwise lets the store refuse a held lease
// (store.ErrHeld) or a taken tick (store.ErrTickTaken); on a refusal the
// returned state shows who holds it.
func (l *Handle) Claim(ctx context.Context, tick time.Time, ttl time.Duration) (State, error) {
	rec, sent, err := l.sendClaim(ctx, "claim", tick, ttl, l.cfg.Store.Claim)
	l.mu.Lock()
	lost := l.lostClaim
	if err == nil || store.IsRefusal(err) {
		l.lostClaim.tick, l.lostClaim.sent = time.Time{}, time.Time{}
	} else if lost.sent.IsZero() || !lost.tick.Equal(tick) {
		l.lostClaim.tick, l.lostClaim.sent = tick, sent
	}
	l.mu.Unlock()
	switch {
	case err == nil:
		l.wrote(rec, sent)
	case errors.Is(err, store.ErrTickTaken) && !tick.IsZero() && !lost.sent.IsZero() &&
		lost.tick.Equal(tick) && rec.Holder == l.cfg.Holder && rec.Tick.Equal(tick):
		// An earlier attempt was applied and its answer lost: this is our
		// claim, trusted from the earliest attempt that could have made it.
		l.wrote(rec, lost.sent)
		err = nil
	case store.IsRefusal(err):
		l.Observe(rec)
	}
	return l.State(), err
}

// Renew rewrites this process's hold with ttl. It returns ErrNotMine when
// the lease is not this process's by its own reckoning, and ErrNotHolder
// (also ending any Guard) when the store says another process holds it.
func (l *Handle) Renew(ctx context.Context, ttl time.Duration) (State, error) {
	st := l.State()
	if st.Kind != Mine {
		return st, ErrNotMine
	}
	st, err := l.RenewTerm(ctx, st.Record.Term, ttl)
	if errors.Is(err, store.ErrNotHolder) {
		l.Drop()
		l.lose(ErrNotHolder)
	}
	return st, err
}

// Release hands the record back if it still names this process (a hold this
// process no longer trusts may still be on record: the store checks the
// term, so trying frees peers early). It reports store.ErrNotHolder when
// another process has taken the lease over meanwhile; with no record naming
// this process it does nothing.
func (l *Handle) Release(ctx context.Context) error {
	st := l.State()
	if st.Record.Holder != l.cfg.Holder {
		return nil
	}
	return l.ReleaseTerm(ctx, st.Record.Term)
}

// call runs one store call under the timeout, detached from ctx's
// cancellation, and reports it.
func (l *Handle) call(ctx context.Context, op string, f func(ctx context.Context) error) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), l.cfg.Timeout)
	defer cancel()
	start := time.Now()
	err := f(ctx)
	if l.cfg.OnCall != nil {
		l.cfg.OnCall(op, time.Since(start), err)
	}
	return err
}

// sendClaim makes one claim call through claim, naming the record's Version
// as lapsed when this process has judged another holder's lease lapsed.
func (l *Handle) sendClaim(ctx context.Context, op string, tick time.Time, ttl time.Duration,
	claim func(context.Context, store.ClaimRequest) (store.Lease, error)) (rec store.Lease, sent time.Time, err error) {
	sent = l.clk.Now()
	l.mu.Lock()
	st := l.stateLocked(sent)
	var lapsed int64
	if st.Lapsed(sent) {
		lapsed = st.Record.Version
	}
	l.mu.Unlock()
	err = l.call(ctx, op, func(ctx context.Context) (err error) {
		rec, err = claim(ctx, store.ClaimRequest{
			Job: l.cfg.Name, Holder: l.cfg.Holder, Node: l.cfg.Node,
			Tick: tick, TTL: ttl, Now: sent, LapsedVersion: lapsed,
		})
		return err
	})
	return rec, sent, err
}
