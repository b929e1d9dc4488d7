package store

import (
	"context"
	"errors"
	"time"
)

// Member is one process's announcement that it is alive: a lease without
// ticks, written only by the process it names. Other processes judge it
// lapsed as they judge leases, by observing its Version unchanged for
// longer than TTL on their own clocks (package lease), never by reading
// Renewed against their clocks.
type Member struct {
	// ID is the process's holder identity ("node/suffix"), the record's key.
	ID string
	// Node is the process's node name, for people, logs and the assignment
	// of jobs (package schedulers hashes it, so that a pod keeps its jobs).
	Node string
	// Started is when the process started, by its own clock (shown only).
	Started time.Time
	// Renewed is when the process last wrote the record, by its own clock
	// (shown only).
	Renewed time.Time
	// TTL is how long after a write the process promises the next one.
	TTL time.Duration
	// ClockOffset is the process's estimate of its clock minus the store's
	// clock (0 when unknown), for operators.
	ClockOffset time.Duration
	// JobSet is a hash of the jobs the process runs: replicas with the same
	// jobs publish the same JobSet.
	JobSet string
	// Jobs lists the names of the jobs the process runs, or is empty: a
	// process publishes it while it sees a member whose JobSet differs from
	// its own, so that jobs are assigned only to members that run them.
	Jobs []string
	// Version grows by one on every write; PutMember sets it.
	Version int64
}

// ErrBadMember is matched (errors.Is) by the error of a member record a
// backend cannot read; ListMembers skips such records and reports them.
var ErrBadMember = errors.New("store: bad member record")

// Members is the member registry, offered by backends that replicas share.
// Every method is safe for concurrent use.
type Members interface {
	// PutMember writes m with Version one more than the record stored
	// (1 for a new record) and returns what it wrote.
	PutMember(ctx context.Context, m Member) (Member, error)
	// DeleteMember removes id's record; a record already gone is no error.
	DeleteMember(ctx context.Context, id string) error
	// ListMembers returns every readable record, strongly consistent with
	// the writes that completed before it began, in ID order. Records it
	// cannot read are left out and reported in bad (each matching
	// ErrBadMember), never an error of the call.
	ListMembers(ctx context.Context) (members []Member, bad []error, err error)
}

// Lease returns m as a lease record held by m.ID, the form package lease
// observes for lapse.
func (m Member) Lease() Lease {
	return Lease{Job: m.ID, Holder: m.ID, Node: m.Node, TTL: m.TTL, Expires: m.Renewed.Add(m.TTL), Version: m.Version}
}
