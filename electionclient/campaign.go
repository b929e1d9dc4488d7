package electionclient

import (
	"context"
	"errors"
	"fmt"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"

	pb "go-leader-election/api/leaderelection/v1"
)

// Campaign blocks until this node is leader, and returns its Leadership,
// which heartbeats keep alive until Resign or a loss. While another node
// leads it asks every PollInterval; while no server answers it retries with
// backoff (telling Config.OnRetry). It returns ctx's error when ctx ends,
// and a *CallError at once on a failure retrying cannot mend (a wrong
// token: UNAUTHENTICATED; a bad name or TTL: INVALID_ARGUMENT). ctx bounds
// only the campaign: the Leadership's Context keeps ctx's values but not its
// cancellation.
func (e *Election) Campaign(ctx context.Context) (*Leadership, error) {
	req := &pb.TryBecomeLeaderRequest{Election: e.name, NodeId: e.o.Node, Ttl: durationpb.New(e.o.TTL)}
	for {
		var resp *pb.TryBecomeLeaderResponse
		var sent time.Time
		err := e.c.call(ctx, "campaign", 0, 5*time.Second, func(ctx context.Context, api pb.LeaderElectionClient) (err error) {
			sent = time.Now()
			resp, err = api.TryBecomeLeader(ctx, req)
			return err
		})
		if err != nil {
			return nil, err
		}
		if resp.GetLeader() {
			ttl := resp.GetTtl().AsDuration()
			trusted := sent.Add(time.Duration(float64(ttl) * e.o.Trust))
			if time.Now().Before(trusted) {
				return e.lead(ctx, resp.GetTerm(), ttl, sent, trusted), nil
			}
			continue // answered too late to act on: ask again (same term) at once
		}
		t := time.NewTimer(e.o.PollInterval)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return nil, fmt.Errorf("electionclient: campaign: %w", context.Cause(ctx))
		}
	}
}

// Leadership is one term of this node as leader. Its Context ends, and Done
// closes, when the program must stop acting as leader: on Resign
// (ErrResigned), or before the lease can lapse on any server when it could
// not be renewed (ErrExpired) or a server said the term is over
// (ErrDeposed). A Leadership held under a Session has no heartbeat of its
// own: it ends with its session, with the session's cause.
type Leadership struct {
	trusted
	e       *Election
	term    int64
	session *Session      // nil: a lease of its own, heartbeaten
	loop    chan struct{} // closed when the heartbeat loop has returned
	unhook  func() bool   // stops following the session
}

func (e *Election) lead(parent context.Context, term int64, ttl time.Duration, sent, trusted time.Time) *Leadership {
	l := &Leadership{e: e, term: term, loop: make(chan struct{})}
	l.start(parent, ttl, trusted)
	go l.keepAlive(sent)
	return l
}

// leadUnder is the Leadership of e under session s, granted under term: it
// ends when s does, with s's cause.
func (e *Election) leadUnder(parent context.Context, s *Session, term int64) *Leadership {
	l := &Leadership{e: e, term: term, session: s, loop: make(chan struct{})}
	close(l.loop)
	l.start(parent, 0, time.Time{}) // its session expires, not it
	l.unhook = context.AfterFunc(s.ctx, func() { l.cancel(context.Cause(s.ctx)) })
	return l
}

// Term is this leadership's term: a fencing token that grows at every
// change of leader.
func (l *Leadership) Term() int64 { return l.term }

// Election returns the election led.
func (l *Leadership) Election() *Election { return l.e }

// TTL returns the TTL last granted (its session's, under a session).
func (l *Leadership) TTL() time.Duration {
	if l.session != nil {
		return l.session.TTL()
	}
	return l.grantedTTL()
}

// TrustedUntil is when this node stops acting as leader unless a heartbeat
// succeeds first: Trust of the TTL granted, counted from before the latest
// successful request was sent (its session's, under a session).
func (l *Leadership) TrustedUntil() time.Time {
	if l.session != nil {
		return l.session.TrustedUntil()
	}
	return l.trustedUntil()
}

// Context is cancelled when the leadership ends; context.Cause tells why.
func (l *Leadership) Context() context.Context { return l.ctx }

// Done is closed when the leadership ends.
func (l *Leadership) Done() <-chan struct{} { return l.ctx.Done() }

// Err is nil while this node leads, and then why it stopped: an error
// matching ErrLost (ErrExpired, ErrDeposed, or one naming a call that
// failed for good), or ErrResigned.
func (l *Leadership) Err() error { return l.cause() }

// keepAlive sends a heartbeat every Trust/2 of the TTL, retrying a failed
// one until the trusted time ends, until the leadership ends.
func (l *Leadership) keepAlive(sent time.Time) {
	defer close(l.loop)
	o := l.e.o
	every := time.Duration(float64(o.TTL) * o.Trust / 2)
	retryWait := min(max(o.TTL/20, 20*time.Millisecond), time.Second)
	req := &pb.HeartbeatRequest{Election: l.e.name, NodeId: o.Node, Term: l.term, Ttl: durationpb.New(o.TTL)}
	t := time.NewTimer(time.Until(sent.Add(every)))
	defer t.Stop()
	for {
		select {
		case <-t.C:
		case <-l.ctx.Done():
			return
		}
		// Bounded by the trusted time: a renewal that answers later could
		// not be trusted anyway. With several servers, an attempt has half
		// the time left, so that a server that hangs leaves time for another.
		trusted := l.TrustedUntil()
		attempt := time.Until(trusted)
		if len(l.e.c.conns) > 1 {
			attempt /= 2
		}
		ctx, cancel := context.WithDeadline(l.ctx, trusted)
		var resp *pb.HeartbeatResponse
		err := l.e.c.call(ctx, "heartbeat", attempt, retryWait, func(ctx context.Context, api pb.LeaderElectionClient) (err error) {
			sent = time.Now()
			resp, err = api.Heartbeat(ctx, req)
			return err
		})
		cancel()
		switch {
		case err == nil:
			ttl := resp.GetTtl().AsDuration()
			l.renewed(sent.Add(time.Duration(float64(ttl)*l.e.o.Trust)), ttl)
		case status.Code(err) == codes.FailedPrecondition:
			l.cancel(fmt.Errorf("%w (%s)", ErrDeposed, status.Convert(errors.Unwrap(err)).Message()))
			return
		case l.ctx.Err() != nil:
			return // resigned, or lost meanwhile
		case errors.Is(err, context.DeadlineExceeded):
			// The trusted time ran out; the timer says so (ErrExpired).
			<-l.ctx.Done()
			return
		default:
			l.cancel(fmt.Errorf("%w: %w", ErrLost, err))
			return
		}
		t.Reset(time.Until(sent.Add(every)))
	}
}

// Resign ends the leadership (its Context is cancelled with ErrResigned
// unless it had ended already), stops the heartbeats, and hands the lease
// back so that another node can be elected at once. The program should have
// stopped acting as leader before it calls Resign. A lease that is no
// longer this node's is not an error.
func (l *Leadership) Resign(ctx context.Context) error {
	l.stop(ErrResigned)
	req := &pb.ReleaseLeadershipRequest{Election: l.e.name, NodeId: l.e.o.Node, Term: l.term}
	if l.session != nil {
		l.unhook()
		req.SessionId = l.session.id
	}
	<-l.loop
	err := l.e.c.call(ctx, "resign", 0, time.Second, func(ctx context.Context, api pb.LeaderElectionClient) error {
		_, err := api.ReleaseLeadership(ctx, req)
		return err
	})
	if status.Code(err) == codes.FailedPrecondition {
		return nil
	}
	return err
}
