package service

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"

	pb "go-leader-election/api/leaderelection/v1"
	"go-leader-election/lease"
	"go-leader-election/store"
)

// A session is one record in the session store (Options.Sessions), keyed
// by its id and held, as a lease without ticks, by the holder sessionMark +
// id, which no node id can be (node ids are printable). Every election held
// under the session is held, in the election store, by that same holder:
// an election's record names its session, so any server of the same stores
// can judge it.
//
// A session is alive while its record names its holder. It ends when it is
// closed (released: no holder) or when a server has seen its record's same
// version for longer than its TTL and takes the record over as the reaper,
// naming that version (store.ClaimRequest.LapsedVersion): a renewal that
// came meanwhile makes the takeover fail, and once it succeeds no renewal can
// (the holder and term have changed). Only then may a server grant an
// election held under the session to another node.
const sessionMark = "\x1f"

// reaper holds the record of a session that lapsed. It is not of the form
// sessionMark + id, so it names no session, nor a node (node ids are
// printable); and it holds no NUL, which PostgreSQL's text refuses.
const reaper = "\x1elapsed"

func holderOf(id string) string { return sessionMark + id }

// sessionOf returns the session a holder names, if it names one.
func sessionOf(holder string) (string, bool) { return strings.CutPrefix(holder, sessionMark) }

// newSessionID returns 128 random bits, in lowercase base32: unguessable, so
// that a session id is a secret of its holder.
func newSessionID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand)
	return strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b[:]))
}

// sessions keeps this server's observation of the sessions it has been
// asked about, and its latest renewal of each (keepalive.go).
type sessions struct {
	s       *Server
	recs    records
	workers *pool // runs the keepalives of requests of several ids
	// writeTime is the average time a renewal takes, in nanoseconds
	// (fastStore).
	writeTime atomic.Int64
	mu        sync.Mutex
	m         map[string]*session
}

// session is what this server keeps of one session.
type session struct {
	id, holder string
	obs        *lease.Observer
	used       time.Time // under sessions.mu

	mu       sync.Mutex
	gone     bool          // it has ended: it never comes back
	ttl      time.Duration // its TTL, 0 until known
	ttlpb    *durationpb.Duration
	term     int64
	written  time.Time // when this server sent its latest successful write
	asked    time.Time // when the keepalive that made that write was received
	inflight *renewal  // a renewal being written, which keepalives join
}

func newSessions(s *Server) *sessions {
	return &sessions{s: s, recs: records{s: s, st: s.opts.Sessions, prefix: "session_"}, workers: newPool(s.done), m: map[string]*session{}}
}

// entry returns id's session, creating it.
func (r *sessions) entry(id string) *session { return r.entryAt(id, r.s.clk.Now()) }

// entryAt is entry for a caller that knows the time (used at now).
func (r *sessions) entryAt(id string, now time.Time) *session {
	r.mu.Lock()
	defer r.mu.Unlock()
	e := r.m[id]
	if e == nil {
		e = &session{id: id, holder: holderOf(id), obs: lease.NewObserver(r.s.clk)}
		r.m[id] = e
	}
	e.used = now
	return e
}

// sessionState is a session as this server judges it.
type sessionState struct {
	rec   store.Lease // its record, the newest this server knows
	alive bool        // the record names the session's holder
	until time.Time   // alive: when it lapses by this server's observation
}

// lapsed reports whether the session is alive on record but lapsed by this
// server's observation at now: it may be ended (reap).
func (st sessionState) lapsed(now time.Time) bool { return st.alive && !now.Before(st.until) }

// live reports whether the session holds at now.
func (st sessionState) live(now time.Time) bool { return st.alive && now.Before(st.until) }

// observe records the session's record, read or written, and judges it.
func (e *session) observe(rec store.Lease) sessionState {
	ss := e.judged(e.obs.Observe(rec))
	if !ss.alive { // closed, lapsed, or never created (Version 0)
		e.mu.Lock()
		e.gone = true
		e.mu.Unlock()
	}
	return ss
}

// judged is the session's state from its observer's.
func (e *session) judged(st lease.State) sessionState {
	return sessionState{rec: st.Record, alive: st.Record.Holder == e.holder, until: st.Until}
}

// judge reads the session's record and judges it.
func (r *sessions) judge(ctx context.Context, id string) (sessionState, error) {
	e := r.entry(id)
	rec, err := r.recs.get(ctx, id)
	if err != nil {
		return sessionState{}, err
	}
	return e.observe(rec), nil
}

// reap ends a session this server has judged lapsed at version seen.Version,
// and reports whether the session has ended (by this call or another's); a
// session renewed meanwhile has not.
func (r *sessions) reap(ctx context.Context, seen store.Lease) (bool, error) {
	e := r.entry(seen.Job)
	rec, err := r.recs.claim(ctx, store.ClaimRequest{
		Job: seen.Job, Holder: reaper, TTL: seen.TTL, Now: r.s.clk.Now(), LapsedVersion: seen.Version,
	})
	switch {
	case err == nil:
		e.observe(rec)
		r.s.log.Info().Str("node", seen.Node).Str("ttl", seen.TTL.String()).Msg("Session lapsed")
		r.s.opts.Metrics.sessionEnded("lapsed")
		return true, nil
	case errors.Is(err, store.ErrHeld):
		return !e.observe(rec).alive, nil
	}
	return false, err
}

// forget drops the sessions idle at now (for the idle limit, or twice their
// TTL if longer) and reports how many are left.
func (r *sessions) forget(now time.Time) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	for id, e := range r.m {
		e.mu.Lock()
		busy := e.inflight != nil
		e.mu.Unlock()
		if !busy && now.Sub(e.used) > max(r.s.opts.IdleLimit, 2*e.obs.State().Record.TTL) {
			delete(r.m, id)
		}
	}
	return len(r.m)
}

// errNoSessions answers the session calls of a server without a session
// store.
var errNoSessions = status.Error(codes.FailedPrecondition, "this server keeps no sessions: it has no session store")

func sessionGone(id string) error {
	return status.Errorf(codes.FailedPrecondition, "session %q is gone (closed, lapsed, or never created): create another", id)
}

// CreateSession implements pb.LeaderElectionServer: one claim of a new
// record.
func (s *Server) CreateSession(ctx context.Context, req *pb.CreateSessionRequest) (*pb.CreateSessionResponse, error) {
	if s.opts.Sessions == nil {
		return nil, errNoSessions
	}
	if err := checkName("node_id", req.GetNodeId()); err != nil {
		return nil, err
	}
	ttl, err := checkTTL(req.GetTtl(), true)
	if err != nil {
		return nil, err
	}
	for {
		id := newSessionID()
		sent := s.clk.Now()
		rec, err := s.sessions.recs.claim(ctx, store.ClaimRequest{Job: id, Holder: holderOf(id), Node: req.GetNodeId(), TTL: ttl, Now: sent})
		if errors.Is(err, store.ErrHeld) {
			continue // 128 random bits met an id in use: never, in practice
		}
		if err != nil {
			return nil, storeError("create session of", req.GetNodeId(), err)
		}
		e := s.sessions.entry(id)
		e.observe(rec)
		e.mu.Lock()
		e.ttl, e.ttlpb, e.term, e.written, e.asked = rec.TTL, durationpb.New(rec.TTL), rec.Term, sent, sent
		e.mu.Unlock()
		s.log.Info().Str("node", rec.Node).Str("ttl", ttl.String()).Msg("Session created")
		return &pb.CreateSessionResponse{SessionId: id, Ttl: durationpb.New(rec.TTL)}, nil
	}
}

// CloseSession implements pb.LeaderElectionServer: one release of the
// session's record, which frees every election held under it.
func (s *Server) CloseSession(ctx context.Context, req *pb.CloseSessionRequest) (*pb.CloseSessionResponse, error) {
	if s.opts.Sessions == nil {
		return nil, errNoSessions
	}
	id := req.GetSessionId()
	if err := checkName("session_id", id); err != nil {
		return nil, err
	}
	st, err := s.sessions.judge(ctx, id)
	if err != nil {
		return nil, storeError("read session", id, err)
	}
	if !st.alive {
		return &pb.CloseSessionResponse{}, nil
	}
	err = s.sessions.recs.release(ctx, store.ReleaseRequest{Job: id, Holder: holderOf(id), Term: st.rec.Term})
	switch {
	case errors.Is(err, store.ErrNotHolder):
		return &pb.CloseSessionResponse{}, nil
	case err != nil:
		return nil, storeError("close session", id, err)
	}
	e := s.sessions.entry(id)
	e.mu.Lock()
	e.gone = true
	e.mu.Unlock()
	s.log.Info().Str("node", st.rec.Node).Msg("Session closed")
	s.opts.Metrics.sessionEnded("closed")
	return &pb.CloseSessionResponse{Closed: true}, nil
}
