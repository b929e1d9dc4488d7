package balance

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/rs/zerolog"

	"go-leader-election/store/memory"
)

// TestJobSetsThatDiffer: three members, two with jobs a-f, one with a-c
// and g (a rolling deploy): each job is preferred only on a member that
// runs it, every member publishes its names while the sets differ, and
// "Job sets differ" is logged once per member per change.
func TestJobSetsThatDiffer(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		st := memory.New()
		var log strings.Builder // the rounds run on the test's goroutine
		full := []string{"a", "b", "c", "d", "e", "f"}
		other := []string{"a", "b", "c", "g"}
		newM := func(node string, jobs []string, set string) *Membership {
			m, err := NewMembership(MembershipConfig{Store: st, Self: Candidate{ID: node + "/1", Node: node}, Jobs: jobs,
				JobSet: set, Period: time.Second, Log: zerolog.New(&log)})
			if err != nil {
				t.Fatal(err)
			}
			return m
		}
		ms := []*Membership{newM("x", full, "set-full"), newM("y", full, "set-full"), newM("z", other, "set-other")}
		rounds := func(n int) {
			for range n {
				for _, m := range ms {
					m.round(context.Background())
				}
				time.Sleep(time.Second)
			}
		}
		rounds(4)
		has := map[string][]string{"x": full, "y": full, "z": other}
		for _, m := range ms {
			for _, job := range m.jobs {
				c, ok := m.Preferred(job)
				if !ok {
					t.Errorf("%s: no preferred member for %s", m.cfg.Self.Node, job)
					continue
				}
				if !slices.Contains(has[c.Node], job) {
					t.Errorf("%s prefers %s for %s, which it does not run", m.cfg.Self.Node, c.Node, job)
				}
			}
		}
		if c, _ := ms[2].Preferred("g"); c.Node != "z" {
			t.Errorf("g, only on z, is preferred on %q", c.Node)
		}
		if got := strings.Count(log.String(), `"message":"Job sets differ"`); got != 3 {
			t.Errorf("%d Job sets differ events, want one per member", got)
		}
		list, _, _ := st.ListMembers(context.Background())
		for _, rec := range list {
			if rec.JobSet == "" || len(rec.Jobs) == 0 {
				t.Errorf("%s's record %q %v: want its job set and names while sets differ", rec.Node, rec.JobSet, rec.Jobs)
			}
		}

		// z is upgraded: the sets agree again, names are no longer written.
		ms[2].SetJobs(full, "set-full")
		rounds(3) // a member writes, then reads: the last to hear stops publishing a round later
		if got := strings.Count(log.String(), `"message":"Job sets agree"`); got != 3 {
			t.Errorf("%d Job sets agree events, want one per member", got)
		}
		list, _, _ = st.ListMembers(context.Background())
		for _, rec := range list {
			if len(rec.Jobs) != 0 {
				t.Errorf("%s still publishes %v with the sets agreeing", rec.Node, rec.Jobs)
			}
		}
		spread := map[string]int{}
		for _, job := range full {
			c, _ := ms[0].Preferred(job)
			spread[c.Node]++
		}
		if len(spread) != 3 {
			t.Errorf("once the sets agree the jobs go to %v, want all three members", fmt.Sprint(spread))
		}
	})
}
