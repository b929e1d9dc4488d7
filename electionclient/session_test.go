package electionclient_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	pb "go-leader-election/api/leaderelection/v1"
	"go-leader-election/electionclient"
	"go-leader-election/internal/service"
	"go-leader-election/store/memory"
)

func newSession(t testing.TB, ctx context.Context, c *electionclient.Client, node string, ttl time.Duration) *electionclient.Session {
	t.Helper()
	s, err := c.NewSession(ctx, electionclient.SessionOptions{Node: node, TTL: ttl})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func names(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s-%d", prefix, i)
	}
	return out
}

// TestSessionHoldsElectionsOnOneStream: twenty elections on one session,
// two sessions on one client: one KeepAlive stream, no heartbeat; every
// election stays held across several TTLs, and a peer never wins one.
func TestSessionHoldsElectionsOnOneStream(t *testing.T) {
	ctx := ctxT(t)
	s := startServer(t, nil, "", "")
	c := newClient(t, electionclient.Config{Servers: []string{s.addr}})
	const ttl = time.Second
	a1, a2 := newSession(t, ctx, c, "a", ttl), newSession(t, ctx, c, "a2", ttl)
	var leads []*electionclient.Leadership
	for i, name := range names("e", 20) {
		sess := a1
		if i%2 == 1 {
			sess = a2
		}
		l, err := sess.Campaign(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		if l.Term() != 1 || l.TTL() != ttl || l.Election().Name() != name {
			t.Fatalf("%s: term %d, ttl %s, election %s", name, l.Term(), l.TTL(), l.Election().Name())
		}
		leads = append(leads, l)
	}
	peer := newClient(t, electionclient.Config{Servers: []string{s.addr}})
	b := election(t, peer, "e-6", "b", ttl)
	bctx, cancel := context.WithCancel(ctx)
	lost := make(chan error, 1)
	go func() { _, err := b.Campaign(bctx); lost <- err }()
	// Three TTLs of keepalives (every third of the TTL): the sessions would
	// have lapsed twice over without them.
	s.waitCalls(t, "keepalive "+a1.ID(), 9)
	s.waitCalls(t, "keepalive "+a2.ID(), 9)
	cancel()
	if err := <-lost; !errors.Is(err, context.Canceled) {
		t.Fatalf("b's campaign: %v; want it still waiting when cancelled", err)
	}
	for _, l := range leads {
		if l.Err() != nil {
			t.Fatalf("%s ended: %v", l.Election().Name(), l.Err())
		}
	}
	if n := s.callsOf("KeepAlive"); n != 1 {
		t.Errorf("%d KeepAlive streams for one client, want 1", n)
	}
	if n := s.callsOf("Heartbeat a"); n != 0 {
		t.Errorf("%d heartbeats of elections held under a session, want none", n)
	}
	if l, err := b.Leader(ctx); err != nil || l.Node != "a" {
		t.Fatalf("Leader of e-6: %+v, %v; want a", l, err)
	}
}

// TestSessionEndsBeforeItCanLapse: the server dies; the session's Done
// closes at its trusted time (2/3 of the TTL after its last keepalive was
// sent), and so does every Leadership under it, with ErrExpired.
func TestSessionEndsBeforeItCanLapse(t *testing.T) {
	if testing.Short() {
		t.Skip("real time: a TTL")
	}
	ctx := ctxT(t)
	s := startServer(t, nil, "", "")
	c := newClient(t, electionclient.Config{Servers: []string{s.addr}})
	sess := newSession(t, ctx, c, "a", time.Second)
	l, err := sess.Campaign(ctx, "e")
	if err != nil {
		t.Fatal(err)
	}
	s.waitCalls(t, "keepalive "+sess.ID(), 2)
	s.stop()
	<-l.Done()
	<-sess.Done()
	ended := time.Now()
	if !errors.Is(sess.Err(), electionclient.ErrExpired) || !errors.Is(l.Err(), electionclient.ErrExpired) {
		t.Fatalf("session ended with %v, leadership with %v; want ErrExpired", sess.Err(), l.Err())
	}
	if trusted := sess.TrustedUntil(); ended.Before(trusted) || ended.Sub(trusted) > 200*time.Millisecond {
		t.Fatalf("Done at %s, trusted until %s: want at the trusted time", ended.Format("15:04:05.000"), trusted.Format("15:04:05.000"))
	}
}

// TestSessionFailsOver: two servers over one store; the first dies; the
// stream moves to the second, which renews the session, and its elections
// stay held.
func TestSessionFailsOver(t *testing.T) {
	ctx := ctxT(t)
	elections, sessions := memory.New(), memory.New()
	s1 := startServerWith(t, service.Options{Store: elections, Sessions: sessions}, "")
	s2 := startServerWith(t, service.Options{Store: elections, Sessions: sessions}, "")
	c := newClient(t, electionclient.Config{Servers: []string{s1.addr, s2.addr}})
	sess := newSession(t, ctx, c, "a", 2*time.Second)
	l, err := sess.Campaign(ctx, "e")
	if err != nil {
		t.Fatal(err)
	}
	s1.waitCalls(t, "keepalive "+sess.ID(), 1)
	s1.stop()
	s2.waitCalls(t, "keepalive "+sess.ID(), 3)
	if l.Err() != nil || sess.Err() != nil {
		t.Fatalf("after failing over: session %v, leadership %v; want both alive", sess.Err(), l.Err())
	}
}

// TestSessionCloseFreesItsElections: Close ends the session's leaderships
// (ErrSessionClosed, not a loss) and frees its elections at once.
func TestSessionCloseFreesItsElections(t *testing.T) {
	ctx := ctxT(t)
	s := startServer(t, nil, "", "")
	c := newClient(t, electionclient.Config{Servers: []string{s.addr}})
	sess := newSession(t, ctx, c, "a", time.Minute)
	l, err := sess.Campaign(ctx, "e")
	if err != nil {
		t.Fatal(err)
	}
	if err := sess.Close(ctx); err != nil {
		t.Fatal(err)
	}
	<-l.Done()
	if !errors.Is(l.Err(), electionclient.ErrSessionClosed) || errors.Is(l.Err(), electionclient.ErrLost) {
		t.Fatalf("leadership after Close: %v; want ErrSessionClosed, not ErrLost", l.Err())
	}
	b := election(t, c, "e", "b", time.Minute)
	lb, err := b.Campaign(ctx)
	if err != nil || lb.Term() != 2 {
		t.Fatalf("b after the close: %v; want term 2 at once", err)
	}
	if _, err := sess.Campaign(ctx, "f"); !errors.Is(err, electionclient.ErrSessionClosed) {
		t.Fatalf("campaign on a closed session: %v; want ErrSessionClosed", err)
	}
}

// TestSessionGoneEndsItsLeaderships: a session closed by someone else (its
// id leaked) is answered gone at its next keepalive: its Leaderships end
// with ErrSessionGone.
func TestSessionGoneEndsItsLeaderships(t *testing.T) {
	ctx := ctxT(t)
	s := startServer(t, nil, "", "")
	c := newClient(t, electionclient.Config{Servers: []string{s.addr}})
	sess := newSession(t, ctx, c, "a", time.Second)
	l, err := sess.Campaign(ctx, "e")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := dialAPI(t, s.addr).CloseSession(ctx, &pb.CloseSessionRequest{SessionId: sess.ID()}); err != nil {
		t.Fatal(err)
	}
	<-l.Done()
	if !errors.Is(l.Err(), electionclient.ErrSessionGone) || !errors.Is(sess.Err(), electionclient.ErrLost) {
		t.Fatalf("after another closed the session: leadership %v, session %v; want ErrSessionGone", l.Err(), sess.Err())
	}
}

// TestSemaphoreSlots: three sessions campaign on the two slots of one
// semaphore: two hold a slot each, the third waits, and takes the slot the
// first resigns.
func TestSemaphoreSlots(t *testing.T) {
	ctx := ctxT(t)
	s := startServer(t, nil, "", "")
	c := newClient(t, electionclient.Config{Servers: []string{s.addr}})
	slots, err := electionclient.Slots("batch", 2)
	if err != nil {
		t.Fatal(err)
	}
	if slots[0] != "batch/slot-0" || slots[1] != "batch/slot-1" {
		t.Fatalf("Slots: %q", slots)
	}
	var mu sync.Mutex
	held := map[string]*electionclient.Leadership{}
	won := make(chan string, 3)
	for _, node := range []string{"a", "b", "c"} {
		sess := newSession(t, ctx, c, node, time.Minute)
		go func() {
			l, err := sess.CampaignAny(ctx, slots...)
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			held[node] = l
			mu.Unlock()
			won <- node
		}()
	}
	first, second := <-won, <-won
	mu.Lock()
	if held[first].Election().Name() == held[second].Election().Name() {
		t.Fatalf("%s and %s hold the same slot %s", first, second, held[first].Election().Name())
	}
	freed := held[first].Election().Name()
	mu.Unlock()
	s.waitCalls(t, "TryBecomeLeader "+third(first, second), 4) // it asked for both slots twice
	if err := held[first].Resign(ctx); err != nil {
		t.Fatal(err)
	}
	last := <-won
	mu.Lock()
	defer mu.Unlock()
	if got := held[last].Election().Name(); got != freed || held[last].Term() != 2 {
		t.Fatalf("%s took %s under term %d; want the freed slot %s under term 2", last, got, held[last].Term(), freed)
	}
	if _, err := electionclient.Slots("batch", 0); err == nil {
		t.Error("Slots accepted a limit of 0")
	}
}

func third(a, b string) string {
	for _, n := range []string{"a", "b", "c"} {
		if n != a && n != b {
			return n
		}
	}
	return ""
}
