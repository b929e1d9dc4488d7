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
	ctx, cancel := r.s.bound(ctx) // one bound for every store call of the request
	defer cancel()
	out := make([]*pb.KeepAliveResult, len(ids))
	results := make([]pb.KeepAliveResult, len(ids)) // one allocation for all
	for i := range out {
		out[i] = &results[i]
	}
	if len(ids) == 1 || r.fastStore() {
		for i, id := range ids {
			r.keepAlive(ctx, id, received, out[i])
		}
		return out
	}
	var wg sync.WaitGroup
	wg.Add(len(ids))
	for i, id := range ids {
		r.workers.run(func() {
			defer wg.Done()
			r.keepAlive(ctx, id, received, out[i])
		})
	}
	wg.Wait()
	return out
}

// fastWrite is how fast a store's renewals must be, on average, for the
// ids of a keepalive request to be renewed one after the other, not all at
// once: the memory store's take about a microsecond, and handing each to a
// goroutine would cost more; Datastore's take milliseconds, and are batched
// only when made at once.
const fastWrite = 100 * time.Microsecond

// fastStore reports whether the session store's renewals are fast.
func (r *sessions) fastStore() bool { return time.Duration(r.writeTime.Load()) < fastWrite }

// wrote notes how long a renewal took, in an average over the latest few.
func (r *sessions) wrote(d time.Duration) {
	avg := r.writeTime.Load()
	r.writeTime.Store(avg + (int64(d)-avg)/16) // races lose a sample, no more
}

// renewal is one write of a session's record, which every keepalive of the
// session that comes while it is in flight shares.
type renewal struct {
	done sync.WaitGroup // done when the write is
	sent time.Time      // when the write was sent
	ttl  *durationpb.Duration
	term int64
	gone bool
	err  error
}

// writeGap is the least time between the keepalives that make two writes
// of one session's record on this server: Options.SessionWriteGap, and at
// most a sixth of its TTL, so that a client keeping alive every third of the
// TTL is answered by a write of its own.
func (r *sessions) writeGap(ttl time.Duration) time.Duration {
	return min(r.s.opts.SessionWriteGap, ttl/6)
}

// keepAlive renews one session and answers in res. A keepalive that comes
// within the write gap of the one that made this server's latest write of
// the session is answered from that write, with its age; one that comes
// while a write is in flight shares it. Either way the client counts the
// TTL from before the write was sent, so it never relies on the session for
// longer than a keepalive of its own would let it.
func (r *sessions) keepAlive(ctx context.Context, id string, received time.Time, res *pb.KeepAliveResult) {
	res.SessionId = id
	e := r.entryAt(id, received)
	e.mu.Lock()
	switch {
	case e.gone:
		e.mu.Unlock()
		r.s.opts.Metrics.keepAlive(keepAliveGone)
		res.Gone = true
		return
	case e.inflight != nil:
		w := e.inflight
		e.mu.Unlock()
		w.done.Wait()
		w.answer(res, received, r.s.opts.Metrics)
		return
	case e.ttl > 0 && received.Sub(e.asked) < r.writeGap(e.ttl):
		res.Ttl, res.Age = e.ttlpb, durationpb.New(max(received.Sub(e.written), 0))
		e.mu.Unlock()
		r.s.opts.Metrics.keepAlive(keepAliveRecent)
		return
	}
	w := &renewal{ttl: e.ttlpb}
	w.done.Add(1)
	e.inflight = w
	ttl, term := e.ttl, e.term
	e.mu.Unlock()

	r.renew(ctx, e, w, ttl, term)
	e.mu.Lock()
	e.inflight = nil
	if w.err == nil && !w.gone {
		e.ttl, e.ttlpb, e.term, e.written, e.asked = w.ttl.AsDuration(), w.ttl, w.term, w.sent, received
	}
	e.mu.Unlock()
	w.done.Done()
	w.answer(res, received, r.s.opts.Metrics)
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
	r.wrote(r.s.clk.Now().Sub(w.sent))
	switch {
	case errors.Is(err, store.ErrNotHolder):
		e.observe(rec)
		w.gone = true
	case err != nil:
		w.err = err
	default:
		e.observe(rec)
		if w.ttl == nil || w.ttl.AsDuration() != rec.TTL {
			w.ttl = durationpb.New(rec.TTL)
		}
		w.term = rec.Term
	}
}

// answer is w's answer to a keepalive received at received, in res.
func (w *renewal) answer(res *pb.KeepAliveResult, received time.Time, m *Metrics) {
	switch {
	case w.gone:
		m.keepAlive(keepAliveGone)
		res.Gone = true
	case w.err != nil:
		m.keepAlive(keepAliveFailed)
		res.Error = "store: " + w.err.Error()
	default:
		m.keepAlive(keepAliveWritten)
		res.Ttl = w.ttl
		if age := received.Sub(w.sent); age > 0 {
			res.Age = durationpb.New(age)
		}
	}
}
