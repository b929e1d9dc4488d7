package electionclient_test

import (
	"context"
	"errors"
	"net"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"go-leader-election/electionclient"
	"go-leader-election/store"
	"go-leader-election/store/memory"
)

func TestCampaignWaitsAndResignHandsOver(t *testing.T) {
	ctx := ctxT(t)
	s := startServer(t, nil, "", "")
	c := newClient(t, electionclient.Config{Servers: []string{s.addr}})
	a, b := election(t, c, "e", "a", 2*time.Second), election(t, c, "e", "b", 2*time.Second)
	la, err := a.Campaign(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if la.Term() != 1 || la.Err() != nil || la.TTL() != 2*time.Second {
		t.Fatalf("a: term %d, err %v, ttl %s; want term 1, leading, 2s", la.Term(), la.Err(), la.TTL())
	}
	got := make(chan *electionclient.Leadership, 1)
	go func() {
		lb, err := b.Campaign(ctx)
		if err != nil {
			t.Error(err)
		}
		got <- lb
	}()
	s.waitCalls(t, "TryBecomeLeader b", 3)
	s.waitCalls(t, "Heartbeat a", 1)
	select {
	case <-got:
		t.Fatal("b was elected while a led")
	default:
	}
	if l, err := b.Leader(ctx); err != nil || l.Node != "a" || l.Term != 1 || l.Remaining <= 0 {
		t.Fatalf("Leader: %+v, %v; want a under term 1", l, err)
	}
	if err := la.Resign(ctx); err != nil {
		t.Fatal(err)
	}
	if !errors.Is(la.Err(), electionclient.ErrResigned) || errors.Is(la.Err(), electionclient.ErrLost) {
		t.Fatalf("after Resign: %v; want ErrResigned, not ErrLost", la.Err())
	}
	lb := <-got
	if lb.Term() != 2 {
		t.Fatalf("b's term %d, want 2", lb.Term())
	}
	if err := la.Resign(ctx); err != nil {
		t.Fatalf("a second Resign: %v; want nil", err)
	}
	if err := lb.Resign(ctx); err != nil {
		t.Fatal(err)
	}
}

// TestDoneFiresBeforeTheLeaseCanLapse: the server dies; the leader's Done
// closes at 2/3 of the TTL after its last successful heartbeat was sent, so
// before any server could judge the lease lapsed (the TTL after the write).
func TestDoneFiresBeforeTheLeaseCanLapse(t *testing.T) {
	if testing.Short() {
		t.Skip("real time: a TTL")
	}
	ctx := ctxT(t)
	s := startServer(t, nil, "", "")
	c := newClient(t, electionclient.Config{Servers: []string{s.addr}})
	const ttl = time.Second
	l, err := election(t, c, "e", "a", ttl).Campaign(ctx)
	if err != nil {
		t.Fatal(err)
	}
	s.waitCalls(t, "Heartbeat a", 1)
	trusted := l.TrustedUntil()
	stopped := time.Now()
	s.stop()
	<-l.Done()
	doneAt := time.Now()
	if !errors.Is(l.Err(), electionclient.ErrExpired) || !errors.Is(context.Cause(l.Context()), electionclient.ErrLost) {
		t.Fatalf("cause %v; want ErrExpired (an ErrLost)", l.Err())
	}
	if doneAt.Before(trusted) {
		t.Fatalf("Done at %s, before the trusted time %s", doneAt.Sub(stopped), trusted.Sub(stopped))
	}
	// The latest write was sent before the stop; it lapses at the earliest
	// a TTL after it.
	if late := doneAt.Sub(stopped); late >= ttl*2/3+100*time.Millisecond {
		t.Fatalf("Done %s after the server died; want within 2/3 of the %s TTL", late, ttl)
	}
	t.Logf("Done %s after the server died (TTL %s)", doneAt.Sub(stopped).Round(time.Millisecond), ttl)
}

// TestFailoverKeepsTheLeadership: two servers over one store; the leader's
// server dies and its heartbeats go to the other, under the same term.
func TestFailoverKeepsTheLeadership(t *testing.T) {
	if testing.Short() {
		t.Skip("real time: heartbeats")
	}
	ctx := ctxT(t)
	st := memory.New()
	s1, s2 := startServer(t, st, "", ""), startServer(t, st, "", "")
	c := newClient(t, electionclient.Config{Servers: []string{s1.addr, s2.addr}})
	l, err := election(t, c, "e", "a", time.Second).Campaign(ctx)
	if err != nil {
		t.Fatal(err)
	}
	s1.waitCalls(t, "Heartbeat a", 1)
	s1.stop()
	s2.waitCalls(t, "Heartbeat a", 3)
	if l.Err() != nil || l.Term() != 1 {
		t.Fatalf("after failing over: %v, term %d; want still leading under term 1", l.Err(), l.Term())
	}
	if err := l.Resign(ctx); err != nil {
		t.Fatal(err)
	}
}

// TestFailoverFromAHungServer: the leader's server stops answering
// heartbeats (frozen, not dead); an attempt gets half the trusted time
// left, and the next goes to the other server in time.
func TestFailoverFromAHungServer(t *testing.T) {
	if testing.Short() {
		t.Skip("real time: heartbeats")
	}
	ctx := ctxT(t)
	st := memory.New()
	s1, s2 := startServer(t, st, "", ""), startServer(t, st, "", "")
	c := newClient(t, electionclient.Config{Servers: []string{s1.addr, s2.addr}})
	l, err := election(t, c, "e", "a", 3*time.Second).Campaign(ctx)
	if err != nil {
		t.Fatal(err)
	}
	s1.hang.Store(true)
	s1.waitCalls(t, "hung", 1)
	s2.waitCalls(t, "Heartbeat a", 2)
	if l.Err() != nil {
		t.Fatalf("after a hung heartbeat: %v; want still leading", l.Err())
	}
}

// TestDeposed: another holder takes the lease over behind the leader's back
// (as if a server had judged it lapsed while the leader was frozen); the
// next heartbeat ends the leadership with ErrDeposed.
func TestDeposed(t *testing.T) {
	ctx := ctxT(t)
	st := memory.New()
	s := startServer(t, st, "", "")
	c := newClient(t, electionclient.Config{Servers: []string{s.addr}})
	l, err := election(t, c, "e", "a", time.Second).Campaign(ctx)
	if err != nil {
		t.Fatal(err)
	}
	rec, err := st.Get(ctx, "e")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Claim(ctx, store.ClaimRequest{Job: "e", Holder: "b", Node: "b", TTL: time.Minute, Now: time.Now(), LapsedVersion: rec.Version}); err != nil {
		t.Fatal(err)
	}
	<-l.Done()
	if !errors.Is(l.Err(), electionclient.ErrDeposed) || !errors.Is(l.Err(), electionclient.ErrLost) {
		t.Fatalf("cause %v; want ErrDeposed", l.Err())
	}
}

func TestObserve(t *testing.T) {
	ctx := ctxT(t)
	s := startServer(t, nil, "", "")
	c := newClient(t, electionclient.Config{Servers: []string{s.addr}})
	a, b := election(t, c, "e", "a", time.Minute), election(t, c, "e", "b", time.Minute)
	seen := make(chan electionclient.Leader, 10)
	octx, stop := context.WithCancel(ctx)
	ended := make(chan error, 1)
	go func() { ended <- a.Observe(octx, func(l electionclient.Leader) { seen <- l }) }()
	want := func(node string, term int64) {
		t.Helper()
		if l := <-seen; l.Node != node || l.Term != term || l.Held() != (node != "") {
			t.Fatalf("observed %+v; want %q under term %d", l, node, term)
		}
	}
	want("", 0)
	la, err := a.Campaign(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want("a", 1)
	if err := la.Resign(ctx); err != nil {
		t.Fatal(err)
	}
	want("", 1)
	lb, err := b.Campaign(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want("b", 2)
	stop()
	if err := <-ended; !errors.Is(err, context.Canceled) {
		t.Fatalf("Observe returned %v; want context.Canceled", err)
	}
	_ = lb.Resign(ctx)
}

// TestObserveMovesToAnotherServer: the watched server shuts down; Observe
// goes on from the next one.
func TestObserveMovesToAnotherServer(t *testing.T) {
	ctx := ctxT(t)
	st := memory.New()
	s1, s2 := startServer(t, st, "", ""), startServer(t, st, "", "")
	c := newClient(t, electionclient.Config{Servers: []string{s1.addr, s2.addr}})
	e := election(t, c, "e", "a", time.Minute)
	seen := make(chan electionclient.Leader, 10)
	go func() { _ = e.Observe(ctx, func(l electionclient.Leader) { seen <- l }) }()
	if l := <-seen; l.Held() {
		t.Fatalf("first: %+v", l)
	}
	s1.stop()
	other := election(t, newClient(t, electionclient.Config{Servers: []string{s2.addr}}), "e", "b", time.Minute)
	if _, err := other.Campaign(ctx); err != nil {
		t.Fatal(err)
	}
	if l := <-seen; l.Node != "b" {
		t.Fatalf("after the failover: %+v; want b", l)
	}
}

func TestWrongTokenFailsAtOnce(t *testing.T) {
	ctx := ctxT(t)
	s := startServer(t, nil, "", "s3cret")
	retries := 0
	c := newClient(t, electionclient.Config{Servers: []string{s.addr}, Token: "guess", OnRetry: func(electionclient.Retry) { retries++ }})
	_, err := election(t, c, "e", "a", time.Second).Campaign(ctx)
	var ce *electionclient.CallError
	if !errors.As(err, &ce) || status.Code(err) != codes.Unauthenticated || retries != 0 {
		t.Fatalf("Campaign with a wrong token: %v (%d retries); want a CallError, Unauthenticated, at once", err, retries)
	}
	t.Log(err)
}

func TestBadOptions(t *testing.T) {
	if _, err := electionclient.New(electionclient.Config{}); err == nil {
		t.Error("New accepted no servers")
	}
	c := newClient(t, electionclient.Config{Servers: []string{"localhost:1"}})
	for _, o := range []struct {
		name string
		opts electionclient.ElectionOptions
	}{
		{"", electionclient.ElectionOptions{}},
		{"e", electionclient.ElectionOptions{TTL: time.Millisecond}},
		{"e", electionclient.ElectionOptions{TTL: 2 * time.Hour}},
		{"e", electionclient.ElectionOptions{Trust: 1}},
		{"e", electionclient.ElectionOptions{Node: "a\tb"}},
	} {
		if _, err := c.Election(o.name, o.opts); err == nil {
			t.Errorf("Election(%q, %+v) accepted", o.name, o.opts)
		}
	}
	if n := electionclient.DefaultNode(); len(n) < 10 || n == electionclient.DefaultNode() {
		t.Errorf("DefaultNode %q: want a host name and a random suffix, new each time", n)
	}
}

// TestCampaignRetriesUntilAServerAnswers: no server at first; Campaign
// retries (and says so), and wins once one starts.
func TestCampaignRetriesUntilAServerAnswers(t *testing.T) {
	ctx := ctxT(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nobody listens there now
	var mu sync.Mutex
	var retries []electionclient.Retry
	twice := make(chan struct{})
	c := newClient(t, electionclient.Config{Servers: []string{addr}, OnRetry: func(r electionclient.Retry) {
		mu.Lock()
		defer mu.Unlock()
		if retries = append(retries, r); len(retries) == 2 {
			close(twice)
		}
	}})
	won := make(chan error, 1)
	go func() {
		_, err := election(t, c, "e", "a", time.Second).Campaign(ctx)
		won <- err
	}()
	<-twice
	startServer(t, nil, addr, "")
	if err := <-won; err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if r := retries[0]; r.Op != "campaign" || r.Server != addr || status.Code(r.Err) != codes.Unavailable || r.Wait <= 0 {
		t.Fatalf("first retry: %+v; want campaign on %s, Unavailable, with a wait", r, addr)
	}
}
