// Package balance shares a node's jobs out among the live nodes: each
// process announces itself with a member record in the store
// (store.Members), reads the others' records every Period, and computes,
// from the members it has seen stably, which member should lead each job
// (Membership.Preferred). The scheduler consults it through its own
// Balancer interface; balance never claims, releases or runs anything.
//
// # Membership
//
// A Membership renews this process's record every Period (TTL 3 Periods)
// and lists the others'. A record lapses by observed time, as a lease does
// (package lease): after it has been seen unchanged for longer than its TTL
// on this node's clock, whatever the clocks of its writer and the store
// read. A member becomes a candidate once seen for 2 Periods, so that a
// flapping node does not move jobs to and fro. A graceful leave deletes the
// record; a record lapsed for 10 TTLs belongs to a dead process and is
// deleted by whichever node sees it.
//
// # Assignment
//
// Assign gives every job a preferred candidate by rendezvous hashing of
// (job, node name) with a cap of ceil(jobs/candidates) per candidate:
// every node computing it from the same lists gets the same answer, a node
// restarted under the same name gets the same jobs, and a candidate joining
// or leaving moves about jobs/candidates of them.
//
// # What it promises, and what it does not
//
// With a stable membership every node's view converges within a Period or
// two to the same assignment, in which every job has one preferred member
// and none has more than its share. It does not promise that views agree
// at every instant, nor anything about safety: a preference is advice to
// the scheduler, whose every claim still goes through the store, so a
// wrong view delays a move, never runs a tick twice. When the members
// cannot be read for longer than a record's TTL, Preferred answers
// ok=false (balance pauses) until a read succeeds again.
package balance
