// Package service is the leader-election service: the gRPC server of the
// leaderelection.v1 API (LeaderElection: TryBecomeLeader, Heartbeat,
// ReleaseLeadership, IsLeader, GetCurrentLeader, Watch, and the sessions:
// CreateSession, KeepAlive, CloseSession) over lease stores, and
// "go-leader-election serve" (Main), which runs it with its HTTP probes and
// metrics.
//
// A Server is stateless but for its observations: every election is one
// lease record in the election store (Options.Store), every session one
// record in the session store (Options.Sessions), and every decision is one
// atomic store operation, so any number of servers over one Datastore
// database (distributed mode) serve the same elections and sessions. With
// the embedded memory store, one server is the whole service (single-server
// mode).
//
// A session is one lease that any number of elections are held under: an
// election's record then names the session (session.go), needs no
// heartbeat of its own, and ends with the session. One KeepAlive stream
// renews any number of sessions; the renewals of many sessions made at once
// share a store commit where the store batches (Datastore, up to 500), and a
// session's record is written at most once per write gap (one second, or a
// sixth of its TTL if less): a keepalive sooner is answered from the latest
// write, with its age, which the client counts its trust from.
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
//     unchanged, for longer than its TTL on its own clock (one
//     lease.Observer per election, fed by every call the server answers,
//     for any node). So a lapsed lease is granted to whoever asks first
//     after one TTL of the server's observation, and GetCurrentLeader,
//     IsLeader and TryBecomeLeader never contradict each other on one
//     server. Clocks are never compared, so a server whose clock is off
//     never grants early; only clock rates matter. A server that has just
//     started (or has not been asked about an election for a while) starts
//     observing afresh, which can only delay a takeover.
//   - A session lapses the same way, by the server's observation of its
//     record; an election held under it is taken over only once the server
//     has ended the session on record, naming the version it judged lapsed
//     (a renewal meanwhile makes that fail, and none can succeed after), or
//     found it closed.
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
// The store contract has no delete: a session's record stays after it ends
// (about a hundred bytes in the memory store; a Datastore TTL policy on the
// session kind's Expires can remove them). A session closed through one
// server may still be answered alive, from a recent write, by another for
// up to its write gap; only its holder knows its id.
package service
