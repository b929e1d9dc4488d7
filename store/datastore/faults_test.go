package datastore_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"go-leader-election/emulator"
	"go-leader-election/store"
	dsstore "go-leader-election/store/datastore"
)

// These tests change the emulator's fault rules, which apply to every
// client; no test in this package runs in parallel with another.

func setFault(t *testing.T, f emulator.Fault) {
	t.Helper()
	if err := f.Validate(); err != nil {
		t.Fatal(err)
	}
	emu.Faults().Set(f)
	t.Cleanup(emu.Faults().Clear)
}

// TestHungStore: a store that answers after twice the timeout makes every
// call fail with a deadline error instead of holding the caller.
func TestHungStore(t *testing.T) {
	const timeout = 200 * time.Millisecond
	ctx := context.Background()
	s := newStore(t, dsstore.Config{Namespace: "hung", Timeout: timeout})
	job := jobName("hung")

	cases := []struct {
		method string
		call   func() error
	}{
		{"Lookup", func() error { _, err := s.Get(ctx, job); return err }},
		{"Lookup", func() error { _, err := s.Claim(ctx, claimReq(job, "a", 1, 0)); return err }},
		{"Commit", func() error { _, err := s.Claim(ctx, claimReq(job, "a", 1, 0)); return err }},
		{"Lookup", func() error { return s.Ping(ctx) }},
	}
	for i, c := range cases {
		setFault(t, emulator.Fault{Method: c.method, Latency: 2 * timeout})
		start := time.Now()
		err := c.call()
		emu.Faults().Clear()
		if err == nil {
			t.Fatalf("case %d: call with %s hung for %v succeeded", i, c.method, 2*timeout)
		}
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("case %d: error %v does not match context.DeadlineExceeded", i, err)
		}
		t.Logf("case %d (%s hung): %v after %v", i, c.method, err, time.Since(start).Round(time.Millisecond))
	}
	// The store works again once the server does. The hung Commit may or may
	// not have been applied: a claim of a later tick works either way.
	if _, err := s.Claim(ctx, claimReq(job, "a", 2, 0)); err != nil {
		t.Fatalf("Claim after the store recovered: %v", err)
	}
}

// TestContention: a transaction the server keeps aborting gives up with an
// error matching ErrContention; one aborted once is retried and succeeds.
func TestContention(t *testing.T) {
	ctx := context.Background()
	s := newStore(t, dsstore.Config{Namespace: "contention"})
	job := jobName("contention")

	setFault(t, emulator.Fault{Method: "Commit", Code: codes.Aborted})
	_, err := s.Claim(ctx, claimReq(job, "a", 1, 0))
	if !errors.Is(err, dsstore.ErrContention) || !strings.Contains(err.Error(), job) {
		t.Fatalf("Claim always aborted: error %v, want one matching ErrContention naming the job", err)
	}
	t.Logf("always aborted: %v", err)
	emu.Faults().Clear()
	if _, err := s.Get(ctx, job); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Get after the failed claim: %v, want ErrNotFound", err)
	}

	setFault(t, emulator.Fault{Method: "Commit", Code: codes.Aborted, Count: 1})
	var got store.Lease
	calls := rpcs(t, s, func() { got, err = s.Claim(ctx, claimReq(job, "a", 1, 0)) })
	if err != nil {
		t.Fatalf("Claim aborted once: %v", err)
	}
	if got.Version != 1 || got.Term != 1 {
		t.Errorf("Claim aborted once = %+v, want term 1, version 1", got)
	}
	t.Logf("aborted once: RPCs %v", calls)
	if calls["Commit"] != 2 || calls["Lookup"] != 2 || calls["BeginTransaction"] != 0 {
		t.Errorf("Claim aborted once made RPCs %v, want 2 Lookups and 2 Commits", calls)
	}
}

// TestInsertAlreadyExists: a first claim whose insert finds the entity
// created meanwhile is never reported as a success; it reads again once.
func TestInsertAlreadyExists(t *testing.T) {
	ctx := context.Background()
	s := newStore(t, dsstore.Config{Namespace: "exists"})

	// Twice: the retry fails too, and the caller gets the error.
	job := jobName("exists")
	setFault(t, emulator.Fault{Method: "Commit", Code: codes.AlreadyExists, Count: 2})
	_, err := s.Claim(ctx, claimReq(job, "a", 1, 0))
	if status.Code(err) != codes.AlreadyExists || !strings.Contains(err.Error(), "datastore: claim "+job+": ") {
		t.Fatalf("Claim whose insert failed twice: error %v, want AlreadyExists naming the job", err)
	}
	emu.Faults().Clear()

	// Once: the second attempt reads the record as it stands (here, still
	// absent, since the fault wrote nothing) and applies the rules to it.
	setFault(t, emulator.Fault{Method: "Commit", Code: codes.AlreadyExists, Count: 1})
	var got store.Lease
	calls := rpcs(t, s, func() { got, err = s.Claim(ctx, claimReq(job, "a", 1, 0)) })
	if err != nil {
		t.Fatalf("Claim whose insert failed once: %v", err)
	}
	if got.Term != 1 || got.Version != 1 {
		t.Errorf("Claim = %+v, want term 1, version 1", got)
	}
	if calls["Commit"] != 2 || calls["Lookup"] != 2 {
		t.Errorf("Claim made RPCs %v, want 2 Lookups and 2 Commits", calls)
	}
}

// TestErrorsNameTheJob: store errors say what was being done, to which job,
// and keep the gRPC status.
func TestErrorsNameTheJob(t *testing.T) {
	ctx := context.Background()
	s := newStore(t, dsstore.Config{Namespace: "errors"})
	job := jobName("errors")
	setFault(t, emulator.Fault{Method: "Lookup", Code: codes.PermissionDenied})

	check := func(op string, err error) {
		t.Helper()
		want := "datastore: " + op + " " + job + ": "
		if op == "ping" {
			want = "datastore: ping: "
		}
		if status.Code(err) != codes.PermissionDenied || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("%s: error %q, want PermissionDenied starting %q", op, err, want)
		}
	}
	_, err := s.Get(ctx, job)
	check("get", err)
	_, err = s.Claim(ctx, claimReq(job, "a", 1, 0))
	check("claim", err)
	_, err = s.Renew(ctx, store.RenewRequest{Job: job, Holder: "a/x", Term: 1, TTL: time.Second, Now: base})
	check("renew", err)
	check("release", s.Release(ctx, store.ReleaseRequest{Job: job, Holder: "a/x", Term: 1}))
	check("ping", s.Ping(ctx))

	byCode := s.Calls().Stats()["Lookup"].Codes
	if byCode["PermissionDenied"] != 5 {
		t.Errorf("Lookup codes %v, want 5 PermissionDenied", byCode)
	}
}
