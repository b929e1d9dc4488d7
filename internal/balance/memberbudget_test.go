package balance_test

import (
	"context"
	"maps"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"go-leader-election/clock"
	"go-leader-election/emulator"
	"go-leader-election/internal/balance"
	"go-leader-election/internal/schedulers"
	"go-leader-election/store"
	dsstore "go-leader-election/store/datastore"
)

// roundCounter is a node's member registry: it snapshots the node's RPC
// counts as each round begins (a round is PutMember, then ListMembers, one
// after the other, on the Membership's goroutine).
type roundCounter struct {
	store.Members
	calls  *dsstore.Calls
	target int           // rounds to see before closing enough
	enough chan struct{} // closed when target rounds have begun
	once   sync.Once
	mu     sync.Mutex
	rounds []map[string]int64 // snapshot at each round's start
	at     []time.Time        // and when
}

func (c *roundCounter) PutMember(ctx context.Context, m store.Member) (store.Member, error) {
	c.mu.Lock()
	c.rounds = append(c.rounds, c.calls.Snapshot())
	c.at = append(c.at, time.Now())
	if len(c.rounds) >= c.target {
		c.once.Do(func() { close(c.enough) })
	}
	c.mu.Unlock()
	return c.Members.PutMember(ctx, m)
}

// TestMembershipRPCBudget runs three Memberships on the emulator, through the
// real client, with a 500ms period, and counts the RPCs each makes per
// round: after its first, a round is exactly one Commit (the record's blind
// renewal) and one RunQuery (the list of all records), and rounds come at
// most once per Period; a graceful leave adds one Commit (the delete).
func TestMembershipRPCBudget(t *testing.T) {
	if testing.Short() {
		t.Skip("runs three memberships for a few seconds of real time")
	}
	emu, err := emulator.Start("127.0.0.1:0", emulator.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer emu.Close()
	const period = 500 * time.Millisecond
	const rounds = 6 // rounds 1..5 are judged: 4 whole rounds between their starts
	const from, to = 1, rounds - 1

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var wg sync.WaitGroup
	var counters []*roundCounter
	var stores []*dsstore.Store
	var members []*balance.Membership
	for _, node := range []string{"a", "b", "c"} {
		st, err := dsstore.New(ctx, dsstore.Config{Project: "memberbudget", ClientOptions: emu.ClientOptions()})
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		if err := st.Ping(ctx); err != nil { // connects; counted before the first round
			t.Fatal(err)
		}
		stores = append(stores, st)
		c := &roundCounter{Members: st, calls: st.Calls(), target: rounds, enough: make(chan struct{})}
		counters = append(counters, c)
		ms, err := balance.NewMembership(balance.MembershipConfig{
			Store: c, Self: schedulers.NewIdentity(node).Member(), Jobs: []string{"j0", "j1", "j2"},
			Period: period, Timeout: schedulers.DefaultTiming().StoreTimeout, // as the daemon's
			Clock: clock.Real{}, Started: time.Now(), Log: zerolog.Nop(),
			ClockOffset: func() (time.Duration, bool) { // as the daemon's: no RPC of its own
				off, _, ok := st.ClockOffset()
				return off, ok
			},
		})
		if err != nil {
			t.Fatal(err)
		}
		members = append(members, ms)
		wg.Go(func() { ms.Run(ctx) })
	}
	timeout := time.After(30 * time.Second)
	for _, c := range counters {
		select {
		case <-c.enough:
		case <-timeout:
			t.Fatal("the memberships did not make enough rounds within 30s")
		}
	}
	for i, ms := range members {
		if got := len(ms.Members()); got != 3 {
			t.Errorf("node %d sees %d live members, want 3", i, got)
		}
	}
	cancel()
	wg.Wait()

	for i, c := range counters {
		c.mu.Lock()
		snaps, at := c.rounds, c.at
		c.mu.Unlock()
		final := stores[i].Calls().Snapshot()
		n := int64(to - from)
		elapsed := at[to].Sub(at[from])
		got := diff(snaps[from], snaps[to])
		if want := map[string]int64{"Commit": n, "RunQuery": n}; !maps.Equal(got, want) {
			t.Errorf("node %d: RPCs over %d rounds = %v, want %v (one write and one read per round)", i, n, got, want)
		}
		if elapsed < time.Duration(n)*period {
			t.Errorf("node %d: %d rounds in %s, want at most one per period (%s)", i, n, elapsed, period)
		}
		perSecond := float64(got["Commit"]+got["RunQuery"]) / elapsed.Seconds()
		if limit := 2 / period.Seconds(); perSecond > limit {
			t.Errorf("node %d: %.2f RPCs/s, want at most %.2f (2 per period)", i, perSecond, limit)
		}
		// The first round writes the record in a transaction, as this
		// store has not written it before (BeginTransaction, Lookup,
		// Commit), and lists: once per process.
		if first, want := diff(snaps[0], snaps[1]), map[string]int64{"BeginTransaction": 1, "Lookup": 1, "Commit": 1, "RunQuery": 1}; !maps.Equal(first, want) {
			t.Errorf("node %d: first round's RPCs = %v, want %v", i, first, want)
		}
		// The last round, then the leave: one Commit deletes the record.
		if last, want := diff(snaps[len(snaps)-1], final), map[string]int64{"Commit": 2, "RunQuery": 1}; !maps.Equal(last, want) {
			t.Errorf("node %d: last round and leave's RPCs = %v, want %v (a round, then one delete)", i, last, want)
		}
		t.Logf("node %d: %v over %d rounds in %s: %.2f RPCs/s at a %s period (%.2f/s at the default 2s)",
			i, got, n, elapsed.Round(time.Millisecond), perSecond, period, float64(got["Commit"]+got["RunQuery"])/float64(n)/2)
	}
}

// diff returns the calls counted in b and not in a, by method.
func diff(a, b map[string]int64) map[string]int64 {
	out := maps.Clone(b)
	for k, v := range a {
		out[k] -= v
		if out[k] == 0 {
			delete(out, k)
		}
	}
	return out
}
