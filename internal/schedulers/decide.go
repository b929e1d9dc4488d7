package schedulers

import (
	"time"

	"go-leader-election/internal/balance"
	"go-leader-election/lease"
)

// What a node does about a tick is decided here, from what it has observed,
// by pure functions (decideStart, decide); tick (claim.go) carries each
// decision out: the store calls, the waits and the log events.

// tickStep is one thing a node does about a tick.
type tickStep int

const (
	// stepSkipOverlap: the previous run still runs; the tick is marked
	// taken and run by no one (Forbid; overlap.go).
	stepSkipOverlap tickStep = iota
	// stepReplace: the previous run still runs; cancel it, and handle the
	// tick once it has ended (Replace; overlap.go).
	stepReplace
	// stepBuffer: the previous run still runs; claim the tick, and start it
	// when that run ends (BufferOne; overlap.go).
	stepBuffer
	// stepHandOver: this node holds the lease, and balance prefers another
	// node: release it, then look as a follower does (handover.go).
	stepHandOver
	// stepRead: read the record before deciding (a node that does not hold
	// the lease).
	stepRead
	// stepClaim: claim the tick now.
	stepClaim
	// stepSitOut: leave the tick to the node that has it, or let it go.
	stepSitOut
	// stepPaused: the job is paused; nothing runs.
	stepPaused
	// stepAwaitPreferred: give the node balance prefers time to claim;
	// read the record again at the decision's At.
	stepAwaitPreferred
	// stepAwaitLapse: the holder has not claimed the tick and its lease
	// lapses before the following one; read the record again at At.
	stepAwaitLapse
	// stepAwaitRelease: the holder has not claimed the tick and its lease
	// lapses too late, but a holder that stops (a graceful shutdown during
	// a run that crossed the tick) releases it when its run ends: read the
	// record once more at At, the end of the holder's turn.
	stepAwaitRelease
)

// preference is balance's answer for a job: Known is false when balance is
// off or paused.
type preference struct {
	Known bool
	To    balance.Candidate
}

// here reports whether the job is preferred on the process self; ifUnknown
// is the answer without a preference.
func (p preference) here(self string, ifUnknown bool) bool {
	if !p.Known {
		return ifUnknown
	}
	return p.To.ID == self
}

// decideStart is a node's first step at a tick: whether it is still running
// the previous one (then the job's overlap policy decides), and whether it
// holds the lease (leading) and so may claim without reading first, unless
// balance prefers another node.
func decideStart(running bool, overlap Overlap, leading bool, pref preference, self string) tickStep {
	switch {
	case running && overlap == Replace:
		return stepReplace
	case running && overlap == BufferOne:
		return stepBuffer
	case running:
		return stepSkipOverlap
	case !leading:
		return stepRead
	case pref.Known && pref.To.ID != self:
		return stepHandOver
	}
	return stepClaim
}

// tickView is everything decide looks at: pure data.
type tickView struct {
	Tick     time.Time // the tick handled
	Deadline time.Time // the following tick, which supersedes it
	// StartBy is the latest time a claim of Tick may be sent: Deadline, or
	// sooner by the job's starting deadline (Scheduler.startBy).
	StartBy time.Time
	Now     time.Time
	// Read is true when Lease was just read from the store; false when this
	// node claims as holder without reading, on its own reckoning.
	Read  bool
	Lease lease.State
	Self  string // this process's holder name
	Pref  preference
	// ReleasedBy is the holder that released the lease, when this node saw
	// it hold the lease under the term the free record still has; Successor
	// is balance's preference among the others than it. A node that has
	// released a job will not claim it: nobody defers to it.
	ReleasedBy string
	Successor  preference
	// LookBack is true for the tick due before this node started
	// (catchup.go): it is a tick to catch up only if the job has run before.
	LookBack bool
	// PrevTick is the schedule's tick before Tick; set (by the caller) only
	// when another holder's lease is on record with an older tick.
	PrevTick time.Time
	// DeferUntil is when this node stops waiting for the preferred node
	// to claim; zero while it has not begun waiting.
	DeferUntil time.Time
	Timing     Timing
}

// tickDecision is what decide chose.
type tickDecision struct {
	Step tickStep
	// Why says what made the decision: for stepSitOut it is the "reason"
	// of the "Sitting out" event; for the others it is for people reading
	// tests.
	Why string
	// At is when to read the record again (the waits).
	At time.Time
	// DeferUntil is the view's, set when this decision began a wait for the
	// preferred node: the caller keeps it for the next view.
	DeferUntil time.Time
}

// decide chooses what to do about a tick from the record as observed.
//
// A node that holds the lease claims at once. Any other node first reads
// the record, and claims only if the tick is free and the lease is
// released, absent, or lapsed by its own observation. If the holder has not
// claimed the tick (decideHeld), the node looks again when the lease can
// have lapsed or been released, and claims then, until StartBy: a holder
// that died, or stopped during a run that crossed the tick, still gets its
// tick run, late. A released lease is left to the preferred node for
// Grace/2, unless that node is the one that released it: then to its
// successor, balance's preference among the others. A lapsed lease is
// claimed at once by whoever sees the lapse first (its holder died, and
// views of who is alive may disagree for a period; balance moves the job at
// a later tick). No claim is sent at or after StartBy.
func decide(v tickView) tickDecision {
	d := tickDecision{DeferUntil: v.DeferUntil}
	// awaitPreferred waits for the preferred node's claim until Grace/2
	// after the wait began (at most until the deadline), looking often, so
	// that its claim is seen early: a lapse is judged from a node's first
	// sight of a record. ok is false once the wait is over.
	awaitPreferred := func(why string) (tickDecision, bool) {
		if d.DeferUntil.IsZero() {
			d.DeferUntil = earliest(v.Now.Add(v.Timing.Grace/2), v.StartBy)
		}
		if !v.Now.Before(d.DeferUntil) {
			return d, false
		}
		d.Step, d.Why, d.At = stepAwaitPreferred, why, lookAgain(v.Timing, v.Now, d.DeferUntil)
		return d, true
	}
	if v.Read {
		st, rec := v.Lease, v.Lease.Record
		switch {
		case rec.Tick.Equal(v.Tick) && rec.Holder == v.Self:
			// This node's own claim of the tick is on record although no
			// answer said so (an answer lost on the network): claim again,
			// and the lease recognises it.
			d.Why = "own claim on record"
		case !rec.Tick.Before(v.Tick):
			d.Step, d.Why = stepSitOut, "tick taken"
			return d
		case v.LookBack && rec.Tick.IsZero():
			// No tick was ever claimed: a new job starts with its next tick.
			d.Step, d.Why = stepSitOut, "never run"
			return d
		case rec.Paused:
			d.Step, d.Why = stepPaused, "paused"
			return d
		case st.Kind == lease.Held && !st.Lapsed(v.Now):
			return decideHeld(v, d, awaitPreferred)
		case st.Kind == lease.Held: // lapsed
			d.Why = "lease lapsed"
		default: // free: released or never claimed
			pref, why := v.Pref, "lease free"
			if v.ReleasedBy != "" && pref.Known && pref.To.ID == v.ReleasedBy {
				// The preferred node released the job (it stops, or views
				// disagree): its successor among the others claims instead.
				pref, why = v.Successor, "released, successor"
			}
			if !pref.here(v.Self, true) {
				if w, ok := awaitPreferred("free, preferred elsewhere"); ok {
					return w
				}
			}
			d.Why = why
		}
	}
	if !v.Now.Before(v.StartBy) {
		// A slow store, or a lease freed late, made this node look until
		// the following tick (that tick supersedes this one) or past the
		// starting deadline: it leaves the tick unclaimed.
		d.Step, d.Why = stepSitOut, "following tick reached"
		if v.StartBy.Before(v.Deadline) {
			d.Why = "starting deadline passed"
		}
		return d
	}
	d.Step = stepClaim
	if !v.Read {
		d.Why = "holder"
	}
	return d
}

// decideHeld decides about a lease another node holds, not lapsed, that has
// not claimed the tick (a claimed tick is "tick taken"): that holder is late
// to claim, has died, or is stopping during a run that crossed the tick.
//
// If the lease lapses within the starting deadline, the node looks again
// every Grace/2 until the lapse: a holder that is merely late (a slower
// clock) claims meanwhile, and seeing its write early keeps the next lapse
// close to the truth. A node balance prefers waits for the hand-over. Else,
// if the holder claimed the tick before this one (its run of it may have
// crossed this tick), it looks once more at the end of the holder's turn
// (Grace after the tick), when a live holder has claimed, and one that
// stops may have released the lease after that run: one extra read, only
// for such a tick. (A holder whose latest claim is older is not in such a
// run; and a node whose clock runs ahead sees that record before the
// holder's claim of the tick before, and must not judge its lapse from an
// earlier sight of that claim than its next tick's.)
func decideHeld(v tickView, d tickDecision, awaitPreferred func(string) (tickDecision, bool)) tickDecision {
	st := v.Lease
	if st.Until.Before(v.StartBy) {
		d.Step, d.Why, d.At = stepAwaitLapse, "lease lapses before the following tick",
			earliest(v.Now.Add(v.Timing.Grace/2), st.Until)
		return d
	}
	if v.Pref.here(v.Self, false) {
		// The holder is handing this job over to this node: its release may
		// still be on its way.
		if w, ok := awaitPreferred("handed over here"); ok {
			return w
		}
	}
	if turn := v.Tick.Add(v.Timing.Grace); v.Now.Before(turn) && turn.Before(v.StartBy) && st.Record.Tick.Equal(v.PrevTick) {
		d.Step, d.Why, d.At = stepAwaitRelease, "holder has not claimed the tick", turn
		return d
	}
	d.Step, d.Why = stepSitOut, "lease held"
	return d
}

// missedByEveryNode reports whether the tick before this one (prev, the one
// this node handled before) went unclaimed by every node: the latest tick
// on record before this claim (before) is older than it.
func missedByEveryNode(prev, before time.Time) bool {
	return !prev.IsZero() && !before.IsZero() && before.Before(prev)
}

// lookAgain is when a node waiting for the preferred node, until until,
// reads the record again: every FollowerDelay (at least Grace/10).
func lookAgain(t Timing, now, until time.Time) time.Time {
	return earliest(now.Add(max(t.FollowerDelay, t.Grace/10)), until)
}

func earliest(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}
