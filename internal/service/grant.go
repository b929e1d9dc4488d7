package service

import (
	"context"
	"errors"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"

	pb "go-leader-election/api/leaderelection/v1"
	"go-leader-election/store"
)

// TryBecomeLeader implements pb.LeaderElectionServer: a read of the record,
// then, unless its holder still holds it by this server's observation, a
// claim (atomic: it names the version judged lapsed, so another server's
// claim of the same version wins or loses as a whole). An election held
// under a session that lapsed is taken only once the session is ended on
// record (sessions.reap).
func (s *Server) TryBecomeLeader(ctx context.Context, req *pb.TryBecomeLeaderRequest) (*pb.TryBecomeLeaderResponse, error) {
	name, node := req.GetElection(), req.GetNodeId()
	if err := checkNames(name, node); err != nil {
		return nil, err
	}
	c, err := s.candidate(ctx, req)
	if err != nil {
		return nil, err
	}
	j, err := s.judge(ctx, name)
	if err != nil {
		return nil, err
	}
	if j.rec.Holder != c.holder {
		if j.live(s.clk.Now()) {
			return notLeader(j, s.clk.Now()), nil
		}
		if j.rec.Held() && j.session != "" && !j.ended {
			if ended, err := s.sessions.reap(ctx, j.sessionRec); err != nil || !ended {
				return s.refused(ctx, name, err)
			}
		}
	}
	rec, err := s.electionRecs.claim(ctx, store.ClaimRequest{
		Job: name, Holder: c.holder, Node: node, TTL: c.ttl, Now: s.clk.Now(), LapsedVersion: j.rec.Version,
	})
	switch {
	case errors.Is(err, store.ErrHeld):
		return s.refused(ctx, name, nil)
	case err != nil:
		return nil, storeError("claim", name, err)
	}
	until := s.elections.observe(name, rec).Until
	if c.session != nil {
		until = c.session.until
	}
	s.logGrant(j, rec)
	now := s.clk.Now()
	return &pb.TryBecomeLeaderResponse{
		Leader: true, Term: rec.Term, Ttl: durationpb.New(rec.TTL),
		Current: leaderOf(rec.Node, rec.Term, until, now),
	}, nil
}

// candidate is who asks for an election: a node by a lease of its own, or
// under a session.
type candidate struct {
	holder  string
	ttl     time.Duration
	session *sessionState // the session asked under, as judged; nil for none
}

// candidate checks the request's TTL, or its session: alive by this
// server's observation, and the node's.
func (s *Server) candidate(ctx context.Context, req *pb.TryBecomeLeaderRequest) (candidate, error) {
	id := req.GetSessionId()
	if id == "" {
		ttl, err := checkTTL(req.GetTtl(), true)
		return candidate{holder: req.GetNodeId(), ttl: ttl}, err
	}
	if s.opts.Sessions == nil {
		return candidate{}, errNoSessions
	}
	if err := checkName("session_id", id); err != nil {
		return candidate{}, err
	}
	if req.GetTtl() != nil {
		return candidate{}, status.Error(codes.InvalidArgument, "ttl must be unset with session_id: the session's TTL applies")
	}
	ss, err := s.sessions.judge(ctx, id)
	switch {
	case err != nil:
		return candidate{}, storeError("read session", id, err)
	case !ss.live(s.clk.Now()):
		return candidate{}, sessionGone(id)
	case ss.rec.Node != req.GetNodeId():
		return candidate{}, status.Errorf(codes.InvalidArgument, "session %q is node %q's, not %q's", id, ss.rec.Node, req.GetNodeId())
	}
	return candidate{holder: holderOf(id), ttl: ss.rec.TTL, session: &ss}, nil
}

// refused answers a candidate whose claim lost to a write made meanwhile
// (err nil), from a fresh judgement; or the store's failure.
func (s *Server) refused(ctx context.Context, name string, err error) (*pb.TryBecomeLeaderResponse, error) {
	if err != nil {
		return nil, storeError("end the lapsed session of", name, err)
	}
	j, err := s.judge(ctx, name)
	if err != nil {
		return nil, err
	}
	return notLeader(j, s.clk.Now()), nil
}

func notLeader(j judgement, now time.Time) *pb.TryBecomeLeaderResponse {
	v := j.view(now)
	return &pb.TryBecomeLeaderResponse{Term: v.term, Current: v.leader(now)}
}

// logGrant logs "Leader elected" when the grant rec, made on the record
// judged in j, changed the leader. The grant replaced j's record exactly
// when it is the next version; otherwise a write came in between, which
// left the record free or the candidate's (a claim naming j's version takes
// no other holder's): the holder it replaced, if any, is then unknown and
// not named.
func (s *Server) logGrant(j judgement, rec store.Lease) {
	replaced := j.rec
	exact := rec.Version == replaced.Version+1
	if exact && replaced.Holder == rec.Holder || !exact && rec.Term == replaced.Term {
		return // the holder asking again: no change
	}
	s.opts.Metrics.leaderChanged()
	ev := s.log.Info().Str("election", rec.Job).Str("leader", rec.Node).Int64("term", rec.Term).Str("ttl", rec.TTL.String())
	if exact && replaced.Held() {
		ev = ev.Str("previous", replaced.Node).Str("reason", j.takeover())
	}
	ev.Msg("Leader elected")
}
