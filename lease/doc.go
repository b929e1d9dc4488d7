// Package lease owns one process's view of one lease record and answers the
// question every user of the protocol asks: who holds this lease, and until
// when (State). The scheduler's per-job leases, the member records and the
// lease service all hold their leases through a Handle. An Observer is the
// same judgement for a process that only watches a record it does not hold
// (a lease server judging its clients' leases and sessions).
//
// # What it promises
//
// Lapse is judged by observed time, as client-go's leader election does: a
// record held by another process lapses once this process has seen the same
// Version, unchanged, for longer than the record's TTL by its own clock
// (State.Until). This process trusts its own hold only for the Trust fraction
// of the TTL it wrote, counted from before it sent the write
// (State.TrustedUntil), which leaves the rest of the TTL for a holder that
// stops trusting its lease to stop acting on it before any peer may take
// over. Offsets between clocks never enter; only their rates do (they must
// drift apart by far less than (1-Trust)*TTL over one lease).
//
// Every store call is detached from its caller's cancellation (a write
// abandoned halfway is a write whose outcome is unknown) and bounded by
// Config.Timeout. A claim whose answer was lost but which the store applied
// is recognised when the retry finds this process's own claim on record, and
// is then trusted from the send time of the earliest attempt that could have
// written it.
//
// # What it does not promise
//
// A Handle does not retry, sleep, or decide when to claim: its callers own
// their loops (the tick loop of package schedulers, a lease server's RPCs).
// It does not protect a process frozen past its trusted time (SIGSTOP, a
// long GC pause): writes that must never interleave should carry the
// fencing Token to the system they write to.
package lease
