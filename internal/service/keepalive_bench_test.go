package service_test

import (
	"context"
	"flag"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	pb "go-leader-election/api/leaderelection/v1"
	"go-leader-election/internal/service"
	"go-leader-election/store"
	"go-leader-election/store/datastore"
	"go-leader-election/store/memory"
)

// Session keepalives per second over KeepAlive streams on loopback, client
// and server in this process, with the server's default options:
//
//	go test -run '^$' -bench SessionKeepAlive/memory -benchtime 1000000x ./internal/service/
//	go test -run '^$' -bench SessionKeepAlive/emulator -benchtime 400000x ./internal/service/
//
// Each session holds an election. A keepalive load runs from the first
// session's creation to the end of the check that every election is still
// held: the sessions are kept alive round after round, in requests of 100
// ids, 4 streams with 4 requests in flight each; a round takes at least a
// quarter more than the server's write gap, so that (almost) every keepalive
// is a store write of its own. Timed: b.N keepalives once every session
// exists. keepalives/s counts them, written/s those answered by a write of
// their own (not from a recent one), errors those the store failed (the
// client sends them again); p50-ms and p99-ms are the round trip of one
// request of 100 ids under that load.
//
// "memory" is single-server mode: TTL 2s (write gap 1/3 s), up to 60,000
// sessions (-keepalive-sessions): the rate is at most 144,000/s, the pace
// of the rounds, and the server must sustain 30,000/s for the sessions to
// last. "emulator" is distributed mode on the project's in-process Datastore
// emulator, whose renewals share commits of up to 500: TTL 30s (write gap
// 1s: no record is written more than once a second), up to 36,000 sessions.
// There are b.N/10 sessions, at least 1,000: a run of -benchtime 1x only
// checks that the benchmark works.
var memorySessions = flag.Int("keepalive-sessions", 60_000, "the most sessions of BenchmarkSessionKeepAlive/memory")

func BenchmarkSessionKeepAlive(b *testing.B) {
	b.Run("memory", func(b *testing.B) {
		benchKeepAlive(b, memory.New(), memory.New(), min(*memorySessions, max(1000, b.N/10)), 2*time.Second)
	})
	b.Run("emulator", func(b *testing.B) {
		ns := fmt.Sprintf("keepalive-%d", nsSeq.Add(1))
		elections := datastoreOnEmulator(b, ns)
		benchKeepAlive(b, elections, sessionsOnEmulator(b, ns), min(36_000, max(1000, b.N/10)), 30*time.Second)
	})
}

// sessionsOnEmulator is the store of sessions next to datastoreOnEmulator's
// elections (same namespace, serve's kind of sessions).
func sessionsOnEmulator(b *testing.B, ns string) store.Store {
	st, err := datastore.New(context.Background(), datastore.Config{
		Project: "service-test", Namespace: ns, Kind: service.SessionKind(service.DefaultKind), ClientOptions: emu.ClientOptions(),
	})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	return st
}

func benchKeepAlive(b *testing.B, elections, sessions store.Store, n int, ttl time.Duration) {
	ts := start(b, service.Options{Store: elections, Sessions: sessions})
	api := dial(b, ts.addr, "")
	ctx, cancel := context.WithCancel(context.Background())
	// While the sessions are created, each is kept alive every third of its
	// TTL, as a client would; once all exist, as often as the write gap
	// allows, with a quarter of a gap to spare for the server's queues.
	load := &keepAliveLoad{ready: make(chan struct{}), round: ttl / 3, roundSet: make(chan struct{}), roundDone: make(chan struct{})}
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()
	streams := dial(b, ts.addr, "") // a connection of its own, as another client's
	for range 4 {
		stream, err := streams.KeepAlive(ctx)
		if err != nil {
			b.Fatal(err)
		}
		wg.Go(func() { load.run(ctx, b, stream) })
	}
	setup := time.Now()
	ids := createHolding(b, api, n, ttl, load)
	b.Logf("%d sessions and elections in %s", n, time.Since(setup))

	load.setRound(min(service.DefaultSessionWriteGap, ttl/6) * 5 / 4)
	b.ReportAllocs()
	load.measure(b.N)
	b.ResetTimer()
	<-load.measured
	b.StopTimer()
	b.ReportMetric(float64(load.answered.Load())/b.Elapsed().Seconds(), "keepalives/s")
	b.ReportMetric(float64(load.written.Load())/b.Elapsed().Seconds(), "written/s")
	b.ReportMetric(float64(load.failed.Load()), "errors")
	p50, p99 := load.percentiles()
	b.ReportMetric(p50, "p50-ms")
	b.ReportMetric(p99, "p99-ms")
	checkAllHeld(b, api, ids)
	if n := load.gone.Load(); n > 0 {
		b.Errorf("%d keepalives answered gone, such as %s", n, load.failure.Load())
	}
}

// createHolding creates n sessions, each leading an election of its own
// ("held-<i>"), handing each session to the load as soon as it exists, and
// no faster than the load keeps them all alive.
func createHolding(b *testing.B, api pb.LeaderElectionClient, n int, d time.Duration, load *keepAliveLoad) []string {
	ctx := context.Background()
	ids := make([]string, n)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range 32 {
		wg.Go(func() {
			for i := int(next.Add(1)) - 1; i < n; i = int(next.Add(1)) - 1 {
				load.caughtUp()
				node := fmt.Sprintf("node-%d", i)
				s, err := api.CreateSession(ctx, &pb.CreateSessionRequest{NodeId: node, Ttl: ttl(d)})
				if err != nil {
					b.Error(err)
					return
				}
				ids[i] = s.SessionId
				load.add(s.SessionId)
				r, err := api.TryBecomeLeader(ctx, &pb.TryBecomeLeaderRequest{Election: fmt.Sprintf("held-%d", i), NodeId: node, SessionId: s.SessionId})
				if err != nil || !r.Leader {
					b.Errorf("session %d's election: %v, %v", i, r, err)
					return
				}
			}
		})
	}
	wg.Wait()
	if b.Failed() {
		b.FailNow()
	}
	return ids
}

// checkAllHeld fails unless every session's election is led by its node.
func checkAllHeld(b *testing.B, api pb.LeaderElectionClient, ids []string) {
	ctx := context.Background()
	var next, lost atomic.Int64
	var wg sync.WaitGroup
	for range 64 {
		wg.Go(func() {
			for i := int(next.Add(1)) - 1; i < len(ids); i = int(next.Add(1)) - 1 {
				r, err := api.GetCurrentLeader(ctx, &pb.GetCurrentLeaderRequest{Election: fmt.Sprintf("held-%d", i)})
				if err != nil || r.Leader.GetNodeId() != fmt.Sprintf("node-%d", i) {
					lost.Add(1)
				}
			}
		})
	}
	wg.Wait()
	if n := lost.Load(); n > 0 {
		b.Errorf("%d of %d elections were no longer held by their session's node", n, len(ids))
	}
}

// keepAliveLoad keeps every session it is given alive, round after round,
// over the streams it runs, and measures a run of keepalives.
type keepAliveLoad struct {
	ready chan struct{} // closed when the first session is added

	mu sync.Mutex
	// round is the least time a round over every session takes: no less
	// than the server's write gap, so that keepalives are writes, not
	// answers from a recent write.
	round      time.Duration
	roundSet   chan struct{} // closed when round changes
	ids        []string
	cursor     int
	roundStart time.Time
	roundDone  chan struct{} // closed when a round ends
	target     int64         // keepalives to measure
	measured   chan struct{} // closed when target is reached
	latency    []time.Duration

	answered, written, failed, gone atomic.Int64
	measuring                       atomic.Bool
	failure                         atomic.Value // a keepalive answered gone, for the message
}

const (
	batchIDs = 100 // ids per request
	inFlight = 4   // requests in flight per stream
)

func (l *keepAliveLoad) add(id string) {
	l.mu.Lock()
	l.ids = append(l.ids, id)
	if len(l.ids) == 1 {
		close(l.ready)
	}
	l.mu.Unlock()
}

// caughtUp waits while the round in progress is late: the sessions it has
// yet to reach are the nearest to lapsing.
func (l *keepAliveLoad) caughtUp() {
	l.mu.Lock()
	late := l.cursor < len(l.ids) && time.Since(l.roundStart) > l.round
	done := l.roundDone
	l.mu.Unlock()
	if late {
		<-done
	}
}

// setRound changes the rounds' least time, at once.
func (l *keepAliveLoad) setRound(d time.Duration) {
	l.mu.Lock()
	l.round = d
	close(l.roundSet)
	l.roundSet = make(chan struct{})
	l.mu.Unlock()
}

// next returns the next batch of ids, round-robin, a round taking at least
// l.round.
func (l *keepAliveLoad) next(ctx context.Context) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.cursor >= len(l.ids) { // a round is over
		if wait := time.Until(l.roundStart.Add(l.round)); wait > 0 {
			changed := l.roundSet
			l.mu.Unlock()
			t := time.NewTimer(wait)
			select {
			case <-t.C:
			case <-changed:
			case <-ctx.Done():
			}
			t.Stop()
			l.mu.Lock()
		}
		if l.cursor >= len(l.ids) {
			l.cursor, l.roundStart = 0, time.Now()
			close(l.roundDone)
			l.roundDone = make(chan struct{})
		}
	}
	end := min(l.cursor+batchIDs, len(l.ids))
	out := slices.Clone(l.ids[l.cursor:end])
	l.cursor = end
	return out
}

// measure starts counting: measured closes once n keepalives are answered.
func (l *keepAliveLoad) measure(n int) {
	l.mu.Lock()
	l.target, l.measured = int64(n), make(chan struct{})
	l.latency = make([]time.Duration, 0, min(n/batchIDs+1, 1<<20))
	l.mu.Unlock()
	l.answered.Store(0)
	l.written.Store(0)
	l.measuring.Store(true)
}

// run keeps alive over one stream, inFlight requests at a time, until ctx
// ends.
func (l *keepAliveLoad) run(ctx context.Context, b *testing.B, stream pb.LeaderElection_KeepAliveClient) {
	select {
	case <-l.ready:
	case <-ctx.Done():
		return
	}
	window := make(chan struct{}, inFlight)
	var mu sync.Mutex
	sent := map[string]time.Time{} // by the first id of a request in flight
	go func() {
		for {
			resp, err := stream.Recv()
			if err != nil {
				return
			}
			mu.Lock()
			first := resp.Results[0].SessionId
			at := sent[first]
			delete(sent, first)
			mu.Unlock()
			<-window
			l.answer(resp.Results, at)
		}
	}()
	for {
		select {
		case window <- struct{}{}:
		case <-ctx.Done():
			return
		}
		ids := l.next(ctx)
		if ctx.Err() != nil {
			return
		}
		mu.Lock()
		sent[ids[0]] = time.Now()
		mu.Unlock()
		if err := stream.Send(&pb.KeepAliveRequest{SessionIds: ids}); err != nil {
			if ctx.Err() == nil {
				b.Error(err)
			}
			return
		}
	}
}

// answer counts one answered request, sent at sent.
func (l *keepAliveLoad) answer(results []*pb.KeepAliveResult, sent time.Time) {
	written := 0
	for _, r := range results {
		switch {
		case r.Gone:
			l.gone.Add(1)
			l.failure.Store(fmt.Sprintf("%s: %v", r.SessionId, r))
		case r.Ttl == nil:
			l.failed.Add(1)
		case r.Age == nil:
			written++
		}
	}
	if !l.measuring.Load() {
		return
	}
	d := time.Since(sent)
	n := l.answered.Add(int64(len(results)))
	l.written.Add(int64(written))
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.latency) < cap(l.latency) {
		l.latency = append(l.latency, d)
	}
	if n >= l.target && n-int64(len(results)) < l.target {
		l.measuring.Store(false)
		close(l.measured)
	}
}

// percentiles returns the median and 99th percentile of the measured
// requests' round trips, in milliseconds.
func (l *keepAliveLoad) percentiles() (p50, p99 float64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.latency) == 0 {
		return 0, 0
	}
	slices.Sort(l.latency)
	at := func(q float64) float64 {
		return float64(l.latency[int(q*float64(len(l.latency)-1))]) / float64(time.Millisecond)
	}
	return at(0.50), at(0.99)
}
