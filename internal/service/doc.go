// Package service is the leader-election service: the gRPC server of the
// leaderelection.v1 API (LeaderElection: TryBecomeLeader, Heartbeat,
// ReleaseLeadership, IsLeader, GetCurrentLeader, Watch) over a lease store,
// and "go-leader-election serve" (Main), which runs it with its HTTP probes
// and metrics.
//
// A Server is stateless but for its observations: every election is one
// lease record in the store (store.Store), and every decision is one atomic
// store operation, so any number of servers over one Datastore database
// (distributed mode) serve the same elections. With the embedded memory
// store, one server is the whole service (single-server mode).
//
// # What it promises
//
//   - At most one node holds an election's lease at a time, whatever the
//     number of servers and clients: grants, renewals and releases are atomic
//     store operations, and a takeover names the exact record version it
//     judged lapsed, so two servers can never both hand the lease out.
//   - The term (fencing token) grows by one at every change of leader; a
//     Heartbeat or ReleaseLeadership under another term than the current
//     holder's is refused with FAILED_PRECONDITION and changes nothing.
//   - A lease lapses only by observed time: a server lets another node take
//     the lease over only once it has seen the record's same version,
//     unchanged, for longer than its TTL on its own clock (package lease,
//     per election and node). Clocks are never compared, so a server whose
//     clock is off never grants early; only clock rates matter. A server
//     that has just started (or has not been asked about an election for a
//     while) starts observing afresh, which can only delay a takeover.
//   - A node that asks again while it holds the lease (TryBecomeLeader) is
//     granted it again under the same term; a client may retry any call
//     after a lost answer.
//   - Bad requests get INVALID_ARGUMENT (names: 1 to 256 bytes of printable
//     UTF-8, not __*__; TTL from 1s to 1h; term > 0), a store that fails
//     UNAVAILABLE, and a missing or wrong token UNAUTHENTICATED; nothing a
//     client sends makes the server panic.
//
// # What it does not promise
//
// It does not stop a deposed leader from acting: a client must stop when
// it can no longer trust its lease (package electionclient does, at a
// fraction of the TTL counted from before it sent the request), and writes
// that must never interleave should carry the term to the system they
// write to. Node ids must be unique per client process: two processes with
// one node id are one node. Watch polls the store (Options.WatchPeriod,
// 250 ms by default), so it can miss a change undone within one period,
// and it sends the latest state, not every intermediate one, to a slow
// reader. TLS (and client certificates) is served by Main when configured;
// a Server itself leaves transport security to the gRPC server options its
// caller gives GRPCServer.
package service
