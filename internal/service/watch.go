package service

import (
	"context"
	"sync"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	pb "go-leader-election/api/leaderelection/v1"
)

// view is what a watcher is told: who leads, under which term.
type view struct {
	held  bool
	node  string
	term  int64
	until time.Time // when the lease lapses by this server's observation
}

// same reports whether v and w tell the same leader: renewals are no change.
func (v view) same(w view) bool { return v.held == w.held && v.node == w.node && v.term == w.term }

// hub polls one election for its watchers while it has any, and tells each
// the latest view whenever it differs from the last one it was told.
type hub struct {
	s    *Server
	name string

	mu      sync.Mutex
	subs    map[*watcher]struct{}
	running bool
	wake    chan struct{} // cap 1: read now
}

// watcher is one Watch stream's mailbox: the latest view not yet sent.
type watcher struct {
	ch   chan view // cap 1, latest wins
	told view
	any  bool // told is set
}

func newHub(s *Server, name string) *hub {
	return &hub{s: s, name: name, subs: map[*watcher]struct{}{}, wake: make(chan struct{}, 1)}
}

func (h *hub) subscribe() *watcher {
	w := &watcher{ch: make(chan view, 1)}
	h.mu.Lock()
	h.subs[w] = struct{}{}
	if !h.running {
		h.running = true
		go h.run()
	}
	h.mu.Unlock()
	h.s.opts.Metrics.watchStarted()
	h.poke()
	return w
}

func (h *hub) unsubscribe(w *watcher) {
	h.mu.Lock()
	delete(h.subs, w)
	h.mu.Unlock()
	h.s.opts.Metrics.watchEnded()
}

func (h *hub) watched() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.subs) > 0
}

// poke makes a running hub read the record now.
func (h *hub) poke() {
	select {
	case h.wake <- struct{}{}:
	default:
	}
}

// run reads the record every period, or when poked, until nobody watches.
func (h *hub) run() {
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-h.s.done:
			h.mu.Lock()
			h.running = false
			h.mu.Unlock()
			return
		case <-t.C:
		case <-h.wake:
		}
		j, err := h.s.judge(context.Background(), h.name)
		h.mu.Lock()
		if len(h.subs) == 0 {
			h.running = false
			h.mu.Unlock()
			return
		}
		if err == nil {
			v := j.view(h.s.clk.Now())
			for w := range h.subs {
				if !w.any || !w.told.same(v) {
					w.told, w.any = v, true
					select { // replace what the stream has not sent yet
					case <-w.ch:
					default:
					}
					w.ch <- v
				}
			}
		}
		h.mu.Unlock()
		t.Reset(h.s.opts.WatchPeriod) // Go 1.23 timers: no stale tick survives Reset
	}
}

// Watch implements pb.LeaderElectionServer.
func (s *Server) Watch(req *pb.WatchRequest, stream pb.LeaderElection_WatchServer) error {
	if err := checkName("election", req.GetElection()); err != nil {
		return err
	}
	h := s.elections.hubOf(req.GetElection())
	w := h.subscribe()
	defer h.unsubscribe(w)
	ctx := stream.Context()
	for {
		select {
		case v := <-w.ch:
			if err := stream.Send(&pb.WatchResponse{Leader: v.leader(s.clk.Now()), Term: v.term}); err != nil {
				return err
			}
		case <-ctx.Done():
			return status.FromContextError(ctx.Err()).Err()
		case <-s.done:
			return status.Error(codes.Unavailable, "the server is shutting down: watch again, here or on another server")
		}
	}
}
