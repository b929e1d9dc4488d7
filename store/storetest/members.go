package storetest

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"go-leader-election/store"
)

// RunMembers runs the member registry's conformance tests. newStore returns
// a store; the suite uses IDs of its own per test, and reads only those.
func RunMembers(t *testing.T, newStore func(t *testing.T) store.Members) {
	ctx := context.Background()
	id := func(t *testing.T, n string) string {
		return fmt.Sprintf("%s-%d/%s", t.Name(), time.Now().UnixNano(), n)
	}
	mine := func(t *testing.T, s store.Members, ids ...string) map[string]store.Member {
		t.Helper()
		all, bad, err := s.ListMembers(ctx)
		if err != nil {
			t.Fatalf("ListMembers: %v", err)
		}
		if len(bad) > 0 {
			t.Fatalf("ListMembers reported bad records: %v", bad)
		}
		want := map[string]bool{}
		for _, i := range ids {
			want[i] = true
		}
		got := map[string]store.Member{}
		for i, m := range all {
			if i > 0 && all[i-1].ID >= m.ID {
				t.Fatalf("ListMembers not in ID order: %q before %q", all[i-1].ID, m.ID)
			}
			if want[m.ID] {
				got[m.ID] = m
			}
		}
		return got
	}
	t.Run("PutListDelete", func(t *testing.T) {
		s := newStore(t)
		a, b := id(t, "a"), id(t, "b")
		started := base.Add(-time.Minute)
		wa, err := s.PutMember(ctx, store.Member{ID: a, Node: "a", Started: started, Renewed: base, TTL: 6 * time.Second, ClockOffset: 700 * time.Millisecond})
		if err != nil || wa.Version != 1 {
			t.Fatalf("first PutMember: %+v, %v; want version 1", wa, err)
		}
		wa2, err := s.PutMember(ctx, store.Member{ID: a, Node: "a", Started: started, Renewed: base.Add(2 * time.Second), TTL: 6 * time.Second})
		if err != nil || wa2.Version != 2 {
			t.Fatalf("second PutMember: %+v, %v; want version 2", wa2, err)
		}
		jobs := []string{"backup", "report_daily"}
		if _, err := s.PutMember(ctx, store.Member{ID: b, Node: "b", Started: base, Renewed: base, TTL: time.Second,
			JobSet: "9f86d081", Jobs: jobs}); err != nil {
			t.Fatal(err)
		}
		got := mine(t, s, a, b)
		if len(got) != 2 {
			t.Fatalf("ListMembers has %d of the 2 members written: %+v", len(got), got)
		}
		m := got[a]
		if m.Node != "a" || !m.Started.Equal(started) || !m.Renewed.Equal(base.Add(2*time.Second)) || m.TTL != 6*time.Second || m.Version != 2 || m.ClockOffset != 0 {
			t.Fatalf("listed %+v, want the second write of a", m)
		}
		if mb := got[b]; mb.JobSet != "9f86d081" || !slices.Equal(mb.Jobs, jobs) || m.JobSet != "" || len(m.Jobs) != 0 {
			t.Fatalf("listed job sets %q %q and %q %q, want b's as written and none for a", mb.JobSet, mb.Jobs, m.JobSet, m.Jobs)
		}
		if err := s.DeleteMember(ctx, a); err != nil {
			t.Fatal(err)
		}
		if err := s.DeleteMember(ctx, a); err != nil {
			t.Fatalf("deleting a record already gone: %v", err)
		}
		if got := mine(t, s, a, b); len(got) != 1 || got[b].Node != "b" {
			t.Fatalf("after deleting a: %+v, want only b", got)
		}
		again, err := s.PutMember(ctx, store.Member{ID: a, Node: "a", Renewed: base, TTL: time.Second})
		if err != nil || again.Version != 1 {
			t.Fatalf("a record written again after its deletion: %+v, %v; want version 1", again, err)
		}
	})
}
