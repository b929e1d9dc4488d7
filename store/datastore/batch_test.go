package datastore_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	cds "cloud.google.com/go/datastore"

	"go-leader-election/emulator"
	"go-leader-election/store"
	dsstore "go-leader-election/store/datastore"
)

// Claims and reads of many jobs made at the same moment, as at a tick
// shared by many jobs, go in a few multi-key RPCs, and each job still gets
// exactly the answer the rules give it.
func TestConcurrentCallsAreBatched(t *testing.T) {
	s := newStore(t, dsstore.Config{Namespace: "batch"})
	ctx := context.Background()
	const n = 200
	prefix := jobName("batch")
	job := func(i int) string { return fmt.Sprintf("%s-%03d", prefix, i) }

	// Job 0 is held by another node, job 1 has a bad entity: the batch
	// refuses or fails those two alone.
	if _, err := s.Claim(ctx, claimReq(job(0), "other", 1, 0)); err != nil {
		t.Fatal(err)
	}
	raw := rawClient(t)
	bad := cds.PropertyList{{Name: "Term", Value: "seven"}}
	key := cds.NameKey(dsstore.DefaultKind, job(1), nil)
	key.Namespace = "batch"
	if _, err := raw.Put(ctx, key, &bad); err != nil {
		t.Fatal(err)
	}

	all := func(f func(i int) error) []error {
		errs := make([]error, n)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range n {
			wg.Go(func() { <-start; errs[i] = f(i) })
		}
		close(start)
		wg.Wait()
		return errs
	}
	before := s.Calls().Total()
	errs := all(func(i int) error {
		l, err := s.Claim(ctx, claimReq(job(i), "me", 2, 0))
		if err == nil && (l.Holder != "me/x" || l.Term != 1) {
			return fmt.Errorf("claimed %+v", l)
		}
		return err
	})
	claimRPCs := s.Calls().Total() - before
	for i, err := range errs {
		switch {
		case i == 0 && !errors.Is(err, store.ErrHeld):
			t.Errorf("claim of the held job: %v, want ErrHeld", err)
		case i == 1 && !errors.Is(err, dsstore.ErrBadEntity):
			t.Errorf("claim of the bad entity: %v, want ErrBadEntity", err)
		case i > 1 && err != nil:
			t.Errorf("claim of %s: %v", job(i), err)
		}
	}
	before = s.Calls().Total()
	errs = all(func(i int) error {
		l, err := s.Get(ctx, job(i))
		if err == nil && i > 1 && l.Holder != "me/x" {
			return fmt.Errorf("read %+v", l)
		}
		return err
	})
	getRPCs := s.Calls().Total() - before
	for i, err := range errs {
		if (i == 1) != (err != nil) {
			t.Errorf("get of %s: %v", job(i), err)
		}
	}
	before = s.Calls().Total()
	errs = all(func(i int) error {
		l, err := s.Renew(ctx, store.RenewRequest{Job: job(i), Holder: "me/x", Term: 1, TTL: time.Minute, Now: base})
		if err == nil && (l.TTL != time.Minute || l.Version != 2) {
			return fmt.Errorf("renewed %+v", l)
		}
		return err
	})
	renewRPCs := s.Calls().Total() - before
	for i, err := range errs {
		switch {
		case i == 0 && !errors.Is(err, store.ErrNotHolder):
			t.Errorf("renewal of another's lease: %v, want ErrNotHolder", err)
		case i == 1 && !errors.Is(err, dsstore.ErrBadEntity):
			t.Errorf("renewal of the bad entity: %v, want ErrBadEntity", err)
		case i > 1 && err != nil:
			t.Errorf("renewal of %s: %v", job(i), err)
		}
	}
	t.Logf("%d concurrent claims: %d RPCs; %d concurrent reads: %d RPCs; %d concurrent renewals: %d RPCs", n, claimRPCs, n, getRPCs, n, renewRPCs)
	if claimRPCs > n/4 || getRPCs > n/4 || renewRPCs > n/4 {
		t.Errorf("%d RPCs for %d claims, %d for %d reads, %d for %d renewals: want them batched", claimRPCs, n, getRPCs, n, renewRPCs, n)
	}
}

// Bursts of reads, claims and renewals past Datastore's limits of 1,000 keys per
// Lookup and 500 mutations per Commit, which the emulator enforces, are
// split into RPCs within them. The first RPC of each burst is held 100ms so
// that the rest queue up behind it, past the limits.
func TestBatchesStayWithinLimits(t *testing.T) {
	s := newStore(t, dsstore.Config{Namespace: "limits"})
	ctx := context.Background()
	prefix := jobName("limits")
	burst := func(n int, f func(job string) error) (rpcs int64) {
		setFault(t, emulator.Fault{Method: "*", Latency: 100 * time.Millisecond, Count: 1})
		before := s.Calls().Total()
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() { errs[i] = f(fmt.Sprintf("%s-%04d", prefix, i)) })
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Fatalf("call %d of %d: %v", i, n, err)
			}
		}
		return s.Calls().Total() - before
	}
	claims := 2*emulator.MaxCommitMutations + 100
	claimRPCs := burst(claims, func(job string) error {
		_, err := s.Claim(ctx, claimReq(job, "me", 1, 0))
		return err
	})
	renewRPCs := burst(claims, func(job string) error {
		_, err := s.Renew(ctx, store.RenewRequest{Job: job, Holder: "me/x", Term: 1, TTL: time.Minute, Now: base})
		return err
	})
	gets := 2*emulator.MaxLookupKeys + 100
	getRPCs := burst(gets, func(job string) error {
		_, err := s.Get(ctx, job)
		if errors.Is(err, store.ErrNotFound) {
			return nil // jobs past the claimed ones
		}
		return err
	})
	t.Logf("%d concurrent claims: %d RPCs; %d concurrent renewals: %d RPCs; %d concurrent reads: %d RPCs", claims, claimRPCs, claims, renewRPCs, gets, getRPCs)
}
