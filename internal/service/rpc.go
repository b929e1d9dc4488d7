package service

import (
	"context"
	"errors"
	"time"

	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	pb "go-leader-election/api/leaderelection/v1"
	"go-leader-election/lease"
	"go-leader-election/store"
)

// TryBecomeLeader implements pb.LeaderElectionServer: a read of the record,
// then, unless another node's lease is live by this server's observation, a
// claim (atomic: another server's claim of the same version wins or loses
// as a whole).
func (s *Server) TryBecomeLeader(ctx context.Context, req *pb.TryBecomeLeaderRequest) (*pb.TryBecomeLeaderResponse, error) {
	if err := checkNames(req.GetElection(), req.GetNodeId()); err != nil {
		return nil, err
	}
	ttl, err := checkTTL(req.GetTtl(), true)
	if err != nil {
		return nil, err
	}
	e := s.elections.get(req.GetElection())
	l := s.elections.node(e, req.GetNodeId())
	st, err := l.Read(ctx)
	if err != nil {
		return nil, storeError("read", req.GetElection(), err)
	}
	e.observe(st.Record)
	if st.Kind == lease.Held && !st.Lapsed(s.clk.Now()) {
		return notLeader(st, s.clk.Now()), nil
	}
	before := st.Record
	st, err = l.Claim(ctx, time.Time{}, ttl)
	switch {
	case errors.Is(err, store.ErrHeld):
		e.observe(st.Record)
		return notLeader(st, s.clk.Now()), nil
	case err != nil:
		return nil, storeError("claim", req.GetElection(), err)
	}
	e.observe(st.Record)
	rec := st.Record
	if before.Holder != rec.Holder || before.Term != rec.Term {
		s.opts.Metrics.leaderChanged()
		ev := s.log.Info().Str("election", rec.Job).Str("leader", rec.Node).Int64("term", rec.Term).Str("ttl", rec.TTL.String())
		if before.Holder != "" {
			ev = ev.Str("previous", before.Node).Str("reason", "lapsed")
		}
		ev.Msg("Leader elected")
	}
	now := s.clk.Now()
	return &pb.TryBecomeLeaderResponse{
		Leader: true, Term: rec.Term, Ttl: durationpb.New(rec.TTL),
		Current: leaderOf(rec.Node, rec.Term, st.Until, now),
	}, nil
}

func notLeader(st lease.State, now time.Time) *pb.TryBecomeLeaderResponse {
	v := viewOf(st, now)
	return &pb.TryBecomeLeaderResponse{Term: v.term, Current: v.leader(now)}
}

// Heartbeat implements pb.LeaderElectionServer: one atomic renewal, which
// the store refuses unless the record names the node under the term.
func (s *Server) Heartbeat(ctx context.Context, req *pb.HeartbeatRequest) (*pb.HeartbeatResponse, error) {
	if err := checkNames(req.GetElection(), req.GetNodeId()); err != nil {
		return nil, err
	}
	if err := checkTerm(req.GetTerm()); err != nil {
		return nil, err
	}
	ttl, err := checkTTL(req.GetTtl(), false)
	if err != nil {
		return nil, err
	}
	e := s.elections.get(req.GetElection())
	l := s.elections.node(e, req.GetNodeId())
	if ttl == 0 { // renew with the TTL last granted
		st := l.State()
		if !names(st.Record, req.GetNodeId(), req.GetTerm()) {
			if st, err = l.Read(ctx); err != nil {
				return nil, storeError("read", req.GetElection(), err)
			}
		}
		if !names(st.Record, req.GetNodeId(), req.GetTerm()) {
			return nil, notHolder(req.GetElection(), req.GetNodeId(), req.GetTerm(), st.Record)
		}
		ttl = st.Record.TTL
	}
	st, err := l.RenewTerm(ctx, req.GetTerm(), ttl)
	switch {
	case errors.Is(err, store.ErrNotHolder):
		e.observe(st.Record)
		return nil, notHolder(req.GetElection(), req.GetNodeId(), req.GetTerm(), st.Record)
	case err != nil:
		return nil, storeError("renew", req.GetElection(), err)
	}
	e.observe(st.Record)
	return &pb.HeartbeatResponse{Term: st.Record.Term, Ttl: durationpb.New(st.Record.TTL)}, nil
}

func names(rec store.Lease, node string, term int64) bool {
	return rec.Holder == node && rec.Term == term
}

// ReleaseLeadership implements pb.LeaderElectionServer: one atomic release,
// which the store refuses unless the record names the node under the term.
func (s *Server) ReleaseLeadership(ctx context.Context, req *pb.ReleaseLeadershipRequest) (*pb.ReleaseLeadershipResponse, error) {
	if err := checkNames(req.GetElection(), req.GetNodeId()); err != nil {
		return nil, err
	}
	if err := checkTerm(req.GetTerm()); err != nil {
		return nil, err
	}
	e := s.elections.get(req.GetElection())
	l := s.elections.node(e, req.GetNodeId())
	err := l.ReleaseTerm(ctx, req.GetTerm())
	switch {
	case errors.Is(err, store.ErrNotHolder):
		st, _ := l.Read(ctx) // for the message only
		e.observe(st.Record)
		return nil, notHolder(req.GetElection(), req.GetNodeId(), req.GetTerm(), st.Record)
	case err != nil:
		return nil, storeError("release", req.GetElection(), err)
	}
	e.observe(store.Lease{})
	s.log.Info().Str("election", req.GetElection()).Str("leader", req.GetNodeId()).Int64("term", req.GetTerm()).Msg("Released")
	return &pb.ReleaseLeadershipResponse{Term: req.GetTerm()}, nil
}

// IsLeader implements pb.LeaderElectionServer.
func (s *Server) IsLeader(ctx context.Context, req *pb.IsLeaderRequest) (*pb.IsLeaderResponse, error) {
	if err := checkNames(req.GetElection(), req.GetNodeId()); err != nil {
		return nil, err
	}
	v, err := s.current(ctx, req.GetElection())
	if err != nil {
		return nil, err
	}
	now := s.clk.Now()
	return &pb.IsLeaderResponse{Leader: v.held && v.node == req.GetNodeId(), Term: v.term, Current: v.leader(now)}, nil
}

// GetCurrentLeader implements pb.LeaderElectionServer.
func (s *Server) GetCurrentLeader(ctx context.Context, req *pb.GetCurrentLeaderRequest) (*pb.GetCurrentLeaderResponse, error) {
	if err := checkName("election", req.GetElection()); err != nil {
		return nil, err
	}
	v, err := s.current(ctx, req.GetElection())
	if err != nil {
		return nil, err
	}
	return &pb.GetCurrentLeaderResponse{Leader: v.leader(s.clk.Now()), Term: v.term}, nil
}

// current reads the election's record and judges it by this server's
// observation.
func (s *Server) current(ctx context.Context, election string) (view, error) {
	st, err := s.elections.get(election).observer.Read(ctx)
	if err != nil {
		return view{}, storeError("read", election, err)
	}
	return viewOf(st, s.clk.Now()), nil
}

// leader is the view as the API's Leader, nil when nobody leads.
func (v view) leader(now time.Time) *pb.Leader {
	if !v.held {
		return nil
	}
	return leaderOf(v.node, v.term, v.until, now)
}

func leaderOf(node string, term int64, until, now time.Time) *pb.Leader {
	return &pb.Leader{
		NodeId: node, Term: term,
		ExpireTime: timestamppb.New(until), Remaining: durationpb.New(max(until.Sub(now), 0)),
	}
}
