package service

import (
	"sync"
	"sync/atomic"
	"time"

	"go-leader-election/lease"
	"go-leader-election/store"
)

// trust is the Trust given to the server's leases. The server never acts on
// a hold itself (its clients do, by their own trust), so it only has to be
// valid.
const trust = 2.0 / 3

// observerHolder is the holder of the lease through which a server observes
// an election for queries and watches. Node ids are printable, so it names
// no node, and every holder is "another" to it.
const observerHolder = "\x00observer"

// registry keeps, per election, the server's observation of its record: one
// lease.Lease per (election, node) for the node's own calls, and one per
// election for queries and watches.
type registry struct {
	s  *Server
	mu sync.Mutex
	m  map[string]*election
}

// election is one election's observations on this server.
type election struct {
	name     string
	observer *lease.Lease
	hub      *hub
	used     atomic.Int64 // unix nanoseconds of the latest request

	mu    sync.Mutex
	nodes map[string]*nodeLease
}

// nodeLease is one node's lease, as this server sees it.
type nodeLease struct {
	*lease.Lease
	used atomic.Int64
}

func newRegistry(s *Server) *registry { return &registry{s: s, m: map[string]*election{}} }

// get returns the election's entry, creating it.
func (r *registry) get(name string) *election {
	now := time.Now().UnixNano()
	r.mu.Lock()
	e := r.m[name]
	if e == nil {
		e = &election{name: name, observer: r.newLease(name, observerHolder, ""), nodes: map[string]*nodeLease{}}
		e.hub = newHub(r.s, e)
		r.m[name] = e
	}
	e.used.Store(now) // under r.mu, so that forget never drops an entry in use
	r.mu.Unlock()
	return e
}

// node returns node's lease on the election, creating it.
func (r *registry) node(e *election, node string) *lease.Lease {
	e.mu.Lock()
	n := e.nodes[node]
	if n == nil {
		n = &nodeLease{Lease: r.newLease(e.name, node, node)}
		e.nodes[node] = n
	}
	n.used.Store(time.Now().UnixNano())
	e.mu.Unlock()
	return n.Lease
}

func (r *registry) newLease(name, holder, node string) *lease.Lease {
	l, err := lease.New(lease.Config{
		Store: r.s.opts.Store, Name: name, Holder: holder, Node: node, Clock: r.s.clk,
		Trust: trust, Timeout: r.s.opts.StoreTimeout, OnCall: r.s.onCall,
	})
	if err != nil {
		panic(err) // only a programming error: every field is set above
	}
	return l
}

// observe records a record this server wrote or read, in every lease of the
// election (so that each judges lapse from when this server first saw a
// version, by whichever call), and wakes the election's watchers if it is
// news (a zero record is: a release).
func (e *election) observe(rec store.Lease) {
	if rec.Version > 0 {
		if e.observer.State().Record.Version == rec.Version {
			return // seen already, so told to every node lease
		}
		e.observer.Observe(rec)
		e.tellNodes(rec)
	}
	e.hub.poke()
}

// tellNodes records rec in every node lease of the election.
func (e *election) tellNodes(rec store.Lease) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, n := range e.nodes {
		n.Observe(rec)
	}
}

// sweep forgets, every minute until done closes, the observations nobody
// has used for the idle limit (or twice the TTL last seen, if longer).
func (r *registry) sweep(done <-chan struct{}) {
	t := time.NewTicker(time.Minute)
	defer t.Stop()
	for {
		select {
		case <-done:
			return
		case <-t.C:
			r.forget(time.Now())
		}
	}
}

// forget drops what was idle at now, and reports how many node leases are
// left.
func (r *registry) forget(now time.Time) int {
	limit := func(l *lease.Lease) time.Duration { return max(r.s.opts.IdleLimit, 2*l.State().Record.TTL) }
	idle := func(used *atomic.Int64, l *lease.Lease) bool {
		return now.Sub(time.Unix(0, used.Load())) > limit(l)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	left := 0
	for name, e := range r.m {
		e.mu.Lock()
		for node, n := range e.nodes {
			if idle(&n.used, n.Lease) {
				delete(e.nodes, node)
			}
		}
		nodes := len(e.nodes)
		e.mu.Unlock()
		left += nodes
		if nodes == 0 && !e.hub.watched() && idle(&e.used, e.observer) {
			delete(r.m, name)
		}
	}
	r.s.opts.Metrics.setTracked(len(r.m), left)
	return left
}
