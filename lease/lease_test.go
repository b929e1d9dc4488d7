package lease_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"go-leader-election/lease"
	"go-leader-election/store"
	"go-leader-election/store/memory"
)

const trust = 2.0 / 3

func newLease(t *testing.T, st store.Store, holder string) *lease.Handle {
	t.Helper()
	l, err := lease.New(lease.Config{Store: st, Name: "job", Holder: holder + "/x", Node: holder, Trust: trust, Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func TestNewValidates(t *testing.T) {
	ok := lease.Config{Store: memory.New(), Name: "n", Holder: "h", Trust: 0.5, Timeout: time.Second}
	for name, mutate := range map[string]func(*lease.Config){
		"no store":     func(c *lease.Config) { c.Store = nil },
		"no name":      func(c *lease.Config) { c.Name = "" },
		"no holder":    func(c *lease.Config) { c.Holder = "" },
		"trust 0":      func(c *lease.Config) { c.Trust = 0 },
		"trust 1":      func(c *lease.Config) { c.Trust = 1 },
		"zero timeout": func(c *lease.Config) { c.Timeout = 0 },
	} {
		c := ok
		mutate(&c)
		if _, err := lease.New(c); err == nil {
			t.Errorf("%s: New accepted %+v", name, c)
		}
	}
	if _, err := lease.New(ok); err != nil {
		t.Fatalf("New(%+v): %v", ok, err)
	}
}

// TestWhoHoldsItAndUntilWhen follows one lease from free to mine, held by
// another, lapsed and taken over, on synthetic time.
func TestWhoHoldsItAndUntilWhen(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		st := memory.New()
		a, b := newLease(t, st, "a"), newLease(t, st, "b")
		if got := a.State().Kind; got != lease.Free {
			t.Fatalf("a new lease is %v, want free", got)
		}
		t0 := time.Now()
		tick := t0.Truncate(time.Second).Add(time.Second)
		got, err := a.Claim(ctx, tick, 3*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if got.Kind != lease.Mine || !got.Until.Equal(t0.Add(3*time.Second)) || !got.TrustedUntil.Equal(t0.Add(2*time.Second)) {
			t.Fatalf("after claiming: %+v, want mine until t0+3s, trusted until t0+2s", got)
		}

		time.Sleep(500 * time.Millisecond)
		seen, err := b.Read(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if seen.Kind != lease.Held || seen.Record.Node != "a" || !seen.Until.Equal(time.Now().Add(3*time.Second)) {
			t.Fatalf("b sees %+v, want held by a until its own first sight + 3s", seen)
		}
		if _, err := b.Claim(ctx, tick.Add(time.Second), 3*time.Second); !errors.Is(err, store.ErrHeld) {
			t.Fatalf("b claiming a live lease: %v, want ErrHeld", err)
		}
		time.Sleep(2 * time.Second)
		if _, err := b.Read(ctx); err != nil {
			t.Fatal(err)
		}
		if s := b.State(); s.Lapsed(time.Now()) {
			t.Fatalf("b judged the lease lapsed after 2.5s of a 3s TTL: %+v", s)
		}
		time.Sleep(time.Second) // 3.5s since b first saw the version
		took, err := b.Claim(ctx, tick.Add(time.Second), 3*time.Second)
		if err != nil || took.Kind != lease.Mine || took.Record.Term != 2 {
			t.Fatalf("b taking over after the lapse: %+v, %v; want mine at term 2", took, err)
		}
		if s, err := a.Renew(ctx, 3*time.Second); !errors.Is(err, lease.ErrNotMine) || s.Kind == lease.Mine {
			t.Fatalf("a renewing after its hold expired: %+v, %v; want ErrNotMine", s, err)
		}
		if s, _ := a.Read(ctx); s.Kind != lease.Held || s.Record.Node != "b" {
			t.Fatalf("a sees %+v, want held by b", s)
		}
	})
}

func TestGuardEndsWhenTrustEnds(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		a := newLease(t, memory.New(), "a")
		t0 := time.Now()
		if _, err := a.Claim(ctx, time.Time{}, 3*time.Second); err != nil {
			t.Fatal(err)
		}
		var lostAt time.Time
		guarded, cancel := a.Guard(ctx, func(cause error) error { lostAt = time.Now(); return cause })
		defer cancel(nil)
		time.Sleep(1500 * time.Millisecond)
		if _, err := a.Renew(ctx, 3*time.Second); err != nil { // trusted until t0+1.5s+2s
			t.Fatal(err)
		}
		<-guarded.Done()
		if want := t0.Add(3500 * time.Millisecond); !lostAt.Equal(want) || !time.Now().Equal(want) {
			t.Fatalf("guard fired at %s, want at the renewed trust deadline t0+3.5s", time.Since(t0))
		}
		if cause := context.Cause(guarded); !errors.Is(cause, lease.ErrExpired) {
			t.Fatalf("cause %v, want ErrExpired", cause)
		}
		if s := a.State(); s.Kind == lease.Mine {
			t.Fatalf("after the guard fired the hold is still %v", s.Kind)
		}
	})
}

func TestGuardEndsWhenAnotherHolderIsSeen(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		st := memory.New()
		a, b := newLease(t, st, "a"), newLease(t, st, "b")
		if _, err := a.Claim(ctx, time.Time{}, 3*time.Second); err != nil {
			t.Fatal(err)
		}
		guarded, cancel := a.Guard(ctx, nil)
		defer cancel(nil)
		// b takes over by force (as if it judged a lapsed): a's next
		// renewal is refused and ends the guard at once.
		rec, _ := st.Get(ctx, "job")
		if _, err := st.Claim(ctx, store.ClaimRequest{Job: "job", Holder: "b/x", Node: "b", TTL: time.Second, Now: time.Now(), LapsedVersion: rec.Version}); err != nil {
			t.Fatal(err)
		}
		_ = b
		if _, err := a.Renew(ctx, 3*time.Second); !errors.Is(err, lease.ErrNotHolder) {
			t.Fatalf("renewal after a takeover: %v, want ErrNotHolder", err)
		}
		select {
		case <-guarded.Done():
		default:
			t.Fatal("the guard did not fire on ErrNotHolder")
		}
		if cause := context.Cause(guarded); !errors.Is(cause, lease.ErrNotHolder) {
			t.Fatalf("cause %v, want ErrNotHolder", cause)
		}
	})
}

func TestReleaseFreesAtOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		st := memory.New()
		a, b := newLease(t, st, "a"), newLease(t, st, "b")
		tick := time.Now().Add(time.Second)
		if _, err := a.Claim(ctx, tick, time.Hour); err != nil {
			t.Fatal(err)
		}
		if _, err := b.Read(ctx); err != nil {
			t.Fatal(err)
		}
		if err := a.Release(ctx); err != nil {
			t.Fatal(err)
		}
		if s := a.State(); s.Kind != lease.Free {
			t.Fatalf("after Release a sees %v, want free", s.Kind)
		}
		if s, err := b.Claim(ctx, tick.Add(time.Second), time.Hour); err != nil || s.Record.Term != 2 {
			t.Fatalf("b claiming a released lease: %+v, %v; want term 2 at once", s, err)
		}
	})
}

// lossy applies every Claim but loses the answer of the first n.
type lossy struct {
	store.Store
	lose atomic.Int32
}

var errLost = errors.New("unavailable: answer lost")

func (s *lossy) Claim(ctx context.Context, req store.ClaimRequest) (store.Lease, error) {
	l, err := s.Store.Claim(ctx, req)
	if err == nil && s.lose.Add(-1) >= 0 {
		return store.Lease{}, errLost
	}
	return l, err
}

func TestClaimWhoseAnswerWasLostIsRecognised(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		st := &lossy{Store: memory.New()}
		st.lose.Store(1)
		a := newLease(t, st, "a")
		tick := time.Now().Add(time.Second)
		t0 := time.Now()
		if _, err := a.Claim(ctx, tick, 3*time.Second); !errors.Is(err, errLost) {
			t.Fatalf("first claim: %v, want the lost answer", err)
		}
		time.Sleep(200 * time.Millisecond)
		s, err := a.Claim(ctx, tick, 3*time.Second)
		if err != nil || s.Kind != lease.Mine {
			t.Fatalf("retry of a claim the store applied: %+v, %v; want it recognised as mine", s, err)
		}
		if want := t0.Add(2 * time.Second); !s.TrustedUntil.Equal(want) {
			t.Fatalf("trusted until %s after t0, want 2s: counted from the first attempt", s.TrustedUntil.Sub(t0))
		}
		// Another node's claim of the same tick is not mistaken for ours.
		b := newLease(t, st, "b")
		if _, err := b.Claim(ctx, tick, 3*time.Second); !errors.Is(err, store.ErrTickTaken) {
			t.Fatalf("b claiming a's tick: %v, want ErrTickTaken", err)
		}
	})
}
