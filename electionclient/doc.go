// Package electionclient is the Go client of the leader-election service
// (go-leader-election serve): a program imports it to be elected leader of
// an election, keep the lease alive, and know when it must stop acting as
// leader.
//
//	c, err := electionclient.New(electionclient.Config{Servers: []string{"le-0:50051", "le-1:50051"}})
//	e, err := c.Election("production", electionclient.ElectionOptions{TTL: 10 * time.Second})
//	lead, err := e.Campaign(ctx) // blocks until leader
//	defer lead.Resign(context.Background())
//	work(lead.Context())          // ends before the lease can lapse
//
// A program holding many elections holds them under one Session: one
// keepalive stream per Client renews every session of the Client, and the
// elections need no heartbeat of their own:
//
//	s, err := c.NewSession(ctx, electionclient.SessionOptions{TTL: 10 * time.Second})
//	defer s.Close(context.Background()) // frees every election at once
//	lead, err := s.Campaign(ctx, "shard-07") // as many as needed
//	work(lead.Context())                    // ends when the session is lost
//
// # What it promises
//
//   - Self-fencing. A Leadership trusts each grant or renewal for a fraction
//     (ElectionOptions.Trust, 2/3 by default) of the TTL granted, counted
//     from before it sent the request. When heartbeats fail for that long,
//     or a server says the term is over, Done closes and Context is
//     cancelled with a cause matching ErrLost, before any server can judge
//     the lease lapsed: a server lets another node take over only once it
//     has seen the record unchanged for the whole TTL, after the write.
//     The rest of the TTL is what the program has to stop acting.
//   - Failover. Calls go to one server at a time, and move to the next on
//     UNAVAILABLE or a timeout; a leader whose server dies keeps its lease
//     if another server renews it within the trusted time (servers over one
//     Datastore share the leases). Errors that retrying cannot mend
//     (INVALID_ARGUMENT, UNAUTHENTICATED, a TLS mismatch: ErrTLS, ...) are
//     returned at once.
//   - Heartbeats every Trust/2 of the TTL (a third, by default), retried
//     until the trusted time ends. A Session is kept alive at the same pace,
//     and trusted the same way (less the age of the write that answered a
//     keepalive, when the server answers from a recent one); its stream
//     moves to the next server when it fails or an answer is late by half
//     the trusted time left. A Leadership under a Session ends with it.
//
// # What it does not promise
//
// It cannot stop a program that ignores its Context, nor one frozen past
// the trusted time (SIGSTOP, a long pause): writes that must never
// interleave should carry the Term, a fencing token, to the system they
// write to. It assumes clocks run at the same rate (within far less than
// the untrusted part of the TTL per lease); it never compares clocks. A
// Leadership does not re-campaign after a loss: call Campaign again.
package electionclient
