package lease

import (
	"sync"
	"time"

	"go-leader-election/clock"
	"go-leader-election/store"
)

// observation is what one process knows of one record: the record as last
// seen, and when it first saw that record's Version. It is the whole of the
// observed-time method; Handle and Observer both judge through it.
type observation struct {
	known  store.Lease
	seenAt time.Time
}

// note records rec, seen at now: the lapse clock restarts only when the
// Version changes.
func (o *observation) note(rec store.Lease, now time.Time) {
	if rec.Version != o.known.Version || o.seenAt.IsZero() {
		o.seenAt = now
	}
	o.known = rec
}

// othersState is the state of the known record for a process that does not
// hold it: Free, or Held until the record's TTL after it was first seen.
func (o *observation) othersState() State {
	st := State{Record: o.known}
	if o.known.Held() {
		st.Kind = Held
		st.Until = o.seenAt.Add(o.known.TTL)
	}
	return st
}

// Observer is an observe-only view of one lease record: it judges, as a
// Handle does for another holder, whether the record's holder still holds it
// (State.Kind Held, until State.Until) or has let it lapse
// (State.Lapsed), from how long this process has seen the record's same
// Version by its own clock. It never writes, so every holder is another
// process to it: its State is Free or Held, never Mine or Stale.
//
// An Observer is for a process that judges records it does not hold (a
// lease server judging its clients' leases, a member list judging its
// members) and that reads them itself: it makes no store call. Every read,
// by whichever caller, should be given to the one Observer of the record,
// so that lapse is judged from the first time this process saw a Version,
// whoever asked. Safe for concurrent use.
//
// What it does not promise: it knows only what it is told. A record it has
// not been told of for a while may have changed meanwhile; the State it
// answers is as of the latest Observe, judged at the time State is called.
type Observer struct {
	clk clock.Clock

	mu   sync.Mutex
	seen observation
}

// NewObserver returns an Observer that has seen nothing; clk nil is
// clock.Real{}.
func NewObserver(clk clock.Clock) *Observer {
	if clk == nil {
		clk = clock.Real{}
	}
	return &Observer{clk: clk}
}

// Observe records rec, read from the store by the caller, and returns the
// state it leaves. A record with a lower Version than the one known is an
// older read answered late: it is ignored, since Versions only grow.
func (o *Observer) Observe(rec store.Lease) State {
	now := o.clk.Now()
	o.mu.Lock()
	defer o.mu.Unlock()
	if rec.Version >= o.seen.known.Version {
		o.seen.note(rec, now)
	}
	return o.seen.othersState()
}

// State returns the state of the record as last observed, judged now.
func (o *Observer) State() State {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.seen.othersState()
}
