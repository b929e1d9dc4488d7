package electionclient

import (
	"container/heap"
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	pb "go-leader-election/api/leaderelection/v1"
)

// maxKeepAliveBatch bounds the session ids of one keepalive request.
const maxKeepAliveBatch = 1000

// keeper keeps a Client's sessions alive over one KeepAlive stream, on one
// server at a time: the keepalives due together go in one request, and the
// stream moves to the next server when it fails, or when an answer is late
// by half the trusted time its session has left (with several servers), so
// that a hung server leaves time for another.
type keeper struct {
	c    *Client
	wake chan struct{} // cap 1: the queue changed
	stop chan struct{} // closed by Client.Close
	once sync.Once

	mu      sync.Mutex
	queue   sessionQueue // by when each is next due, those in flight included
	byID    map[string]*Session
	running bool
}

func newKeeper(c *Client) *keeper {
	return &keeper{c: c, wake: make(chan struct{}, 1), stop: make(chan struct{}), byID: map[string]*Session{}}
}

func (k *keeper) poke() {
	select {
	case k.wake <- struct{}{}:
	default:
	}
}

// add starts keeping s alive, its first keepalive due at next.
func (k *keeper) add(s *Session, next time.Time) {
	k.mu.Lock()
	s.next = next
	heap.Push(&k.queue, s)
	k.byID[s.id] = s
	if !k.running {
		k.running = true
		go k.run()
	}
	k.mu.Unlock()
	k.poke()
}

// remove stops keeping s alive.
func (k *keeper) remove(s *Session) {
	k.mu.Lock()
	if s.index >= 0 {
		heap.Remove(&k.queue, s.index)
		delete(k.byID, s.id)
	}
	k.mu.Unlock()
	k.poke()
}

// close stops the stream for good (Client.Close): the sessions then end by
// their trusted time.
func (k *keeper) close() { k.once.Do(func() { close(k.stop) }) }

// run serves streams, one server after another, until no session is left
// or the client closes.
func (k *keeper) run() {
	first := int(k.c.prefs.Load())
	for n := 1; ; n++ {
		i := (first + n - 1) % len(k.c.conns)
		srv := k.c.conns[i]
		answered, err := k.serve(srv)
		if err == nil && k.idle() {
			return
		}
		if err == nil {
			continue // a session came as the stream ended
		}
		if !retryable(err) {
			k.failAll(&CallError{Op: "keepalive", Server: srv.addr, Err: err})
			return
		}
		if answered { // it worked for a while: the next server, at once
			first, n = i+1, 0
		}
		var wait time.Duration
		if n > 0 && n%len(k.c.conns) == 0 {
			wait = backoff(n/len(k.c.conns), time.Second)
		}
		if k.c.cfg.OnRetry != nil {
			k.c.cfg.OnRetry(Retry{Op: "keepalive", Server: srv.addr, Attempt: max(n, 1), Err: err, Wait: wait})
		}
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-k.stop:
			t.Stop()
			k.idle()
			return
		}
	}
}

// idle reports, and records, that the keeper has nothing left to do.
func (k *keeper) idle() bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	select {
	case <-k.stop:
		k.running = false
		return true
	default:
	}
	if len(k.queue) == 0 {
		k.running = false
	}
	return !k.running
}

// serve keeps the sessions alive over one stream to srv until it fails (its
// error), or until no session is left or the client closes (nil). answered
// tells whether the stream answered anything.
func (k *keeper) serve(srv server) (answered bool, err error) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stream, err := srv.api.KeepAlive(ctx)
	if err != nil {
		return false, err
	}
	failed := make(chan error, 1)
	var got atomic.Bool
	go func() {
		for {
			resp, err := stream.Recv()
			if err != nil {
				failed <- err
				return
			}
			got.Store(true)
			k.answered(resp.GetResults())
		}
	}()
	defer k.unsent()
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		ids, wait, late, empty := k.due(time.Now())
		switch {
		case empty:
			_ = stream.CloseSend()
			return got.Load(), nil
		case late:
			return got.Load(), status.Error(codes.DeadlineExceeded, "a keepalive was not answered within half the trusted time its session had left")
		case len(ids) > 0:
			if err := stream.Send(&pb.KeepAliveRequest{SessionIds: ids}); err != nil {
				return got.Load(), <-failed // Send says only io.EOF: the cause comes from Recv
			}
		}
		t.Reset(wait)
		select {
		case <-t.C:
		case <-k.wake:
		case err := <-failed:
			return got.Load(), err
		case <-k.stop:
			return got.Load(), nil
		}
	}
}

// due marks as sent, at now, the sessions whose keepalive is due and
// returns their ids, and how long until the next is due; late, if a
// keepalive in flight is past its deadline; empty, if there is no session.
func (k *keeper) due(now time.Time) (ids []string, wait time.Duration, late, empty bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	for len(k.queue) > 0 && len(ids) < maxKeepAliveBatch {
		s := k.queue[0]
		if s.next.After(now) {
			break
		}
		if !s.sent.IsZero() {
			return nil, 0, true, false
		}
		s.sent, s.next = now, now.Add(k.answerWithin(s, now))
		heap.Fix(&k.queue, 0)
		ids = append(ids, s.id)
	}
	if len(k.queue) == 0 {
		return ids, 0, false, true
	}
	return ids, k.queue[0].next.Sub(now), false, false
}

// answerWithin is how long a keepalive of s sent at now may go unanswered
// before the stream is given up: half the trusted time left with several
// servers, all of it with one (after which the session ends anyway).
func (k *keeper) answerWithin(s *Session, now time.Time) time.Duration {
	left := s.TrustedUntil().Sub(now)
	if len(k.c.conns) > 1 {
		left /= 2
	}
	return max(left, s.every())
}

// answered applies a stream's answers to their sessions.
func (k *keeper) answered(results []*pb.KeepAliveResult) {
	now := time.Now()
	for _, r := range results {
		k.mu.Lock()
		s := k.byID[r.GetSessionId()]
		if s == nil || s.sent.IsZero() {
			k.mu.Unlock()
			continue
		}
		sent := s.sent
		s.sent = time.Time{}
		if r.GetGone() {
			k.mu.Unlock()
			s.end(ErrSessionGone)
			continue
		}
		if r.GetTtl() == nil { // the store failed: again soon
			s.next = now.Add(min(max(s.o.TTL/20, 20*time.Millisecond), time.Second))
		} else {
			s.next = sent.Add(s.every())
		}
		heap.Fix(&k.queue, s.index)
		k.mu.Unlock()
		if r.GetTtl() != nil {
			s.kept(sent, r.GetTtl().AsDuration(), r.GetAge().AsDuration())
		}
	}
	k.poke()
}

// unsent makes every keepalive in flight due again at once: its stream has
// ended.
func (k *keeper) unsent() {
	now := time.Now()
	k.mu.Lock()
	defer k.mu.Unlock()
	for _, s := range k.queue {
		if !s.sent.IsZero() {
			s.sent, s.next = time.Time{}, now
		}
	}
	heap.Init(&k.queue)
}

// failAll ends every session with a failure retrying cannot mend.
func (k *keeper) failAll(err error) {
	k.mu.Lock()
	all := append([]*Session(nil), k.queue...)
	k.running = false
	k.mu.Unlock()
	for _, s := range all {
		s.end(fmt.Errorf("%w: %w", ErrLost, err))
	}
}

// sessionQueue is a heap of sessions by when each is next due.
type sessionQueue []*Session

func (q sessionQueue) Len() int           { return len(q) }
func (q sessionQueue) Less(i, j int) bool { return q[i].next.Before(q[j].next) }
func (q sessionQueue) Swap(i, j int) {
	q[i], q[j] = q[j], q[i]
	q[i].index, q[j].index = i, j
}
func (q *sessionQueue) Push(x any) {
	s := x.(*Session)
	s.index = len(*q)
	*q = append(*q, s)
}
func (q *sessionQueue) Pop() any {
	old := *q
	s := old[len(old)-1]
	old[len(old)-1] = nil
	s.index = -1
	*q = old[:len(old)-1]
	return s
}
