package service

import (
	"context"
	"time"

	"go-leader-election/store"
)

// judgement is one election as this server judges it: its record, and
// whether its holder still holds it, by this server's observation of the
// record (a node's own lease) or of the session it is held under.
type judgement struct {
	// rec is the newest record of the election this server knows (Version
	// 0: never written).
	rec store.Lease
	// until is, when rec names a holder, when its hold lapses by this
	// server's observation.
	until time.Time
	// session is the session rec is held under, if any, and sessionRec its
	// record as judged.
	session    string
	sessionRec store.Lease
	// ended: the session rec is held under has ended (closed or lapsed on
	// record): the election is free to take.
	ended bool
}

// live reports whether rec's holder holds the election at now.
func (j judgement) live(now time.Time) bool {
	return j.rec.Held() && !j.ended && now.Before(j.until)
}

// takeover is why another node may be granted the election from the
// holder that rec names, for the log: "lapsed" (its own lease, by this
// server's observation), "session closed" or "session lapsed".
func (j judgement) takeover() string {
	switch {
	case j.session == "":
		return "lapsed"
	case j.ended && j.sessionRec.Holder == "":
		return "session closed"
	}
	return "session lapsed"
}

// view is the judgement as told to a caller at now.
func (j judgement) view(now time.Time) view {
	v := view{term: j.rec.Term}
	if j.live(now) {
		v.held, v.node, v.until = true, j.rec.Node, j.until
	}
	return v
}

// judge reads the election's record (and that of the session it is held
// under, if any) and judges it by this server's observation, which the read
// feeds.
func (s *Server) judge(ctx context.Context, name string) (judgement, error) {
	rec, err := s.electionRecs.get(ctx, name)
	if err != nil {
		return judgement{}, storeError("read", name, err)
	}
	return s.judgeRecord(ctx, name, rec)
}

// judgeRecord judges the election's record rec, just read or written.
func (s *Server) judgeRecord(ctx context.Context, name string, rec store.Lease) (judgement, error) {
	st := s.elections.observe(name, rec)
	j := judgement{rec: st.Record, until: st.Until}
	id, underSession := sessionOf(j.rec.Holder)
	if !underSession {
		return j, nil
	}
	if s.opts.Sessions == nil {
		return judgement{}, errNoSessions
	}
	ss, err := s.sessions.judge(ctx, id)
	if err != nil {
		return judgement{}, storeError("read the session of", name, err)
	}
	j.session, j.sessionRec, j.until, j.ended = id, ss.rec, ss.until, !ss.alive
	return j, nil
}
