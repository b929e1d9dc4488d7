package lease_test

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"go-leader-election/lease"
	"go-leader-election/store"
	"go-leader-election/store/memory"
)

// TestRenewTermOnBehalfOfAHolder: a second Handle for the same holder (a
// second lease server) renews and releases a hold it did not write, under
// the holder's term, and a wrong term is refused.
func TestRenewTermOnBehalfOfAHolder(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		st := memory.New()
		first, second := newLease(t, st, "a"), newLease(t, st, "a")
		got, err := first.Claim(ctx, time.Time{}, 3*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		term := got.Record.Term
		if _, err := second.Renew(ctx, 3*time.Second); !errors.Is(err, lease.ErrNotMine) {
			t.Fatalf("Renew by a Handle that never wrote: %v, want ErrNotMine", err)
		}
		t0 := time.Now()
		s, err := second.RenewTerm(ctx, term, 3*time.Second)
		if err != nil || s.Kind != lease.Mine || s.Record.Term != term || !s.TrustedUntil.Equal(t0.Add(2*time.Second)) {
			t.Fatalf("RenewTerm: %+v, %v; want mine under term %d, trusted for 2s", s, err, term)
		}
		if s, err := second.RenewTerm(ctx, term+1, 3*time.Second); !errors.Is(err, store.ErrNotHolder) || s.Record.Term != term {
			t.Fatalf("RenewTerm with a wrong term: %+v, %v; want ErrNotHolder and the record", s, err)
		}
		if err := second.ReleaseTerm(ctx, term+1); !errors.Is(err, store.ErrNotHolder) {
			t.Fatalf("ReleaseTerm with a wrong term: %v, want ErrNotHolder", err)
		}
		if err := second.ReleaseTerm(ctx, term); err != nil {
			t.Fatal(err)
		}
		if s := second.State(); s.Kind != lease.Free {
			t.Fatalf("after ReleaseTerm: %v, want free", s.Kind)
		}
		b := newLease(t, st, "b")
		if s, err := b.Claim(ctx, time.Time{}, time.Second); err != nil || s.Record.Term != term+1 {
			t.Fatalf("b claiming the released lease: %+v, %v; want term %d at once", s, err, term+1)
		}
		if _, err := first.RenewTerm(ctx, term, time.Second); !errors.Is(err, store.ErrNotHolder) {
			t.Fatalf("the old holder renewing after b took over: %v, want ErrNotHolder", err)
		}
		if s := first.State(); s.Kind != lease.Held || s.Record.Node != "b" {
			t.Fatalf("the old holder sees %+v, want held by b", s)
		}
	})
}
