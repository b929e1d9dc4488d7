package lease_test

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"go-leader-election/lease"
	"go-leader-election/store/memory"
)

// TestObserverJudgesLapseFromFirstSight: an Observer judges another
// process's hold as a Handle does: held until the TTL after it first saw the
// Version, whoever read it; a new Version restarts the wait, an older read
// answered late changes nothing, a release frees it at once.
func TestObserverJudgesLapseFromFirstSight(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		st := memory.New()
		a := newLease(t, st, "a")
		o := lease.NewObserver(nil)
		if got := o.State(); got.Kind != lease.Free {
			t.Fatalf("an Observer that saw nothing: %v, want free", got.Kind)
		}
		if _, err := a.Claim(ctx, time.Time{}, 3*time.Second); err != nil {
			t.Fatal(err)
		}
		first, _ := st.Get(ctx, "job")
		time.Sleep(500 * time.Millisecond)
		t0 := time.Now()
		if got := o.Observe(first); got.Kind != lease.Held || !got.Until.Equal(t0.Add(3*time.Second)) {
			t.Fatalf("first sight: %+v, want held until first sight + 3s", got)
		}
		time.Sleep(1900 * time.Millisecond)
		if got := o.Observe(first); got.Lapsed(time.Now()) || !got.Until.Equal(t0.Add(3*time.Second)) {
			t.Fatalf("the same Version again after 1.9s: %+v, want held, the wait not restarted", got)
		}
		if _, err := a.Renew(ctx, 3*time.Second); err != nil {
			t.Fatal(err)
		}
		renewed, _ := st.Get(ctx, "job")
		t1 := time.Now()
		o.Observe(renewed)
		time.Sleep(time.Second)
		if got := o.Observe(first); got.Record.Version != renewed.Version || !got.Until.Equal(t1.Add(3*time.Second)) {
			t.Fatalf("an older read answered late: %+v, want it ignored", got)
		}
		time.Sleep(2 * time.Second)
		if got := o.State(); !got.Lapsed(time.Now()) {
			t.Fatalf("3s after first sight of the renewal: %+v, want lapsed", got)
		}
		if err := a.Release(ctx); err != nil {
			t.Fatal(err)
		}
		released, _ := st.Get(ctx, "job")
		if got := o.Observe(released); got.Kind != lease.Free {
			t.Fatalf("after the release: %v, want free", got.Kind)
		}
	})
}
