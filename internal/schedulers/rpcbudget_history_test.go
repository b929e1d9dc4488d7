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

// TestRPCBudgetWithHistory is TestRPCBudget with the run history on: the
// leader's runs each cost one more transaction (a Lookup and a Commit),
// written after the run, off its path; a follower's tick costs what it did.
func TestRPCBudgetWithHistory(t *testing.T) {
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
		st, err := dsstore.New(ctx, dsstore.Config{Project: "budget-history", ClientOptions: emu.ClientOptions()})
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		obs := &budgetObserver{calls: st.Calls(), target: to, enough: make(chan struct{})}
		observers = append(observers, obs)
		h, err := schedulers.NewHistory(schedulers.HistoryConfig{Store: st, Log: zerolog.Nop()})
		if err != nil {
			t.Fatal(err)
		}
		s, err := schedulers.New(schedulers.Config{
			Job:  jobs.Job{Name: "budget", Run: func(context.Context) error { return nil }},
			Spec: "@every 300ms", Schedule: every, Store: st, Clock: clock.Real{},
			Identity: schedulers.NewIdentity(node), Timing: timing, Log: zerolog.Nop(), Observer: obs,
			History: h, Control: st,
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
		t.Fatalf("want one node that ran every tick and one that sat out every tick")
	}
	ticks := int64(to - from)
	got := diff(leader.runs[from], leader.runs[to])
	if want := map[string]int64{"Lookup": 2 * ticks, "Commit": 2 * ticks}; !maps.Equal(got, want) {
		t.Errorf("leader's RPCs over %d ticks = %v, want %v (a claim and a history append per run)", ticks, got, want)
	}
	if got, want := diff(follower.sits[from], follower.sits[to]), map[string]int64{"Lookup": ticks}; !maps.Equal(got, want) {
		t.Errorf("follower's RPCs over %d ticks = %v, want %v (1 per sit-out, as without history)", ticks, got, want)
	}
	t.Logf("leader over %d runs: %v; follower over %d ticks: %v", ticks, got, ticks, diff(follower.sits[from], follower.sits[to]))
}
