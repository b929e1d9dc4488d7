package service_test

import (
	"bufio"
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	pb "go-leader-election/api/leaderelection/v1"
	"go-leader-election/internal/service"
	"go-leader-election/store"
	"go-leader-election/store/memory"
)

// TestLapseIsJudgedPerServer: a server judges lapse from the first time it
// saw a version by any call, for any node: once GetCurrentLeader says
// nobody leads, IsLeader agrees and the first node to ask is granted the
// lease (not made to wait a TTL of its own first sight).
func TestLapseIsJudgedPerServer(t *testing.T) {
	ctx := ctxT(t)
	clk := &shiftClock{}
	api := dial(t, start(t, service.Options{Clock: clk}).addr, "")
	try := func(node string) *pb.TryBecomeLeaderResponse { return tryOn(t, ctx, api, "e", node, "") }
	if !try("a").Leader {
		t.Fatal("a did not win a free election")
	}
	clk.Shift(10*time.Second + time.Millisecond)
	cur, err := api.GetCurrentLeader(ctx, &pb.GetCurrentLeaderRequest{Election: "e"})
	if err != nil || cur.Leader != nil {
		t.Fatalf("GetCurrentLeader a TTL after a's grant: %v, %v; want nobody leads", cur, err)
	}
	is, err := api.IsLeader(ctx, &pb.IsLeaderRequest{Election: "e", NodeId: "b"})
	if err != nil || is.Current != nil {
		t.Fatalf("IsLeader(b) then: %v, %v; want nobody leads, as GetCurrentLeader said", is, err)
	}
	if r := try("b"); !r.Leader || r.Term != 2 {
		t.Fatalf("b, asking for the first time after the lapse: %v; want granted under term 2, as GetCurrentLeader implied", r)
	}
}

// interleaved is a real store into which a test slips a write of its own
// just before the next claim by one holder reaches it: another server's
// call landing between a server's read and its claim.
type interleaved struct {
	store.Store
	mu     sync.Mutex
	holder string
	before func()
}

func (s *interleaved) beforeClaimBy(holder string, f func()) {
	s.mu.Lock()
	s.holder, s.before = holder, f
	s.mu.Unlock()
}

func (s *interleaved) Claim(ctx context.Context, req store.ClaimRequest) (store.Lease, error) {
	s.mu.Lock()
	f := s.before
	if req.Holder != s.holder {
		f = nil
	} else {
		s.before = nil
	}
	s.mu.Unlock()
	if f != nil {
		f()
	}
	return s.Store.Claim(ctx, req)
}

// logLines is a zerolog sink whose JSON events a test reads back.
type logLines struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *logLines) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// events returns the events with message msg, as maps.
func (l *logLines) events(t *testing.T, msg string) []map[string]any {
	t.Helper()
	l.mu.Lock()
	text := l.b.String()
	l.mu.Unlock()
	var out []map[string]any
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		var ev map[string]any
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			t.Fatalf("bad log line %q: %v", sc.Text(), err)
		}
		if ev["message"] == msg {
			out = append(out, ev)
		}
	}
	return out
}

// TestLeaderElectedNamesTheHolderReplaced: "Leader elected" names as
// previous the holder whose record the grant replaced: a on a takeover of
// a's lapsed lease; nobody when a released its lease between the server's
// read (which judged it lapsed) and its claim.
func TestLeaderElectedNamesTheHolderReplaced(t *testing.T) {
	ctx := ctxT(t)
	clk := &shiftClock{}
	st := &interleaved{Store: memory.New()}
	var logs logLines
	api := dial(t, start(t, service.Options{Store: st, Clock: clk, Log: zerolog.New(&logs)}).addr, "")
	grant := func(election, node string) int64 {
		t.Helper()
		r, err := api.TryBecomeLeader(ctx, &pb.TryBecomeLeaderRequest{Election: election, NodeId: node, Ttl: ttl(10 * time.Second)})
		if err != nil || !r.Leader {
			t.Fatalf("%s asking for %s: %v, %v; want granted", node, election, r, err)
		}
		return r.Term
	}
	for _, election := range []string{"takeover", "released"} {
		grant(election, "a")
		if r, err := api.TryBecomeLeader(ctx, &pb.TryBecomeLeaderRequest{Election: election, NodeId: "b", Ttl: ttl(10 * time.Second)}); err != nil || r.Leader {
			t.Fatalf("b asking for %s while a holds it: %v, %v; want refused", election, r, err)
		}
	}
	clk.Shift(11 * time.Second)
	grant("takeover", "b")
	st.beforeClaimBy("b", func() {
		if err := st.Store.Release(ctx, store.ReleaseRequest{Job: "released", Holder: "a", Term: 1}); err != nil {
			t.Error(err)
		}
	})
	grant("released", "b")

	want := map[string]string{"takeover": "a", "released": ""}
	for _, ev := range logs.events(t, "Leader elected") {
		election, leader := ev["election"].(string), ev["leader"].(string)
		if leader != "b" {
			continue
		}
		prev, _ := ev["previous"].(string)
		if prev != want[election] {
			t.Errorf("Leader elected for b in %q: previous %q, want %q (%v)", election, prev, want[election], ev)
		}
		if prev != "" && ev["reason"] != "lapsed" {
			t.Errorf("Leader elected for b in %q: reason %v, want lapsed", election, ev["reason"])
		}
		delete(want, election)
	}
	if len(want) > 0 {
		t.Errorf("no Leader elected for b in %v", want)
	}
}
