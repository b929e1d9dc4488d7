package schedulers

import (
	"testing"
	"time"

	"go-leader-election/internal/balance"
	"go-leader-election/lease"
	"go-leader-election/store"
)

func TestDecideStart(t *testing.T) {
	const self = "a/1"
	here := preference{Known: true, To: balance.Candidate{ID: self, Node: "a"}}
	elsewhere := preference{Known: true, To: balance.Candidate{ID: "b/1", Node: "b"}}
	for _, tc := range []struct {
		name    string
		running bool
		overlap Overlap
		leading bool
		pref    preference
		want    tickStep
	}{
		{"a run still runs", true, Forbid, true, here, stepSkipOverlap},
		{"a run still runs, not leading", true, Forbid, false, preference{}, stepSkipOverlap},
		{"a run still runs, Replace", true, Replace, true, here, stepReplace},
		{"a run still runs, Replace, preferred elsewhere", true, Replace, true, elsewhere, stepReplace},
		{"a run still runs, BufferOne", true, BufferOne, true, here, stepBuffer},
		{"a follower reads first", false, Forbid, false, here, stepRead},
		{"a follower reads first, whatever the policy", false, Replace, false, here, stepRead},
		{"the holder claims", false, Forbid, true, preference{}, stepClaim},
		{"the holder claims, BufferOne", false, BufferOne, true, preference{}, stepClaim},
		{"the holder claims what balance gives it", false, Forbid, true, here, stepClaim},
		{"the holder hands over what balance gives another", false, Forbid, true, elsewhere, stepHandOver},
	} {
		if got := decideStart(tc.running, tc.overlap, tc.leading, tc.pref, self); got != tc.want {
			t.Errorf("%s: decideStart = %d, want %d", tc.name, got, tc.want)
		}
	}
}

// TestDecide is decide's table: what a node does about a tick from the
// record as observed, the time, balance's preference and its wait so far.
func TestDecide(t *testing.T) {
	const self, other = "a/1", "b/1"
	timing := DefaultTiming() // Grace 500ms, FollowerDelay 50ms
	tick := time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)
	deadline := tick.Add(time.Second)
	now := tick.Add(timing.FollowerDelay)
	ms := func(n int) time.Duration { return time.Duration(n) * time.Millisecond }
	here := preference{Known: true, To: balance.Candidate{ID: self, Node: "a"}}
	elsewhere := preference{Known: true, To: balance.Candidate{ID: other, Node: "b"}}

	rec := func(holder string, tk time.Time) store.Lease {
		return store.Lease{Holder: holder, Node: holder[:1], Term: 3, Tick: tk, Version: 7}
	}
	held := func(until time.Time) lease.State {
		return lease.State{Kind: lease.Held, Record: rec(other, tick.Add(-time.Second)), Until: until}
	}
	free := lease.State{Kind: lease.Free, Record: store.Lease{Term: 3, Tick: tick.Add(-time.Second), Version: 8}}
	paused := free
	paused.Record.Paused = true
	mine := lease.State{Kind: lease.Mine, Record: rec(self, tick.Add(-time.Second)), Until: deadline.Add(timing.Grace)}

	third := preference{Known: true, To: balance.Candidate{ID: "c/1", Node: "c"}}
	turn := tick.Add(timing.Grace) // the end of the holder's turn
	for _, tc := range []struct {
		name       string
		read       bool
		st         lease.State
		now        time.Time // default now
		startBy    time.Time // default deadline
		pref       preference
		releasedBy string
		successor  preference
		lookBack   bool
		prevTick   time.Time // default the tick before: the holder's latest claim
		deferUntil time.Time
		want       tickDecision
	}{
		{name: "the holder claims without reading", st: mine,
			want: tickDecision{Step: stepClaim, Why: "holder"}},
		{name: "the holder past the following tick", st: mine, now: deadline,
			want: tickDecision{Step: stepSitOut, Why: "following tick reached"}},
		{name: "own claim on record, its answer lost", read: true,
			st:   lease.State{Kind: lease.Mine, Record: rec(self, tick)},
			want: tickDecision{Step: stepClaim, Why: "own claim on record"}},
		{name: "the tick taken by another", read: true,
			st:   lease.State{Kind: lease.Held, Record: rec(other, tick), Until: deadline.Add(timing.Grace)},
			want: tickDecision{Step: stepSitOut, Why: "tick taken"}},
		{name: "a later tick on record (a clock ahead)", read: true,
			st:   lease.State{Kind: lease.Held, Record: rec(other, tick.Add(ms(10))), Until: deadline},
			want: tickDecision{Step: stepSitOut, Why: "tick taken"}},
		{name: "paused", read: true, st: paused,
			want: tickDecision{Step: stepPaused, Why: "paused"}},
		{name: "paused, the tick taken", read: true,
			st:   lease.State{Kind: lease.Free, Record: store.Lease{Tick: tick, Paused: true}},
			want: tickDecision{Step: stepSitOut, Why: "tick taken"}},
		// A holder that has not claimed the tick, whose lease lapses too
		// late: one more look at the end of its turn, when it may have
		// released the lease (a graceful stop during a run).
		{name: "held past the following tick, unclaimed: look at the end of the holder's turn", read: true, st: held(deadline),
			want: tickDecision{Step: stepAwaitRelease, Why: "holder has not claimed the tick", At: turn}},
		{name: "held past the following tick, preferred elsewhere: the same", read: true, st: held(deadline), pref: elsewhere,
			want: tickDecision{Step: stepAwaitRelease, Why: "holder has not claimed the tick", At: turn}},
		{name: "held past the following tick, the holder's latest claim older than the tick before: sit out", read: true,
			st: held(deadline), prevTick: tick.Add(-ms(500)), want: tickDecision{Step: stepSitOut, Why: "lease held"}},
		{name: "held past the following tick, at the end of the holder's turn: sit out", read: true, st: held(deadline),
			now: turn, want: tickDecision{Step: stepSitOut, Why: "lease held"}},
		{name: "held, the holder's turn past the starting deadline: sit out", read: true, st: held(deadline),
			startBy: turn, want: tickDecision{Step: stepSitOut, Why: "lease held"}},
		{name: "held, lapsing after the starting deadline: look at the end of the holder's turn", read: true,
			st: held(tick.Add(ms(700))), startBy: tick.Add(ms(600)),
			want: tickDecision{Step: stepAwaitRelease, Why: "holder has not claimed the tick", At: turn}},
		{name: "held, being handed over here: wait Grace/2", read: true, st: held(deadline), pref: here,
			want: tickDecision{Step: stepAwaitPreferred, Why: "handed over here", At: now.Add(ms(50)), DeferUntil: now.Add(ms(250))}},
		{name: "held, handed over here, still waiting", read: true, st: held(deadline), pref: here,
			now: now.Add(ms(220)), deferUntil: now.Add(ms(250)),
			want: tickDecision{Step: stepAwaitPreferred, Why: "handed over here", At: now.Add(ms(250)), DeferUntil: now.Add(ms(250))}},
		{name: "held, handed over here, the wait is over: look at the end of the holder's turn", read: true,
			st: held(deadline), pref: here, now: now.Add(ms(250)), deferUntil: now.Add(ms(250)),
			want: tickDecision{Step: stepAwaitRelease, Why: "holder has not claimed the tick", At: turn, DeferUntil: now.Add(ms(250))}},
		{name: "held, lapsing soon: look at the lapse", read: true, st: held(now.Add(ms(100))), pref: elsewhere,
			want: tickDecision{Step: stepAwaitLapse, Why: "lease lapses before the following tick", At: now.Add(ms(100))}},
		{name: "held, lapsing before the following tick: look every Grace/2", read: true, st: held(now.Add(ms(400))),
			want: tickDecision{Step: stepAwaitLapse, Why: "lease lapses before the following tick", At: now.Add(ms(250))}},
		{name: "lapsed: take over at once", read: true, st: held(now),
			want: tickDecision{Step: stepClaim, Why: "lease lapsed"}},
		{name: "lapsed, preferred elsewhere: take over at once all the same", read: true, st: held(now), pref: elsewhere,
			want: tickDecision{Step: stepClaim, Why: "lease lapsed"}},
		{name: "lapsed, but the following tick has come", read: true, st: held(now), now: deadline,
			want: tickDecision{Step: stepSitOut, Why: "following tick reached"}},
		{name: "lapsed within the starting deadline: catch up", read: true, st: held(turn), now: turn.Add(ms(10)),
			startBy: tick.Add(ms(600)), want: tickDecision{Step: stepClaim, Why: "lease lapsed"}},
		{name: "lapsed past the starting deadline", read: true, st: held(turn), now: tick.Add(ms(600)),
			startBy: tick.Add(ms(600)), want: tickDecision{Step: stepSitOut, Why: "starting deadline passed"}},
		{name: "held, lapsing before the starting deadline: look every Grace/2", read: true,
			st: held(tick.Add(ms(550))), startBy: tick.Add(ms(600)),
			want: tickDecision{Step: stepAwaitLapse, Why: "lease lapses before the following tick", At: tick.Add(ms(300))}},
		{name: "the holder past its starting deadline (a store outage)", st: mine, now: tick.Add(ms(600)),
			startBy: tick.Add(ms(600)), want: tickDecision{Step: stepSitOut, Why: "starting deadline passed"}},
		{name: "released after the tick, seen at the end of the holder's turn: catch up", read: true, st: free,
			now: turn, want: tickDecision{Step: stepClaim, Why: "lease free"}},
		{name: "free, balance off", read: true, st: free,
			want: tickDecision{Step: stepClaim, Why: "lease free"}},
		{name: "free, preferred here", read: true, st: free, pref: here,
			want: tickDecision{Step: stepClaim, Why: "lease free"}},
		{name: "free, preferred elsewhere: leave it Grace/2", read: true, st: free, pref: elsewhere,
			want: tickDecision{Step: stepAwaitPreferred, Why: "free, preferred elsewhere", At: now.Add(ms(50)), DeferUntil: now.Add(ms(250))}},
		{name: "free, preferred elsewhere, the wait is over", read: true, st: free, pref: elsewhere,
			now: now.Add(ms(260)), deferUntil: now.Add(ms(250)),
			want: tickDecision{Step: stepClaim, Why: "lease free", DeferUntil: now.Add(ms(250))}},
		{name: "free, preferred elsewhere, close to the following tick: wait until it", read: true, st: free, pref: elsewhere,
			now:  deadline.Add(-ms(30)),
			want: tickDecision{Step: stepAwaitPreferred, Why: "free, preferred elsewhere", At: deadline, DeferUntil: deadline}},
		{name: "free, preferred elsewhere, the following tick reached", read: true, st: free, pref: elsewhere,
			now: deadline.Add(ms(1)), deferUntil: deadline,
			want: tickDecision{Step: stepSitOut, Why: "following tick reached", DeferUntil: deadline}},
		{name: "this node's older hold, preferred elsewhere: as free", read: true, st: mine, pref: elsewhere,
			want: tickDecision{Step: stepAwaitPreferred, Why: "free, preferred elsewhere", At: now.Add(ms(50)), DeferUntil: now.Add(ms(250))}},
		{name: "free, balance paused", read: true, st: free, pref: preference{},
			want: tickDecision{Step: stepClaim, Why: "lease free"}},
		// Released by the node balance prefers (it stops, and views still
		// have it): nobody defers to it; its successor claims at once.
		{name: "released by the preferred node, successor here", read: true, st: free, pref: elsewhere,
			releasedBy: other, successor: here, want: tickDecision{Step: stepClaim, Why: "released, successor"}},
		{name: "released by the preferred node, successor elsewhere: leave it to the successor", read: true, st: free,
			pref: elsewhere, releasedBy: other, successor: third,
			want: tickDecision{Step: stepAwaitPreferred, Why: "free, preferred elsewhere", At: now.Add(ms(50)), DeferUntil: now.Add(ms(250))}},
		{name: "released by the preferred node, no successor known: claim", read: true, st: free, pref: elsewhere,
			releasedBy: other, want: tickDecision{Step: stepClaim, Why: "released, successor"}},
		{name: "released by another than the preferred node: defer as usual", read: true, st: free, pref: elsewhere,
			releasedBy: "c/1", successor: here,
			want: tickDecision{Step: stepAwaitPreferred, Why: "free, preferred elsewhere", At: now.Add(ms(50)), DeferUntil: now.Add(ms(250))}},
		{name: "free, preferred elsewhere, the wait capped by the starting deadline", read: true, st: free, pref: elsewhere,
			startBy: now.Add(ms(100)),
			want:    tickDecision{Step: stepAwaitPreferred, Why: "free, preferred elsewhere", At: now.Add(ms(50)), DeferUntil: now.Add(ms(100))}},
		// The tick due before a node started (catchup.go).
		{name: "look back: never run, a new job", read: true, st: lease.State{}, lookBack: true,
			want: tickDecision{Step: stepSitOut, Why: "never run"}},
		{name: "look back: run before, the tick unclaimed: catch up", read: true, st: free, lookBack: true,
			want: tickDecision{Step: stepClaim, Why: "lease free"}},
		{name: "look back: the tick taken", read: true, lookBack: true,
			st:   lease.State{Kind: lease.Free, Record: store.Lease{Tick: tick, Version: 3}},
			want: tickDecision{Step: stepSitOut, Why: "tick taken"}},
	} {
		at := now
		if !tc.now.IsZero() {
			at = tc.now
		}
		startBy := deadline
		if !tc.startBy.IsZero() {
			startBy = tc.startBy
		}
		prevTick := tick.Add(-time.Second)
		if !tc.prevTick.IsZero() {
			prevTick = tc.prevTick
		}
		got := decide(tickView{Tick: tick, Deadline: deadline, StartBy: startBy, Now: at, Read: tc.read, Lease: tc.st,
			Self: self, Pref: tc.pref, ReleasedBy: tc.releasedBy, Successor: tc.successor, LookBack: tc.lookBack,
			PrevTick: prevTick, DeferUntil: tc.deferUntil, Timing: timing})
		if got != tc.want {
			t.Errorf("%s:\n got %+v\nwant %+v", tc.name, got, tc.want)
		}
	}
}

func TestLookAgain(t *testing.T) {
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	far := now.Add(time.Hour)
	for _, tc := range []struct {
		follower, grace time.Duration
		until           time.Time
		want            time.Duration
	}{
		{50 * time.Millisecond, 500 * time.Millisecond, far, 50 * time.Millisecond},
		{10 * time.Millisecond, 500 * time.Millisecond, far, 50 * time.Millisecond}, // at least Grace/10
		{50 * time.Millisecond, 500 * time.Millisecond, now.Add(20 * time.Millisecond), 20 * time.Millisecond},
	} {
		got := lookAgain(Timing{FollowerDelay: tc.follower, Grace: tc.grace}, now, tc.until)
		if want := now.Add(tc.want); !got.Equal(want) {
			t.Errorf("lookAgain(FollowerDelay %s, Grace %s) = +%s, want +%s", tc.follower, tc.grace, got.Sub(now), tc.want)
		}
	}
}

func TestMissedByEveryNode(t *testing.T) {
	t0 := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name         string
		prev, before time.Time
		want         bool
	}{
		{"first tick handled", time.Time{}, t0, false},
		{"never claimed by anyone", t0, time.Time{}, false},
		{"the previous tick on record", t0, t0, false},
		{"a later tick on record", t0, t0.Add(time.Second), false},
		{"only an older tick on record", t0, t0.Add(-time.Second), true},
	} {
		if got := missedByEveryNode(tc.prev, tc.before); got != tc.want {
			t.Errorf("%s: missedByEveryNode = %v, want %v", tc.name, got, tc.want)
		}
	}
}
