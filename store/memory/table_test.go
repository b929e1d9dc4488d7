package memory

import (
	"testing"
	"time"

	"go-leader-election/store"
)

// TestTableKeepsEveryField: records read back as written (an expiry as the
// same instant, in UTC when written in UTC; ticks and far times exactly);
// holder and node strings are shared while named, and forgotten after.
func TestTableKeepsEveryField(t *testing.T) {
	tb := newTable()
	now := time.Now()
	for _, l := range []store.Lease{
		{Job: "a", Holder: "n1/x", Node: "n1", Term: 3, Tick: now.UTC().Truncate(time.Second), TTL: 1500 * time.Millisecond, Expires: now.Add(time.Second), Version: 7, Paused: true},
		{Job: "b", Term: 1, Version: 2},
		{Job: "d", Holder: "\x1fs", Node: "n1", TTL: time.Hour, Expires: now.Add(time.Hour), Version: 1},
		{Job: "c", Holder: "n1/x", Node: "n1", Tick: time.Date(1, 1, 1, 0, 0, 1, 0, time.UTC), Expires: time.Date(9999, 1, 1, 0, 0, 0, 5, time.UTC), Version: 1},
	} {
		tb.put(l.Job, l)
		got, ok := tb.get(l.Job)
		if !ok || got.Job != l.Job || got.Holder != l.Holder || got.Node != l.Node || got.Term != l.Term ||
			got.TTL != l.TTL || got.Version != l.Version || got.Paused != l.Paused ||
			!got.Tick.Equal(l.Tick) || !got.Expires.Equal(l.Expires) || got.Tick.Location() != l.Tick.Location() {
			t.Errorf("put %+v, got %+v", l, got)
		}
	}
	if n := tb.strs.refs[tb.strs.ids["n1/x"]]; n != 2 {
		t.Errorf("holder n1/x counted %d times, want 2", n)
	}
	tb.put("a", store.Lease{Job: "a", Holder: "n2/x", Node: "n2", Version: 8})
	tb.put("c", store.Lease{Job: "c", Version: 2})
	tb.put("d", store.Lease{Job: "d", Version: 2})
	if _, kept := tb.strs.ids["n1/x"]; kept || len(tb.times) != 0 {
		t.Errorf("n1/x still interned (%v) or side times kept (%v) after no record names them", kept, tb.times)
	}
	if got, _ := tb.get("a"); got.Holder != "n2/x" || got.Node != "n2" || got.Paused {
		t.Errorf("after the rewrite: %+v", got)
	}
	if _, ok := tb.get("z"); ok {
		t.Error("a record never written was found")
	}
}
