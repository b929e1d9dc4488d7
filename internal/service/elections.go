package service

import (
	"sync"
	"time"

	"go-leader-election/lease"
	"go-leader-election/store"
)

// registry keeps this server's observation of the elections a node holds by
// a lease of its own (not under a session): one lease.Observer per
// election, fed by every call that reads or writes its record, whatever the
// call and whoever makes it, so that lapse is judged from the first time
// this server saw a version by any call, and every call judges alike. It
// also keeps the hub of each watched election. An election that is free, or
// held under a session (whose lapse is its session's, session.go), needs no
// observation of its own: its entry is dropped unless it is watched.
type registry struct {
	s  *Server
	mu sync.Mutex
	m  map[string]*election
}

// election is what this server keeps of one election.
type election struct {
	obs  *lease.Observer
	hub  *hub      // nil until watched
	used time.Time // the latest call about it, under registry.mu
}

func newRegistry(s *Server) *registry { return &registry{s: s, m: map[string]*election{}} }

// ownLease reports whether rec is held by a node's own lease, the one kind
// of hold whose lapse is judged from the election's record.
func ownLease(rec store.Lease) bool {
	_, underSession := sessionOf(rec.Holder)
	return rec.Held() && !underSession
}

// observe records rec, just read or written (waking the election's watchers
// if it is news), and returns the election's state by this server's
// observation: the newest record it knows (a read
// answered late is older than what another call saw since) and, when a node
// holds it by its own lease, until when.
func (r *registry) observe(name string, rec store.Lease) lease.State {
	r.mu.Lock()
	defer r.mu.Unlock()
	e := r.m[name]
	if e == nil {
		if !ownLease(rec) {
			return unobserved(rec)
		}
		e = &election{obs: lease.NewObserver(r.s.clk)}
		r.m[name] = e
	}
	news := rec.Version > e.obs.State().Record.Version
	st := e.obs.Observe(rec)
	e.used = time.Now()
	if e.hub != nil {
		if news {
			e.hub.poke()
		}
	} else if !ownLease(st.Record) {
		delete(r.m, name)
	}
	return st
}

// unobserved is the state of a record this server keeps no observation of.
func unobserved(rec store.Lease) lease.State {
	st := lease.State{Record: rec}
	if rec.Held() {
		st.Kind = lease.Held
	}
	return st
}

// known returns the newest record of name this server keeps, if any.
func (r *registry) known(name string) (store.Lease, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if e := r.m[name]; e != nil {
		return e.obs.State().Record, true
	}
	return store.Lease{}, false
}

// released notes that a node released name through this server: watchers
// are told at once, and the observation is no longer needed.
func (r *registry) released(name string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if e := r.m[name]; e != nil {
		if e.hub != nil {
			e.hub.poke()
		} else {
			delete(r.m, name)
		}
	}
}

// hubOf returns name's hub, creating it (and the entry).
func (r *registry) hubOf(name string) *hub {
	r.mu.Lock()
	defer r.mu.Unlock()
	e := r.m[name]
	if e == nil {
		e = &election{obs: lease.NewObserver(r.s.clk)}
		r.m[name] = e
	}
	if e.hub == nil {
		e.hub = newHub(r.s, name)
	}
	e.used = time.Now()
	return e.hub
}

// sweep forgets, every minute until done closes, what nobody has used for
// the idle limit (elections and sessions).
func (s *Server) sweep(done <-chan struct{}) {
	t := time.NewTicker(time.Minute)
	defer t.Stop()
	for {
		select {
		case <-done:
			return
		case <-t.C:
			now := time.Now()
			s.opts.Metrics.setTracked(s.elections.forget(now), s.sessions.forget(now))
		}
	}
}

// forget drops the elections idle at now (for the idle limit, or twice the
// TTL last seen if longer) and not watched, and reports how many are left.
func (r *registry) forget(now time.Time) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	for name, e := range r.m {
		limit := max(r.s.opts.IdleLimit, 2*e.obs.State().Record.TTL)
		if now.Sub(e.used) > limit && (e.hub == nil || !e.hub.watched()) {
			delete(r.m, name)
		}
	}
	return len(r.m)
}
