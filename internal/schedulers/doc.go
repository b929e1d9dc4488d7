// Package schedulers runs each job on the ticks of its schedule, on exactly
// one node per tick, by the lease protocol written here once, above the
// store.Store interface.
//
// # Protocol
//
// Each job has one lease record: holder, term (the fencing token, +1 on
// every change of holder), the latest claimed tick, a TTL and a version. At
// tick s a node makes one atomic store call, Claim, which refuses if the
// record's tick is at or after s (the tick is taken) or if another holder's
// lease has not lapsed; otherwise it records this node as holder and s as
// taken, and only then does the node log "Running" and start the job.
//
// The holder keeps the lease between ticks, until its next tick plus Grace,
// and claims each tick directly. Other nodes read the record once per tick,
// FollowerDelay after it, and sit out. If the holder has not claimed the
// tick and its lease lapses before the following tick, they wait for the
// lapse and claim then: a dead holder's tick runs late, not never. If its
// lease lapses later, they look once more at the end of the holder's turn
// (Grace after the tick), when a holder that stopped during a run that
// crossed the tick may have released it (see Catch-up).
//
// A run is covered by its claim's lease, and is not renewed while that
// lease is still trusted: most runs end within it and write nothing more,
// so a holder that dies in them leaves its peers exactly the record they
// read at the tick. Only a run that outlasts its claim is renewed, with TTL
// LeaseDuration, every RetryPeriod (about one write per second: what
// Datastore sustains per entity), and a tick marked taken during a run
// renews the lease as a claim does. The holder trusts every write for the
// RenewDeadline/LeaseDuration fraction of its TTL from before it sent it;
// when trust ends without a newer write, the run's context is cancelled
// (package lease's Guard), which leaves the job the rest of the lease to
// stop before any peer can take over. A tick that comes while the previous run still
// runs is handled by the job's overlap policy (overlap.go): recorded as
// taken, logged "Skipped" and run by no one (Forbid, the default); or the
// run is cancelled and the tick starts once it has returned (Replace); or
// the tick is claimed and starts when the run ends (BufferOne). On shutdown
// a node stops claiming, lets its run finish (ShutdownTimeout), and
// releases the lease, so a peer claims the next tick on time.
//
// # Catch-up
//
// A tick that no node ran in its time runs once, late, on whichever node
// can claim it before its StartBy: the following tick, or sooner by the
// job's starting deadline (Policy.StartingDeadline; 0: never late). A node
// starting looks at the latest tick due before it started (after every
// node was down: only that one, never a burst; not for a job that never
// ran); a follower claims a tick whose holder did not claim it once its
// lease is released or has lapsed; a store call failing at a tick is
// retried until StartBy. The claim is an ordinary one, so a tick caught up
// runs once at most, and never after a later one: the store refuses any
// tick at or before the recorded one. A claim sent Grace or more after its
// tick is logged "Catching up" (with late_by) and counted
// (PolicyObserver.LateRun). A tick past its StartBy is left unclaimed, and
// the next claim logs it "Tick missed by every node".
//
// # Runs
//
// A run calls the job through a chain of wrappers (attempt.go), each a
// policy: a panic is recovered as an error; a failed call is retried
// (Policy.Retries, "Retrying", RetryBackoff doubling and jittered), under
// the same claim and term, while the run's context lives, the node is not
// stopping, and the attempt would start before StartBy; the run's context is
// cancelled past Policy.Timeout (result "timeout"). The history's record
// counts the attempts.
//
// # Time
//
// Lapse is judged by observed time, as client-go's leader election does: a
// node treats another holder's lease as lapsed only after it has seen the
// same record version, unchanged, for longer than the record's TTL, on its
// own clock; the holder trusts its lease only for a fraction of that TTL
// counted from before it sent the write. Offsets between the clocks of the
// nodes and the store therefore never enter the judgement; only the rate at
// which clocks run does (an assumption: they drift apart by far less than
// LeaseDuration-RenewDeadline over one lease). Tick times come from each
// node's wall clock; skew makes a node try a tick early or late, never twice,
// because the store refuses any tick at or before the recorded one.
//
// # Balance
//
// With a Membership (BALANCE; package balance), each node renews a member
// record every Period and reads the others'; records lapse by observed
// time, as leases do. Every node computes the same assignment of jobs to
// the live members that have been seen for 2 Periods (balance.Assign:
// rendezvous hashing with at most ceil(jobs/members) per node). A holder
// whose job is preferred elsewhere hands it over at a tick, between runs:
// it releases the lease instead of claiming, and the preferred node claims
// that tick after FollowerDelay. Other nodes defer: they claim a released
// lease only if the preferred node has not Grace/2 later. No node defers to
// the node that released the lease (on a hand-over, or on shutdown while
// views still prefer it): each defers to its successor, the node balance
// prefers among the others (balance.Membership.PreferredWithout), which
// claims at once; a node stopping names it in its "Released" event (to).
// A lapsed lease (its holder died) is claimed at once by whoever sees the
// lapse first, and moved by balance at a later tick: a takeover never waits
// for views of the members to agree.
//
// Balance promises that with a stable membership every job has one
// preferred node, that a move happens between runs and costs no tick, and
// that no node leads more than its share once the moves are done. It does
// not promise that views agree at every instant (they converge within a
// Period or two), nor anything about safety: every claim still goes through
// the store, so a wrong view can delay a move or a hand-over by Grace/2,
// never run a tick twice. When the members cannot be read for longer than
// a record's TTL, balance pauses and holders keep what they hold.
//
// # Guarantees
//
//   - A tick runs at most once: a run starts only after the store recorded
//     the claim, and the store refuses a tick already taken.
//   - Runs of one job on different nodes do not overlap, provided a job
//     returns within LeaseDuration-RenewDeadline of its context ending.
//     For writes that must hold even then, the run's context carries the
//     fencing token (jobs.TokenFrom).
//   - On a graceful shutdown no tick is lost: the lease is released before
//     the process exits, and a tick its last run crossed is caught up.
//   - A tick no node ran in its time (every node down over it, a lease
//     held over it) runs once, late, if a node can claim it before its
//     starting deadline.
//   - No overlap policy runs two runs of a job at once: a run is cancelled
//     (Replace) only by its own node, which holds the lease throughout, and
//     the next starts only once it has returned.
//   - A holder that dies costs its ticks until its lease lapses: Grace past
//     the next tick between runs and during a run its claim covers, about
//     LeaseDuration after its last renewal during a run that outlasted its
//     claim.
//
// # History
//
// A node records each run it made (job, tick, term, node, start, duration,
// result, error) in the store's shared history (store.History), after the
// run, through a bounded queue written by a goroutine of its own (History):
// a slow or absent store drops records ("History write failed"), never
// delays a run or a claim, and never retries. A node that takes over a
// lapsed lease records the previous holder's latest claimed tick as lost,
// unless that run's own record is in the history already: the holder died
// between runs. (With Forbid, a holder that died during a long run had
// marked later ticks taken; the lost record then names the latest of them,
// not the tick that was running.)
//
// # Pause
//
// The pause is a flag on the job's lease record (store.Lease.Paused), set
// by any node (SetPaused) without a new Version, so that it restarts no
// follower's lapse clock. Every claim of a tick checks it atomically and
// is refused while it is set (store.ErrPaused), on every node and across
// restarts: from the moment the flag is stored no run of the job starts
// anywhere; a run in progress goes on to its end. It costs no RPC: the
// leader's claim and a follower's read already read the record. A paused
// tick is logged "Paused" at debug level once per node, counted
// SkipPaused, and is not a tick "missed by every node". Once resumed, the
// next tick is claimed as usual: by the holder if its lease still holds,
// else by the first node to see it lapsed (the holder itself reclaims its
// own record at once).
//
// # Manual runs
//
// RunNow runs the job once, now, on the node asked, as a claim of a manual
// tick: a time after the tick on record and before the next scheduled one,
// written by the same atomic rules as any claim (store.Control.ClaimManual),
// under a term, with a fencing token, renewed and guarded like any run. The
// claim is made by the node's own Run loop, between two of its ticks, so
// that its scheduled claims never race it. It succeeds when this node holds
// the lease and runs nothing, when the lease is free or lapsed, or when its
// holder is idle: the history's latest record is of the record's own tick
// and term, that is, the holder has finished the run of its latest claim.
// Taking an idle holder's lease is safe because a holder acts on its lease
// only through a claim, which this write makes fail, or while a run lasts.
//
// What a manual run promises:
//
//   - It never doubles a scheduled tick: its tick is none of the schedule's,
//     and the store takes any tick once. It is placed just before a due
//     tick that may still be claimed (for Grace+FollowerDelay after it), so
//     that this tick still runs, or is skipped as one that came during a
//     run (Forbid), never taken silently.
//   - It never overlaps another run of the job: it is refused (409) while a
//     run may be in progress, here or on the holder, or before the holder's
//     latest run is in the history (the history is written just after the
//     run; with HISTORY_LIMIT=0 only the holder, or any node when the lease
//     is free, can run the job now). A scheduled tick that comes during a
//     manual run is skipped, like any tick during a run.
//   - It runs once per accepted request: the answer (202, with the run's
//     id) comes after the claim is stored and the run started; a request
//     refused, or whose claim failed, ran nothing (a claim whose answer was
//     lost may have taken the manual tick, which then runs nowhere).
//   - It is refused while the job is paused, and when the scheduler is busy
//     with a tick (a lapse wait, store retries) for longer than the caller
//     waits.
//
// # Not promised
//
// A tick can be lost, never doubled: when the store is unreachable until its
// starting deadline, when a claim is confirmed too late to run safely, when
// every other node started after the dead holder's last write (a node that
// has just started waits a whole TTL), or when a stopping holder releases
// the lease after the end of its turn and no node looks again before the
// deadline. Of ticks missed while every node was down, only the latest runs.
// A tick is not claimed, nor a run retried, at or after its starting
// deadline (at the latest its following tick). A tick buffered (BufferOne)
// when its node stops is skipped. Nodes must share the schedule and the
// policy of a job.
//
// A process frozen in the middle of a run (a long GC pause, SIGSTOP, a VM
// migration) resumes its job's code at the same moment as the timer that
// cancels it; meanwhile a peer may have taken the lease over, so the two
// runs can overlap in wall time. No lease protocol can prevent that alone:
// a job whose writes must never interleave should carry its fencing token
// (jobs.TokenFrom) to the system it writes to.
package schedulers
