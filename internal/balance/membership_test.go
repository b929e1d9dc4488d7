package balance

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/rs/zerolog"

	"go-leader-election/store"
	"go-leader-election/store/memory"
)

var errInjected = errors.New("injected store failure")

// flakyMembers is a member registry with a bad record in its lists, and a
// switch that makes listing fail.
type flakyMembers struct {
	store.Members
	mu       sync.Mutex
	listFail bool
}

func (f *flakyMembers) ListMembers(ctx context.Context) ([]store.Member, []error, error) {
	f.mu.Lock()
	fail := f.listFail
	f.mu.Unlock()
	if fail {
		return nil, nil, errInjected
	}
	ms, bad, err := f.Members.ListMembers(ctx)
	return ms, append(bad, errors.Join(store.ErrBadMember, errors.New("member ghost/1: property Version holds a string"))), err
}

func TestMembershipIgnoresBadRecordsAndPausesWhenTheStoreIsDown(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		st := memory.New()
		reg := &flakyMembers{Members: st}
		var log strings.Builder // written only by the rounds, which this goroutine makes
		jobs := []string{"a", "b", "c", "d"}
		newM := func(node string) *Membership {
			m, err := NewMembership(MembershipConfig{Store: reg, Self: Candidate{ID: node + "/1", Node: node}, Jobs: jobs,
				Period: time.Second, Log: zerolog.New(&log)})
			if err != nil {
				t.Fatal(err)
			}
			return m
		}
		x, y := newM("x"), newM("y")
		ctx := context.Background()
		for range 3 { // 3 periods: each sees the other stably
			x.round(ctx)
			y.round(ctx)
			time.Sleep(time.Second)
		}
		x.round(ctx)
		if got := strings.Count(log.String(), `"message":"Member record ignored"`); got != 2 {
			t.Errorf("%d Member record ignored events over 7 rounds of 2 nodes, want one per node", got)
		}
		mine := 0
		for _, j := range jobs {
			to, ok := x.Preferred(j)
			if !ok {
				t.Fatalf("x has no opinion on %s with both members seen", j)
			}
			if to.ID == x.cfg.Self.ID {
				mine++
			}
		}
		if mine != 2 {
			t.Errorf("x is preferred for %d of 4 jobs, want its share of 2", mine)
		}

		// y stops renewing: x sees it lapse after its TTL (3 periods).
		for range 4 {
			time.Sleep(time.Second)
			x.round(ctx)
		}
		if !strings.Contains(log.String(), `"reason":"lapsed"`) {
			t.Errorf("no Member left (lapsed) event for y:\n%s", log.String())
		}
		for _, j := range jobs {
			if to, _ := x.Preferred(j); to.ID != x.cfg.Self.ID {
				t.Errorf("after y lapsed, %s is preferred on %s, want x", j, to.Node)
			}
		}

		// The store stops answering: balance pauses once the view is older
		// than a record's TTL.
		reg.mu.Lock()
		reg.listFail = true
		reg.mu.Unlock()
		for range 4 {
			time.Sleep(time.Second)
			x.round(ctx)
		}
		if _, ok := x.Preferred("a"); ok {
			t.Error("balance still has an opinion with the members unread for 4s (TTL 3s)")
		}
	})
}

// hangingDeletes is a member registry whose DeleteMember answers only when
// its context ends, and reports how long that took.
type hangingDeletes struct {
	store.Members
	waited chan time.Duration
}

func (h hangingDeletes) DeleteMember(ctx context.Context, _ string) error {
	start := time.Now()
	<-ctx.Done()
	h.waited <- time.Since(start)
	return ctx.Err()
}

// TestMembershipBoundsTheDeleteOfADeadRecord: a record lapsed for 10 TTLs
// is deleted by whoever sees it, and that delete, made off the round's
// goroutine, is bounded by the store timeout like every other call.
func TestMembershipBoundsTheDeleteOfADeadRecord(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		reg := hangingDeletes{Members: memory.New(), waited: make(chan time.Duration, 100)}
		const timeout = 300 * time.Millisecond
		newM := func(node string) *Membership {
			m, err := NewMembership(MembershipConfig{Store: reg, Self: Candidate{ID: node + "/1", Node: node},
				Jobs: []string{"a"}, Period: time.Second, Timeout: timeout, Log: zerolog.Nop()})
			if err != nil {
				t.Fatal(err)
			}
			return m
		}
		x, y := newM("x"), newM("y")
		ctx := context.Background()
		y.round(ctx)
		x.round(ctx)
		// y is gone: x rounds on until y's record has lapsed for 10 TTLs.
		for range 3 + 10*3 + 2 {
			time.Sleep(time.Second)
			x.round(ctx)
		}
		time.Sleep(timeout) // the last round's delete ends, if bounded
		synctest.Wait()
		if len(reg.waited) == 0 {
			t.Fatal("no delete of a record lapsed for 10 TTLs")
		}
		for len(reg.waited) > 0 {
			if d := <-reg.waited; d != timeout {
				t.Errorf("a delete of the dead record waited %s, want the store timeout %s", d, timeout)
			}
		}
	})
}
