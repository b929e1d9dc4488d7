package service

import (
	"context"
	"errors"
	"time"

	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	pb "go-leader-election/api/leaderelection/v1"
	"go-leader-election/store"
)

// Heartbeat implements pb.LeaderElectionServer: one atomic renewal, which
// the store refuses unless the record names the node under the term.
func (s *Server) Heartbeat(ctx context.Context, req *pb.HeartbeatRequest) (*pb.HeartbeatResponse, error) {
	name, node, term := req.GetElection(), req.GetNodeId(), req.GetTerm()
	if err := checkNames(name, node); err != nil {
		return nil, err
	}
	if err := checkTerm(term); err != nil {
		return nil, err
	}
	ttl, err := checkTTL(req.GetTtl(), false)
	if err != nil {
		return nil, err
	}
	if ttl == 0 { // renew with the TTL last granted
		rec, ok := s.elections.known(name)
		if !ok || !names(rec, node, term) {
			if rec, err = s.electionRecs.get(ctx, name); err != nil {
				return nil, storeError("read", name, err)
			}
			s.elections.observe(name, rec)
		}
		if !names(rec, node, term) {
			return nil, notHolder(name, node, term, rec)
		}
		ttl = rec.TTL
	}
	rec, err := s.electionRecs.renew(ctx, store.RenewRequest{Job: name, Holder: node, Term: term, TTL: ttl, Now: s.clk.Now()})
	switch {
	case errors.Is(err, store.ErrNotHolder):
		s.elections.observe(name, rec)
		return nil, notHolder(name, node, term, rec)
	case err != nil:
		return nil, storeError("renew", name, err)
	}
	s.elections.observe(name, rec)
	return &pb.HeartbeatResponse{Term: rec.Term, Ttl: durationpb.New(rec.TTL)}, nil
}

func names(rec store.Lease, holder string, term int64) bool {
	return rec.Holder == holder && rec.Term == term
}

// ReleaseLeadership implements pb.LeaderElectionServer: one atomic release,
// which the store refuses unless the record names the node (or its
// session) under the term.
func (s *Server) ReleaseLeadership(ctx context.Context, req *pb.ReleaseLeadershipRequest) (*pb.ReleaseLeadershipResponse, error) {
	name, node, term := req.GetElection(), req.GetNodeId(), req.GetTerm()
	if err := checkNames(name, node); err != nil {
		return nil, err
	}
	if err := checkTerm(term); err != nil {
		return nil, err
	}
	holder := node
	if id := req.GetSessionId(); id != "" {
		if err := checkName("session_id", id); err != nil {
			return nil, err
		}
		holder = holderOf(id)
	}
	err := s.electionRecs.release(ctx, store.ReleaseRequest{Job: name, Holder: holder, Term: term})
	switch {
	case errors.Is(err, store.ErrNotHolder):
		rec, _ := s.electionRecs.get(ctx, name) // for the message only
		s.elections.observe(name, rec)
		return nil, notHolder(name, node, term, rec)
	case err != nil:
		return nil, storeError("release", name, err)
	}
	s.elections.released(name)
	s.log.Info().Str("election", name).Str("leader", node).Int64("term", term).Msg("Released")
	return &pb.ReleaseLeadershipResponse{Term: term}, nil
}

// IsLeader implements pb.LeaderElectionServer.
func (s *Server) IsLeader(ctx context.Context, req *pb.IsLeaderRequest) (*pb.IsLeaderResponse, error) {
	if err := checkNames(req.GetElection(), req.GetNodeId()); err != nil {
		return nil, err
	}
	j, err := s.judge(ctx, req.GetElection())
	if err != nil {
		return nil, err
	}
	now := s.clk.Now()
	v := j.view(now)
	return &pb.IsLeaderResponse{Leader: v.held && v.node == req.GetNodeId(), Term: v.term, Current: v.leader(now)}, nil
}

// GetCurrentLeader implements pb.LeaderElectionServer.
func (s *Server) GetCurrentLeader(ctx context.Context, req *pb.GetCurrentLeaderRequest) (*pb.GetCurrentLeaderResponse, error) {
	if err := checkName("election", req.GetElection()); err != nil {
		return nil, err
	}
	j, err := s.judge(ctx, req.GetElection())
	if err != nil {
		return nil, err
	}
	now := s.clk.Now()
	return &pb.GetCurrentLeaderResponse{Leader: j.view(now).leader(now), Term: j.rec.Term}, nil
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
