package datastore_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"sync"
	"testing"
	"time"

	cds "cloud.google.com/go/datastore"

	"go-leader-election/store"
	dsstore "go-leader-election/store/datastore"
)

func runRec(job string, n int, result string) store.RunRecord {
	at := base.Add(time.Duration(n) * time.Second)
	return store.RunRecord{Job: job, Tick: at, Term: 1, Node: "a", Start: at, Duration: time.Second, Result: result}
}

// TestHistoryAndControlRPCBudget: what the history and the actions cost.
func TestHistoryAndControlRPCBudget(t *testing.T) {
	s := newStore(t, dsstore.Config{Namespace: "hbudget"})
	ctx := context.Background()
	job := jobName("hbudget")
	steps := []struct {
		name string
		fn   func() error
		want map[string]int64
	}{
		{"Runs of a job with no history", func() error { _, err := s.Runs(ctx, job, 10); return err }, map[string]int64{"Lookup": 1}},
		{"AppendRun", func() error { return s.AppendRun(ctx, runRec(job, 1, store.ResultOK)) }, map[string]int64{"Lookup": 1, "Commit": 1}},
		{"AppendRun of a lost run already recorded", func() error { return s.AppendRun(ctx, runRec(job, 1, store.ResultLost)) },
			map[string]int64{"Lookup": 1, "Commit": 1}},
		{"Runs", func() error {
			runs, err := s.Runs(ctx, job, 50)
			if err == nil && len(runs) != 1 {
				err = fmt.Errorf("%d runs, want 1", len(runs))
			}
			return err
		}, map[string]int64{"Lookup": 1}},
		{"SetPaused", func() error { _, err := s.SetPaused(ctx, job, true); return err }, map[string]int64{"Lookup": 1, "Commit": 1}},
		{"refused ClaimManual", func() error {
			if _, err := s.ClaimManual(ctx, claimReq(job, "a", 2, 0)); !errors.Is(err, store.ErrPaused) {
				return fmt.Errorf("got %v, want ErrPaused", err)
			}
			return nil
		}, map[string]int64{"Lookup": 1, "Rollback": 1}},
		{"resume", func() error { _, err := s.SetPaused(ctx, job, false); return err }, map[string]int64{"Lookup": 1, "Commit": 1}},
		{"ClaimManual", func() error { _, err := s.ClaimManual(ctx, claimReq(job, "a", 2, 0)); return err },
			map[string]int64{"Lookup": 1, "Commit": 1}},
	}
	for _, st := range steps {
		var err error
		got := rpcs(t, s, func() { err = st.fn() })
		if err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		if !maps.Equal(got, st.want) {
			t.Errorf("%s made RPCs %v, want %v", st.name, got, st.want)
		}
		t.Logf("%s: %v", st.name, got)
	}
}

// TestHistoryAppendsAreBatched: the appends of many jobs made at the same
// moment (a node whose runs of a shared tick end together) share
// transactions.
func TestHistoryAppendsAreBatched(t *testing.T) {
	s := newStore(t, dsstore.Config{Namespace: "hbatch"})
	ctx := context.Background()
	const n = 200
	prefix := jobName("hbatch")
	before := s.Calls().Total()
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			if err := s.AppendRun(ctx, runRec(fmt.Sprintf("%s-%03d", prefix, i), 1, store.ResultOK)); err != nil {
				t.Errorf("append %d: %v", i, err)
			}
		})
	}
	close(start)
	wg.Wait()
	rpcCount := s.Calls().Total() - before
	t.Logf("%d concurrent appends of distinct jobs: %d RPCs", n, rpcCount)
	if rpcCount > 12 {
		t.Errorf("%d concurrent appends made %d RPCs, want them batched (at most 12)", n, rpcCount)
	}
	for i := range n {
		runs, err := s.Runs(ctx, fmt.Sprintf("%s-%03d", prefix, i), 10)
		if err != nil || len(runs) != 1 {
			t.Fatalf("job %d: %v, %v; want its one run", i, runs, err)
		}
	}
}

// TestHistoryEntities: the layout documented in history.go, seen by a plain
// client; and the pause flag is a property of the lease entity.
func TestHistoryEntities(t *testing.T) {
	ctx := context.Background()
	raw := rawClient(t)
	s := newStore(t, dsstore.Config{Namespace: "hlayout", HistoryLimit: 3})
	job := jobName("hlayout")
	for n := 1; n <= 5; n++ {
		if err := s.AppendRun(ctx, runRec(job, n, store.ResultOK)); err != nil {
			t.Fatal(err)
		}
	}
	logKey := cds.NameKey("RunLog", job, nil)
	logKey.Namespace = "hlayout"
	var log cds.PropertyList
	if err := raw.Get(ctx, logKey, &log); err != nil {
		t.Fatalf("the RunLog entity: %v", err)
	}
	q := cds.NewQuery("Run").Ancestor(logKey).Namespace("hlayout")
	var recs []cds.PropertyList
	keys, err := raw.GetAll(ctx, q, &recs)
	if err != nil {
		t.Fatal(err)
	}
	var ids []int64
	for _, k := range keys {
		ids = append(ids, k.ID)
	}
	if len(keys) != 3 || ids[0] != 1 || ids[2] != 3 {
		t.Fatalf("Run entities under the log: ids %v, want exactly 1, 2, 3 (a ring of the limit)", ids)
	}

	if _, err := s.SetPaused(ctx, job, true); err != nil {
		t.Fatal(err)
	}
	leaseKey := cds.NameKey(dsstore.DefaultKind, job, nil)
	leaseKey.Namespace = "hlayout"
	var lease cds.PropertyList
	if err := raw.Get(ctx, leaseKey, &lease); err != nil {
		t.Fatal(err)
	}
	paused := false
	for _, p := range lease {
		if p.Name == "Paused" {
			paused, _ = p.Value.(bool)
		}
	}
	if !paused {
		t.Fatalf("lease entity after SetPaused: %v, want Paused true", lease)
	}
}

// TestHistoryLimitChange: a deployment that keeps fewer runs than the one
// before reads only records it would have kept itself.
func TestHistoryLimitChange(t *testing.T) {
	ctx := context.Background()
	wide := newStore(t, dsstore.Config{Namespace: "hlimit", HistoryLimit: 5})
	narrow := newStore(t, dsstore.Config{Namespace: "hlimit", HistoryLimit: 3})
	job := jobName("hlimit")
	for n := 1; n <= 8; n++ {
		if err := wide.AppendRun(ctx, runRec(job, n, store.ResultOK)); err != nil {
			t.Fatal(err)
		}
	}
	runs, err := narrow.Runs(ctx, job, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 3 || !runs[0].Tick.Equal(base.Add(8*time.Second)) || !runs[2].Tick.Equal(base.Add(6*time.Second)) {
		t.Fatalf("read with a limit of 3 after 8 appends with 5: %+v, want ticks 8, 7, 6", runs)
	}
	if _, err := dsstore.New(ctx, dsstore.Config{Project: project, HistoryLimit: store.MaxHistoryLimit + 1}); err == nil {
		t.Fatalf("New accepted a history limit above %d", store.MaxHistoryLimit)
	}
}
