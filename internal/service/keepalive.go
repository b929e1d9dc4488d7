package service

import (
	"context"
	"errors"
	"io"
	"sync"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"

	pb "go-leader-election/api/leaderelection/v1"
	"go-leader-election/store"
)

// Defaults and bounds of the keepalive stream.
const (
	// DefaultSessionWriteGap is Options.SessionWriteGap's default: about
	// Datastore's sustained write rate per entity.
	DefaultSessionWriteGap = time.Second
	// streamWindow bounds the requests of one stream being answered at once;
	// a client that sends more waits (HTTP/2 flow control).
	streamWindow = 256
)

// KeepAlive implements pb.LeaderElectionServer: every id of every request
// is renewed (or answered from this server's latest renewal of it, when that
// is recent: writeGap), and answered in a message of its own, without
// waiting for the requests before it.
func (s *Server) KeepAlive(stream pb.LeaderElection_KeepAliveServer) error {
	if s.opts.Sessions == nil {
		return errNoSessions
	}
	ctx := stream.Context()
	reqs := make(chan *pb.KeepAliveRequest)
	failed := make(chan error, 1)
	go func() { // Recv blocks: it must not keep the handler from seeing the server close
		for {
			req, err := stream.Recv()
			if err != nil {
				failed <- err
				return
			}
			select {
			case reqs <- req:
			case <-ctx.Done():
				return
			}
		}
	}()
	var sendMu sync.Mutex
	window := make(chan struct{}, streamWindow)
	var wg sync.WaitGroup
	defer wg.Wait() // no Send after the handler returns
	for {
		var req *pb.KeepAliveRequest
		select {
		case req = <-reqs:
		case err := <-failed:
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		case <-ctx.Done():
			return status.FromContextError(ctx.Err()).Err()
		case <-s.done:
			return status.Error(codes.Unavailable, "the server is shutting down: keep alive again, here or on another server")
		}
		received := s.clk.Now()
		for _, id := range req.GetSessionIds() {
			if err := checkName("session_id", id); err != nil {
				return err
			}
		}
		window <- struct{}{}
		wg.Go(func() {
			defer func() { <-window }()
			resp := &pb.KeepAliveResponse{Results: s.sessions.keepAliveAll(ctx, req.GetSessionIds(), received)}
			sendMu.Lock()
			defer sendMu.Unlock()
			_ = stream.Send(resp) // a broken stream fails Recv too
		})
	}
}

// keepAliveAll renews ids at once (so that a store that batches concurrent
// writes, as Datastore's does, writes them together), and answers each.
func (r *sessions) keepAliveAll(ctx context.Context, ids []string, received time.Time) []*pb.KeepAliveResult {
	out := make([]*pb.KeepAliveResult, len(ids))
	if len(ids) == 1 {
		out[0] = r.keepAlive(ctx, ids[0], received)
		return out
	}
	var wg sync.WaitGroup
	for i, id := range ids {
		wg.Go(func() { out[i] = r.keepAlive(ctx, id, received) })
	}
	wg.Wait()
	return out
}

// renewal is one write of a session's record, which every keepalive of the
// session that comes while it is in flight shares.
type renewal struct {
	done chan struct{}
	sent time.Time // when the write was sent
	ttl  *durationpb.Duration
	term int64
	gone bool
	err  error
}

// writeGap is the least time between two writes of one session's record by
// this server: Options.SessionWriteGap, and at most a sixth of its TTL, so
// that a client keeping alive every third of the TTL is answered by a write
// of its own.
func (r *sessions) writeGap(ttl time.Duration) time.Duration {
	return min(r.s.opts.SessionWriteGap, ttl/6)
}

// keepAlive renews one session and answers. A keepalive that comes within
// the write gap of this server's latest write of the session is answered
// from that write, with its age; one that comes while a write is in flight
// shares it. Either way the client counts the TTL from before the write was
// sent, so it never relies on the session for longer than a keepalive of
// its own would let it.
func (r *sessions) keepAlive(ctx context.Context, id string, received time.Time) *pb.KeepAliveResult {
	e := r.entry(id)
	e.mu.Lock()
	switch {
	case e.gone:
		e.mu.Unlock()
		r.s.opts.Metrics.keepAlive(keepAliveGone)
		return &pb.KeepAliveResult{SessionId: id, Gone: true}
	case e.inflight != nil:
		w := e.inflight
		e.mu.Unlock()
		<-w.done
		return w.answer(id, received, r.s.opts.Metrics)
	case e.ttl > 0 && received.Sub(e.written) < r.writeGap(e.ttl):
		ttl, age := e.ttlpb, received.Sub(e.written)
		e.mu.Unlock()
		r.s.opts.Metrics.keepAlive(keepAliveRecent)
		return &pb.KeepAliveResult{SessionId: id, Ttl: ttl, Age: durationpb.New(age)}
	}
	w := &renewal{done: make(chan struct{})}
	e.inflight = w
	ttl, term := e.ttl, e.term
	e.mu.Unlock()

	r.renew(ctx, e, w, ttl, term)
	e.mu.Lock()
	e.inflight = nil
	if w.err == nil && !w.gone {
		e.ttl, e.ttlpb, e.term, e.written = w.ttl.AsDuration(), w.ttl, w.term, w.sent
	}
	e.mu.Unlock()
	close(w.done)
	return w.answer(id, received, r.s.opts.Metrics)
}

// renew writes the session's renewal (reading its record first when this
// server does not know its TTL yet, or judges it lapsed) into w.
func (r *sessions) renew(ctx context.Context, e *session, w *renewal, ttl time.Duration, term int64) {
	if ttl == 0 || e.judged(e.obs.State()).lapsed(r.s.clk.Now()) {
		st, err := r.judge(ctx, e.id)
		if err == nil && st.lapsed(r.s.clk.Now()) {
			var ended bool
			switch ended, err = r.reap(ctx, st.rec); {
			case ended:
				st.alive = false
			case err == nil:
				st, err = r.judge(ctx, e.id) // renewed meanwhile, through another server
			}
		}
		switch {
		case err != nil:
			w.err = err
			return
		case !st.alive:
			w.gone = true
			return
		}
		ttl, term = st.rec.TTL, st.rec.Term
	}
	w.sent = r.s.clk.Now()
	rec, err := r.recs.renew(ctx, store.RenewRequest{Job: e.id, Holder: e.holder, Term: term, TTL: ttl, Now: w.sent})
	switch {
	case errors.Is(err, store.ErrNotHolder):
		e.observe(rec)
		w.gone = true
	case err != nil:
		w.err = err
	default:
		e.observe(rec)
		w.ttl, w.term = durationpb.New(rec.TTL), rec.Term
	}
}

// answer is w's answer to a keepalive received at received.
func (w *renewal) answer(id string, received time.Time, m *Metrics) *pb.KeepAliveResult {
	switch {
	case w.gone:
		m.keepAlive(keepAliveGone)
		return &pb.KeepAliveResult{SessionId: id, Gone: true}
	case w.err != nil:
		m.keepAlive(keepAliveFailed)
		return &pb.KeepAliveResult{SessionId: id, Error: "store: " + w.err.Error()}
	}
	m.keepAlive(keepAliveWritten)
	res := &pb.KeepAliveResult{SessionId: id, Ttl: w.ttl}
	if age := received.Sub(w.sent); age > 0 {
		res.Age = durationpb.New(age)
	}
	return res
}
