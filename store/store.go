// Package store defines the lease record the schedulers share and the small
// interface every backend implements.
//
// A backend promises atomicity and nothing more: each of Claim, Renew and
// Release reads the job's record, applies the rules documented on the method,
// and writes, as one indivisible step with respect to every other call on the
// same job, from any process. A backend does not judge time. Whether another
// holder's lease has lapsed is decided by the caller (package schedulers, by
// its own observation of the record's Version), so the clocks of the nodes
// and of the store never need to agree.
package store

import (
	"context"
	"errors"
	"time"
)

// Lease is one job's record. Its zero value is "never claimed".
type Lease struct {
	// Job is the job's name, the record's key.
	Job string
	// Holder identifies the process holding the lease ("node/suffix"); empty
	// when the lease was released or never claimed.
	Holder string
	// Node is the holder's node name, for people and logs. Empty with Holder.
	Node string
	// Term is the fencing token: it grows by one whenever Holder changes, so
	// a write guarded by (job, tick, term) can refuse a deposed holder.
	Term int64
	// Tick is the latest scheduled tick claimed. A tick at or before it is
	// taken and must not run again.
	Tick time.Time
	// TTL is how long after this write the holder may rely on the lease. A
	// follower may treat the lease as lapsed once it has seen this same
	// Version, unchanged, for longer than TTL by its own clock.
	TTL time.Duration
	// Expires is the writer's clock at the write plus TTL. It is shown to
	// people; the protocol never compares it with another node's clock.
	Expires time.Time
	// Version grows by one on every write. It is what an observer watches.
	// SetPaused (Control) is the one write that keeps it: the pause says
	// nothing about the holder, so it must not restart anyone's lapse clock.
	Version int64
	// Paused is the operator's pause (Control.SetPaused): while it is set,
	// a claim of any tick is refused with ErrPaused. Every other write
	// keeps it.
	Paused bool
}

// Held reports whether some process holds the lease.
func (l Lease) Held() bool { return l.Holder != "" }

// ClaimRequest asks to take a job's lease for one tick.
type ClaimRequest struct {
	Job    string
	Holder string
	Node   string
	// Tick is the tick being claimed; it becomes Lease.Tick. Ticks are an
	// optional monotonic sequence: a zero Tick claims the lease alone (a
	// lease service, a member record), neither checking nor changing the
	// recorded tick.
	Tick time.Time
	// TTL is written as Lease.TTL; Now+TTL as Lease.Expires.
	TTL time.Duration
	Now time.Time
	// LapsedVersion is the Version of the record that the caller has judged
	// lapsed, or 0. Another holder's lease is taken over only if the record
	// is still at exactly this Version.
	LapsedVersion int64
}

// ReleaseRequest hands a lease back.
type ReleaseRequest struct {
	Job    string
	Holder string
	Term   int64
}

// RenewRequest extends a lease its holder already has.
type RenewRequest struct {
	Job    string
	Holder string
	Term   int64
	TTL    time.Duration
	Now    time.Time
}

// Sentinel errors. Backends return them (possibly wrapped) together with the
// record as it stands, so the caller learns who holds the lease.
var (
	// ErrNotFound: the job has no record (Get only).
	ErrNotFound = errors.New("store: lease not found")
	// ErrTickTaken: the record's Tick is at or after the requested tick.
	ErrTickTaken = errors.New("store: tick already taken")
	// ErrHeld: another holder has the lease and the caller did not name the
	// record's current Version as lapsed.
	ErrHeld = errors.New("store: lease held by another holder")
	// ErrNotHolder: Renew or Release by a process that no longer holds the
	// lease under that term.
	ErrNotHolder = errors.New("store: not the lease holder")
	// ErrPaused: a claim of a tick while the job is paused (Lease.Paused).
	ErrPaused = errors.New("store: job paused")
)

// Store keeps one Lease per job. Every method is safe for concurrent use by
// many goroutines and many processes.
type Store interface {
	// Get returns the job's record, or ErrNotFound. A plain read: callers use
	// it to decide, and then let Claim re-check atomically.
	Get(ctx context.Context, job string) (Lease, error)

	// Claim atomically applies, to the record as it stands:
	//   - req.Tick set and the record's Tick at or after it: ErrTickTaken;
	//   - req.Tick set and the record Paused: ErrPaused;
	//   - held by another holder, Version != req.LapsedVersion: ErrHeld;
	//   - otherwise write Holder, Node, TTL, Expires, and Tick if set; Term+1
	//     if the holder changes (a first claim has Term 1); Version+1.
	// It returns the record written, or the record as it stands with an error.
	Claim(ctx context.Context, req ClaimRequest) (Lease, error)

	// Renew atomically rewrites TTL and Expires (Version+1) if req.Holder
	// still holds the lease under req.Term, and returns ErrNotHolder
	// otherwise.
	Renew(ctx context.Context, req RenewRequest) (Lease, error)

	// Release atomically clears Holder and Node (Version+1, Term and Tick
	// kept) if req.Holder still holds the lease under req.Term, so that a
	// peer can claim the next tick at once. ErrNotHolder otherwise.
	Release(ctx context.Context, req ReleaseRequest) error

	// Ping checks that the store answers.
	Ping(ctx context.Context) error

	// Close releases the backend's resources.
	Close() error
}
