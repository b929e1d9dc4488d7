package store

import (
	"errors"
	"time"
)

// Apply computes, from the record as it stands (cur, with exists false when
// there is none), the record a Claim writes. Backends call it inside their
// atomic section so that every backend applies exactly the same rules.
func (req ClaimRequest) Apply(cur Lease, exists bool) (Lease, error) {
	if exists {
		if !req.Tick.IsZero() && !cur.Tick.Before(req.Tick) {
			return cur, ErrTickTaken
		}
		if cur.Paused && !req.Tick.IsZero() {
			return cur, ErrPaused
		}
		if cur.Held() && cur.Holder != req.Holder && cur.Version != req.LapsedVersion {
			return cur, ErrHeld
		}
	}
	next := cur
	next.Job = req.Job
	if !exists || cur.Holder != req.Holder {
		next.Term = cur.Term + 1
	}
	next.Holder, next.Node = req.Holder, req.Node
	if !req.Tick.IsZero() {
		next.Tick = req.Tick
	}
	next.TTL = req.TTL
	next.Expires = req.Now.Add(req.TTL)
	next.Version = cur.Version + 1
	return next, nil
}

// Apply computes the record a Renew writes, or ErrNotHolder.
func (req RenewRequest) Apply(cur Lease, exists bool) (Lease, error) {
	if !exists || cur.Holder != req.Holder || cur.Term != req.Term {
		return cur, ErrNotHolder
	}
	next := cur
	next.TTL = req.TTL
	next.Expires = req.Now.Add(req.TTL)
	next.Version++
	return next, nil
}

// Apply computes the record a Release writes, or ErrNotHolder.
func (req ReleaseRequest) Apply(cur Lease, exists bool) (Lease, error) {
	if !exists || cur.Holder != req.Holder || cur.Term != req.Term {
		return cur, ErrNotHolder
	}
	next := cur
	next.Holder, next.Node = "", ""
	next.TTL = 0
	next.Expires = time.Time{}
	next.Version++
	return next, nil
}

// refusals are the protocol's answers: the store worked and said no. It is
// the one list: a backend tells the rules' answers from its own failures
// with IsRefusal too.
var refusals = []error{ErrNotFound, ErrTickTaken, ErrHeld, ErrNotHolder, ErrPaused, ErrNoTick}

// IsRefusal reports whether err is one of the protocol's sentinel answers
// (the store answered and refused) rather than a failure to reach the store.
func IsRefusal(err error) bool {
	for _, r := range refusals {
		if errors.Is(err, r) {
			return true
		}
	}
	return false
}
