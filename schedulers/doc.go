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
// lapse and claim then: a dead holder's tick runs late, not never.
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
// runs is recorded as taken, logged "Skipped" and run by no one (Forbid).
// On shutdown a node stops claiming, lets its run finish (ShutdownTimeout),
// and releases the lease, so a peer claims the next tick on time.
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
// With a Membership (BALANCE), each node renews a member record every
// Period and reads the others'; records lapse by observed time, as leases
// do. Every node computes the same assignment of jobs to the live members
// that have been seen for 2 Periods (Assign: rendezvous hashing with at
// most ceil(jobs/members) per node). A holder whose job is preferred
// elsewhere hands it over at a tick, between runs: it releases the lease
// instead of claiming, and the preferred node claims that tick after
// FollowerDelay. Other nodes defer: they claim a free or lapsed lease only
// if the preferred node has not Grace/2 later, leaving out a holder whose
// lease lapsed (it is evidently gone).
//
// Balance promises that with a stable membership every job has one
// preferred node, that a move happens between runs and costs no tick, and
// that no node leads more than its share once the moves are done. It does
// not promise that views agree at every instant (they converge within a
// Period or two), nor anything about safety: every claim still goes through
// the store, so a wrong view can delay a move or a takeover by Grace/2,
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
//     the process exits.
//   - A holder that dies costs its ticks until its lease lapses: Grace past
//     the next tick between runs and during a run its claim covers, about
//     LeaseDuration after its last renewal during a run that outlasted its
//     claim.
//
// # Not promised
//
// A tick can be lost, never doubled: when the store is unreachable until the
// following tick, when a claim is confirmed too late to run safely, or when
// every other node started after the dead holder's last write (a node that
// has just started waits a whole TTL). A tick is not retried after its
// following tick has come. Nodes must share the schedule of a job.
//
// A process frozen in the middle of a run (a long GC pause, SIGSTOP, a VM
// migration) resumes its job's code at the same moment as the timer that
// cancels it; meanwhile a peer may have taken the lease over, so the two
// runs can overlap in wall time. No lease protocol can prevent that alone:
// a job whose writes must never interleave should carry its fencing token
// (jobs.TokenFrom) to the system it writes to.
package schedulers
