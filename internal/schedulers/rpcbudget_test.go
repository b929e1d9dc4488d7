package schedulers_test

import (
	"context"
	"maps"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"go-leader-election/clock"
	"go-leader-election/emulator"
	"go-leader-election/internal/schedule"
	"go-leader-election/internal/schedulers"
	"go-leader-election/jobs"
	dsstore "go-leader-election/store/datastore"
)

// budgetObserver snapshots its node's RPC counts at its Nth run or sit-out.
type budgetObserver struct {
	calls  *dsstore.Calls
	target int           // runs or sit-outs to see before closing enough
	enough chan struct{} // closed after target+1 runs or sit-outs
	once   sync.Once
	mu     sync.Mutex
	runs   []map[string]int64 // snapshot at each run's start
	sits   []map[string]int64 // snapshot at each sit-out
}

func (o *budgetObserver) Started(string, time.Duration) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.runs = append(o.runs, o.calls.Snapshot())
	o.check()
}

func (o *budgetObserver) check() {
	if len(o.runs) > o.target || len(o.sits) > o.target {
		o.once.Do(func() { close(o.enough) })
	}
}

func (o *budgetObserver) Skipped(_, reason string) {
	if reason != schedulers.SkipSatOut {
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	o.sits = append(o.sits, o.calls.Snapshot())
	o.check()
}

func (o *budgetObserver) Finished(string, time.Duration, error)          {}
func (o *budgetObserver) LeaseLost(string)                               {}
func (o *budgetObserver) StoreCall(string, string, time.Duration, error) {}

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

// TestRPCBudget runs a leader and a follower on the emulator, through the
// real client, and counts the RPCs each makes per tick: a follower sitting
// out makes one Lookup; a leader's claim is one Lookup (beginning the
// transaction inline) and one Commit.
func TestRPCBudget(t *testing.T) {
	if testing.Short() {
		t.Skip("runs two schedulers for a few seconds of real time")
	}
	emu, err := emulator.Start("127.0.0.1:0", emulator.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer emu.Close()
	timing := schedulers.DefaultTiming()
	timing.FollowerDelay = 100 * time.Millisecond
	every, _ := schedule.Parse("@every 300ms", "")

	const from, to = 3, 13
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var observers []*budgetObserver
	for _, node := range []string{"a", "b"} {
		st, err := dsstore.New(ctx, dsstore.Config{Project: "budget", ClientOptions: emu.ClientOptions()})
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		obs := &budgetObserver{calls: st.Calls(), target: to, enough: make(chan struct{})}
		observers = append(observers, obs)
		s, err := schedulers.New(schedulers.Config{
			Job:  jobs.Job{Name: "budget", Run: func(context.Context) error { return nil }},
			Spec: "@every 300ms", Schedule: every, Store: st, Clock: clock.Real{},
			Identity: schedulers.NewIdentity(node), Timing: timing, Log: zerolog.Nop(), Observer: obs,
		})
		if err != nil {
			t.Fatal(err)
		}
		wg.Go(func() { s.Run(ctx) })
	}
	timeout := time.After(30 * time.Second)
	for _, o := range observers {
		select {
		case <-o.enough:
		case <-timeout:
			t.Fatal("the schedulers did not handle enough ticks within 30s")
		}
	}
	cancel()
	wg.Wait()

	var leader, follower *budgetObserver
	for _, o := range observers {
		if len(o.runs) > to {
			leader = o
		}
		if len(o.sits) > to {
			follower = o
		}
	}
	if leader == nil || follower == nil || leader == follower {
		t.Fatalf("want one node that ran every tick and one that sat out every tick; got %d/%d runs, %d/%d sit-outs",
			len(observers[0].runs), len(observers[1].runs), len(observers[0].sits), len(observers[1].sits))
	}
	ticks := int64(to - from)
	if got, want := diff(leader.runs[from], leader.runs[to]), map[string]int64{"Lookup": ticks, "Commit": ticks}; !maps.Equal(got, want) {
		t.Errorf("leader's RPCs over %d ticks = %v, want %v (2 per claim)", ticks, got, want)
	}
	if got, want := diff(follower.sits[from], follower.sits[to]), map[string]int64{"Lookup": ticks}; !maps.Equal(got, want) {
		t.Errorf("follower's RPCs over %d ticks = %v, want %v (1 per sit-out)", ticks, got, want)
	}
}
