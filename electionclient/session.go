package electionclient

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"

	pb "go-leader-election/api/leaderelection/v1"
)

// SessionOptions configure a Session.
type SessionOptions struct {
	// Node names this process to the servers. Unique per process. Default
	// DefaultNode().
	Node string
	// TTL is the session's TTL, from 1s to 1h: how long after the latest
	// renewal a server may judge it lapsed. Default DefaultTTL.
	TTL time.Duration
	// Trust is the fraction of each granted TTL this process acts on,
	// counted from before it sent the keepalive: 0 < Trust < 1. Default
	// DefaultTrust (2/3). Keepalives go every Trust/2 of the TTL.
	Trust float64
	// PollInterval is how often Campaign asks while another node leads.
	// Default TTL/10, between 50ms and 500ms.
	PollInterval time.Duration
}

// withDefaults fills in and checks o.
func (o SessionOptions) withDefaults() (SessionOptions, error) {
	e, err := electionOptions(ElectionOptions(o))
	return SessionOptions(e), err
}

// Session is one session of this node: a lease on the servers that any
// number of elections are held under (Campaign), kept alive by one
// keepalive stream per Client, whatever the number of sessions and
// elections. Its Context ends, and Done closes, when the program must stop
// relying on it and on every election held under it: on Close
// (ErrSessionClosed), when no keepalive succeeded within the trusted part
// of the TTL (ErrExpired), or when a server said it is gone (ErrSessionGone)
// — always before a server can judge it lapsed.
type Session struct {
	trusted
	c  *Client
	id string
	o  SessionOptions

	// Keeper state, under keeper.mu: when the next keepalive is due, when
	// the one in flight was sent (zero: none), its place in the queue.
	next, sent time.Time
	index      int
}

// NewSession creates a session on a server (retrying UNAVAILABLE with
// backoff until ctx ends) and starts keeping it alive. ctx bounds only the
// creation: the Session's Context keeps ctx's values but not its
// cancellation.
func (c *Client) NewSession(ctx context.Context, o SessionOptions) (*Session, error) {
	o, err := o.withDefaults()
	if err != nil {
		return nil, err
	}
	req := &pb.CreateSessionRequest{NodeId: o.Node, Ttl: durationpb.New(o.TTL)}
	var resp *pb.CreateSessionResponse
	var sent time.Time
	err = c.call(ctx, "session", 0, 5*time.Second, func(ctx context.Context, api pb.LeaderElectionClient) (err error) {
		sent = time.Now()
		resp, err = api.CreateSession(ctx, req)
		return err
	})
	if err != nil {
		return nil, err
	}
	s := &Session{c: c, id: resp.GetSessionId(), o: o, index: -1}
	ttl := resp.GetTtl().AsDuration()
	s.start(ctx, ttl, sent.Add(s.trust(ttl)))
	c.keeper.add(s, sent.Add(s.every()))
	context.AfterFunc(s.ctx, func() { c.keeper.remove(s) }) // however it ends
	return s, nil
}

// ID returns the session's id, a secret: whoever knows it can keep the
// session alive or close it.
func (s *Session) ID() string { return s.id }

// Node returns this node's id.
func (s *Session) Node() string { return s.o.Node }

// TTL returns the TTL last granted.
func (s *Session) TTL() time.Duration { return s.grantedTTL() }

// TrustedUntil is when this node stops relying on the session unless a
// keepalive succeeds first: Trust of the TTL granted, counted from before
// the latest successful keepalive was sent (less the age of the write that
// answered it).
func (s *Session) TrustedUntil() time.Time { return s.trustedUntil() }

// Context is cancelled when the session ends; context.Cause tells why.
func (s *Session) Context() context.Context { return s.ctx }

// Done is closed when the session ends.
func (s *Session) Done() <-chan struct{} { return s.ctx.Done() }

// Err is nil while the session lasts, and then why it ended: an error
// matching ErrLost (ErrExpired, ErrSessionGone, or one naming a call that
// failed for good), or ErrSessionClosed.
func (s *Session) Err() error { return s.cause() }

func (s *Session) trust(ttl time.Duration) time.Duration {
	return time.Duration(float64(ttl) * s.o.Trust)
}

// every is how often the session is kept alive: Trust/2 of its TTL.
func (s *Session) every() time.Duration { return s.trust(s.o.TTL) / 2 }

// kept moves the trusted time after a keepalive sent at sent was answered
// with ttl, from a write made age before the server received it.
func (s *Session) kept(sent time.Time, ttl, age time.Duration) {
	s.renewed(sent.Add(-age).Add(s.trust(ttl)), ttl)
}

// end ends the session with cause, which stops keeping it alive.
func (s *Session) end(cause error) { s.stop(cause) }

// Close ends the session (its Context is cancelled with ErrSessionClosed
// unless it had ended already, and so is every Leadership held under it),
// and closes it on the servers, so that every election held under it is
// free for another node at once. The program should have stopped relying
// on its elections before it calls Close. A session that is gone already
// is not an error.
func (s *Session) Close(ctx context.Context) error {
	s.end(ErrSessionClosed)
	req := &pb.CloseSessionRequest{SessionId: s.id}
	return s.c.call(ctx, "close", 0, time.Second, func(ctx context.Context, api pb.LeaderElectionClient) error {
		_, err := api.CloseSession(ctx, req)
		return err
	})
}

// Campaign blocks until this node leads election under the session, and
// returns its Leadership, which lasts as long as the session does (no
// heartbeat of its own), until Resign. It behaves as Election.Campaign does,
// and returns an error matching ErrLost at once if the session ends.
func (s *Session) Campaign(ctx context.Context, election string) (*Leadership, error) {
	return s.CampaignAny(ctx, election)
}

// CampaignAny is Campaign on several elections at once: it asks for each
// in turn, every PollInterval, and returns the Leadership of the first it
// is granted (Leadership.Election tells which). With the names of Slots, it
// takes one of a semaphore's slots.
func (s *Session) CampaignAny(ctx context.Context, elections ...string) (*Leadership, error) {
	if len(elections) == 0 {
		return nil, errors.New("electionclient: campaign: no election")
	}
	es := make([]*Election, len(elections))
	for i, name := range elections {
		e, err := s.c.Election(name, ElectionOptions{Node: s.o.Node, TTL: s.o.TTL, Trust: s.o.Trust, PollInterval: s.o.PollInterval})
		if err != nil {
			return nil, err
		}
		es[i] = e
	}
	for {
		for _, e := range es {
			l, err := s.try(ctx, e)
			if l != nil || err != nil {
				return l, err
			}
		}
		t := time.NewTimer(s.o.PollInterval)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return nil, fmt.Errorf("electionclient: campaign: %w", context.Cause(ctx))
		case <-s.ctx.Done():
			t.Stop()
			return nil, fmt.Errorf("electionclient: campaign: %w", context.Cause(s.ctx))
		}
	}
}

// try asks once for e under the session: a Leadership if granted, nil if
// another node leads.
func (s *Session) try(ctx context.Context, e *Election) (*Leadership, error) {
	if s.ctx.Err() != nil {
		return nil, fmt.Errorf("electionclient: campaign: %w", context.Cause(s.ctx))
	}
	req := &pb.TryBecomeLeaderRequest{Election: e.name, NodeId: s.o.Node, SessionId: s.id}
	var resp *pb.TryBecomeLeaderResponse
	err := s.c.call(ctx, "campaign", 0, 5*time.Second, func(ctx context.Context, api pb.LeaderElectionClient) (err error) {
		resp, err = api.TryBecomeLeader(ctx, req)
		return err
	})
	if status.Code(err) == codes.FailedPrecondition {
		s.end(fmt.Errorf("%w (%s)", ErrSessionGone, status.Convert(errors.Unwrap(err)).Message()))
		return nil, fmt.Errorf("electionclient: campaign: %w", context.Cause(s.ctx))
	}
	if err != nil || !resp.GetLeader() {
		return nil, err
	}
	l := e.leadUnder(ctx, s, resp.GetTerm())
	if s.ctx.Err() != nil { // granted, but the session ended meanwhile: not to be relied on
		return nil, fmt.Errorf("electionclient: campaign: %w", context.Cause(s.ctx))
	}
	return l, nil
}

// Slots returns the names of the elections that make up a semaphore of
// limit holders named election, as "lock --limit" uses them:
// "election/slot-0" to "election/slot-<limit-1>". Each slot is an election of
// its own, with its own term; a holder is a node that leads one of them.
func Slots(election string, limit int) ([]string, error) {
	if limit < 1 {
		return nil, fmt.Errorf("electionclient: a semaphore's limit is %d: want at least 1", limit)
	}
	out := make([]string, limit)
	for i := range out {
		out[i] = election + "/slot-" + strconv.Itoa(i)
		if err := pb.CheckName("election", out[i]); err != nil {
			return nil, fmt.Errorf("electionclient: slot %d of %q: %w", i, election, err)
		}
	}
	return out, nil
}
