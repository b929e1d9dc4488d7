package service_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unicode"

	"go-leader-election/electionclient"
	"go-leader-election/emulator"
	"go-leader-election/internal/service"
	"go-leader-election/store"
	"go-leader-election/store/datastore"
)

var (
	emuOnce sync.Once
	emu     *emulator.Server
	emuErr  error
	nsSeq   atomic.Int64
)

// datastoreOnEmulator returns a Datastore store of elections on the test
// binary's emulator, in a namespace of the test's own; every call with the
// same ns shares its records.
func datastoreOnEmulator(t testing.TB, ns string) *datastore.Store {
	t.Helper()
	emuOnce.Do(func() { emu, emuErr = emulator.Start("127.0.0.1:0", emulator.Options{}) })
	if emuErr != nil {
		t.Fatal(emuErr)
	}
	st, err := datastore.New(context.Background(), datastore.Config{
		Project: "service-test", Namespace: ns, Kind: service.DefaultKind, ClientOptions: emu.ClientOptions(),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// namespace is a Datastore namespace of the test's own: its name (a
// benchmark's has '/', a subtest's may have spaces) with every character
// Datastore refuses in a namespace replaced by '_', cut to fit its 100.
func namespace(t testing.TB) string {
	suffix := fmt.Sprintf("-%d", nsSeq.Add(1))
	name := strings.Map(func(r rune) rune {
		if r < 0x80 && (unicode.IsLetter(r) || unicode.IsDigit(r) || r == '.' || r == '_' || r == '-') {
			return r
		}
		return '_'
	}, t.Name())
	return name[:min(len(name), 100-len(suffix))] + suffix
}

// electionStores opens a store of elections; every call with the same ns
// shares its records. The distributed tests run on each backend.
type electionStores func(t testing.TB, ns string) store.Store

func onEmulator(t testing.TB, ns string) store.Store { return datastoreOnEmulator(t, ns) }

// term is one client's time as leader, by its own account: from Campaign's
// return to when it stopped acting (before Resign, or its trusted time).
type term struct {
	node       string
	term       int64
	start, end time.Time
}

// checkOneLeader fails if two terms overlap, or terms do not grow.
func checkOneLeader(t *testing.T, terms []term) {
	t.Helper()
	sort.Slice(terms, func(i, j int) bool { return terms[i].start.Before(terms[j].start) })
	for i := 1; i < len(terms); i++ {
		p, c := terms[i-1], terms[i]
		if c.start.Before(p.end) {
			t.Errorf("two leaders at once: %s (term %d) until %s, %s (term %d) from %s",
				p.node, p.term, p.end.Format("15:04:05.000"), c.node, c.term, c.start.Format("15:04:05.000"))
		}
		if c.term <= p.term {
			t.Errorf("term did not grow: %s had %d, then %s had %d", p.node, p.term, c.node, c.term)
		}
	}
}

// TestDistributedOneLeaderAtATime: two servers over one Datastore (the
// emulator), two clients on each, campaigning and resigning at random: at
// most one leader at any moment, terms growing.
func TestDistributedOneLeaderAtATime(t *testing.T) { testOneLeaderAtATime(t, onEmulator) }

func testOneLeaderAtATime(t *testing.T, open electionStores) {
	if testing.Short() {
		t.Skip("real time: seconds of contention")
	}
	ns := namespace(t)
	s1, s2 := start(t, service.Options{Store: open(t, ns)}), start(t, service.Options{Store: open(t, ns)})
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	var mu sync.Mutex
	var terms []term
	var wg sync.WaitGroup
	for i, addr := range []string{s1.addr, s1.addr, s2.addr, s2.addr} {
		c, err := electionclient.New(electionclient.Config{Servers: []string{addr}})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		e, err := c.Election("contended", electionclient.ElectionOptions{Node: fmt.Sprintf("n%d", i), TTL: time.Second, PollInterval: 20 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		wg.Go(func() {
			for ctx.Err() == nil {
				l, err := e.Campaign(ctx)
				if err != nil {
					return
				}
				tm := term{node: e.Node(), term: l.Term(), start: time.Now()}
				select {
				case <-time.After(time.Duration(10+rand.IntN(90)) * time.Millisecond): // leading for a while
					tm.end = time.Now()
				case <-l.Done():
					tm.end = l.TrustedUntil()
				}
				_ = l.Resign(context.Background())
				mu.Lock()
				terms = append(terms, tm)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(terms) < 5 {
		t.Fatalf("only %d terms in 3s", len(terms))
	}
	checkOneLeader(t, terms)
	t.Logf("%d terms, none overlapping", len(terms))
}

// TestDistributedServerDies: the leader's server dies; its client's Done
// fires before its TTL could have run out, and the client on the other
// server wins after that, within the TTL and a second.
func TestDistributedServerDies(t *testing.T) { testServerDies(t, onEmulator) }

func testServerDies(t *testing.T, open electionStores) {
	if testing.Short() {
		t.Skip("real time: a TTL")
	}
	ns := namespace(t)
	s1, s2 := start(t, service.Options{Store: open(t, ns)}), start(t, service.Options{Store: open(t, ns)})
	const ttl = 2 * time.Second
	elect := func(addr, node string) *electionclient.Election {
		c, err := electionclient.New(electionclient.Config{Servers: []string{addr}})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		e, err := c.Election("production", electionclient.ElectionOptions{Node: node, TTL: ttl})
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	ctx := ctxT(t)
	a, b := elect(s1.addr, "a"), elect(s2.addr, "b")
	la, err := a.Campaign(ctx)
	if err != nil {
		t.Fatal(err)
	}
	won := make(chan *electionclient.Leadership, 1)
	go func() {
		lb, err := b.Campaign(ctx)
		if err != nil {
			t.Error(err)
		}
		won <- lb
	}()
	killed := time.Now()
	s1.stop()
	<-la.Done()
	doneAt := time.Now()
	if !errors.Is(la.Err(), electionclient.ErrExpired) {
		t.Fatalf("a's leadership ended with %v; want ErrExpired", la.Err())
	}
	lb := <-won
	wonAt := time.Now()
	if lb == nil {
		t.Fatal("b did not win")
	}
	if d := doneAt.Sub(killed); d >= ttl*2/3+200*time.Millisecond {
		t.Errorf("a's Done %s after its server died; want within 2/3 of the TTL (%s)", d, ttl)
	}
	if !wonAt.After(la.TrustedUntil()) {
		t.Errorf("b won at %s, before a stopped trusting its lease at %s", wonAt, la.TrustedUntil())
	}
	if d := wonAt.Sub(killed); d > ttl+time.Second {
		t.Errorf("b won %s after a's server died; want within the TTL (%s) and a second", d, ttl)
	}
	if lb.Term() != la.Term()+1 {
		t.Errorf("b's term %d after a's %d", lb.Term(), la.Term())
	}
	t.Logf("a's Done %s after its server died, b won %s after (TTL %s)", doneAt.Sub(killed).Round(time.Millisecond), wonAt.Sub(killed).Round(time.Millisecond), ttl)
}
