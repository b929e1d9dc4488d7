// Package storetest is the conformance suite every store.Store backend runs:
// the claim rules, the fencing term, renew and release, and atomicity under
// contention. A backend's test calls Run with a constructor.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"go-leader-election/store"
)

// base is a tick with microsecond precision, the finest every backend keeps.
var base = time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)

func tick(n int) time.Time { return base.Add(time.Duration(n) * time.Second) }

// Run runs the suite. newStore returns a store; the suite uses a distinct job
// name per test, so one store may serve every test.
func Run(t *testing.T, newStore func(t *testing.T) store.Store) {
	suite[store.Store]{
		{"GetMissing", testGetMissing},
		{"FirstClaim", testFirstClaim},
		{"SitOutWhileHeld", testSitOutWhileHeld},
		{"TickTaken", testTickTaken},
		{"HolderClaimsNextTick", testHolderClaimsNextTick},
		{"TakeoverAfterLapse", testTakeoverAfterLapse},
		{"StaleLapsedVersion", testStaleLapsedVersion},
		{"Renew", testRenew},
		{"Release", testRelease},
		{"JobsAreIndependent", testJobsAreIndependent},
		{"ClaimWithoutTick", testClaimWithoutTick},
		{"ConcurrentClaimsOneWinner", testConcurrentClaims},
		{"Ping", func(t *testing.T, s store.Store, _ string) {
			if err := s.Ping(context.Background()); err != nil {
				t.Fatalf("Ping: %v", err)
			}
		}},
	}.run(t, "", "job", newStore)
}

// suite is a conformance suite of tests of a backend B, by name.
type suite[B any] []struct {
	name string
	fn   func(t *testing.T, b B, job string)
}

// run runs each test as the subtest prefix+name, on a backend newBackend
// returns, with a job name no other test uses (job-<nanoseconds>-<index>).
func (tests suite[B]) run(t *testing.T, prefix, job string, newBackend func(t *testing.T) B) {
	for i, tc := range tests {
		t.Run(prefix+tc.name, func(t *testing.T) {
			b := newBackend(t)
			tc.fn(t, b, fmt.Sprintf("%s-%d-%d", job, time.Now().UnixNano(), i))
		})
	}
}

func claim(job, holder string, n int, lapsed int64) store.ClaimRequest {
	return store.ClaimRequest{
		Job: job, Holder: holder + "/x", Node: holder,
		Tick: tick(n), TTL: 1500 * time.Millisecond, Now: tick(n), LapsedVersion: lapsed,
	}
}

func mustClaim(t *testing.T, s store.Store, req store.ClaimRequest) store.Lease {
	t.Helper()
	return mustClaimBy(t, "Claim", s.Claim, req)
}

// mustClaimBy makes a claim by call (Claim, ClaimManual), named name, that
// must succeed.
func mustClaimBy(t *testing.T, name string, call func(context.Context, store.ClaimRequest) (store.Lease, error),
	req store.ClaimRequest) store.Lease {
	t.Helper()
	l, err := call(context.Background(), req)
	if err != nil {
		t.Fatalf("%s(%s, %s, tick %s): %v", name, req.Job, req.Holder, req.Tick.Format(time.StampMilli), err)
	}
	return l
}

func wantErr(t *testing.T, what string, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("%s: error %v, want %v", what, err, want)
	}
}

func testGetMissing(t *testing.T, s store.Store, job string) {
	_, err := s.Get(context.Background(), job)
	wantErr(t, "Get of a job never claimed", err, store.ErrNotFound)
}

func testFirstClaim(t *testing.T, s store.Store, job string) {
	got := mustClaim(t, s, claim(job, "a", 1, 0))
	want := store.Lease{
		Job: job, Holder: "a/x", Node: "a", Term: 1, Tick: tick(1),
		TTL: 1500 * time.Millisecond, Expires: tick(1).Add(1500 * time.Millisecond), Version: 1,
	}
	assertLease(t, "Claim result", got, want)
	read, err := s.Get(context.Background(), job)
	if err != nil {
		t.Fatalf("Get after claim: %v", err)
	}
	assertLease(t, "Get after claim", read, want)
}

func testSitOutWhileHeld(t *testing.T, s store.Store, job string) {
	mustClaim(t, s, claim(job, "a", 1, 0))
	cur, err := s.Claim(context.Background(), claim(job, "b", 2, 0))
	wantErr(t, "claim of a held lease", err, store.ErrHeld)
	if cur.Holder != "a/x" || cur.Node != "a" || cur.Version != 1 {
		t.Fatalf("ErrHeld returned %+v, want the record held by a at version 1", cur)
	}
}

func testTickTaken(t *testing.T, s store.Store, job string) {
	first := mustClaim(t, s, claim(job, "a", 5, 0))
	_, err := s.Claim(context.Background(), claim(job, "a", 5, 0))
	wantErr(t, "the holder claiming its own tick again", err, store.ErrTickTaken)
	cur, err := s.Claim(context.Background(), claim(job, "b", 5, first.Version))
	wantErr(t, "another node claiming a taken tick, lease lapsed", err, store.ErrTickTaken)
	if cur.Node != "a" {
		t.Fatalf("ErrTickTaken returned node %q, want a", cur.Node)
	}
	_, err = s.Claim(context.Background(), claim(job, "b", 4, first.Version))
	wantErr(t, "claiming an earlier tick", err, store.ErrTickTaken)
}

func testHolderClaimsNextTick(t *testing.T, s store.Store, job string) {
	mustClaim(t, s, claim(job, "a", 1, 0))
	got := mustClaim(t, s, claim(job, "a", 2, 0))
	if got.Term != 1 || got.Version != 2 || !got.Tick.Equal(tick(2)) {
		t.Fatalf("holder's next claim = %+v, want term 1 (unchanged), version 2, tick 2", got)
	}
}

func testTakeoverAfterLapse(t *testing.T, s store.Store, job string) {
	held := mustClaim(t, s, claim(job, "a", 1, 0))
	got := mustClaim(t, s, claim(job, "b", 3, held.Version))
	if got.Holder != "b/x" || got.Term != 2 || got.Version != held.Version+1 {
		t.Fatalf("takeover = %+v, want holder b/x, term 2", got)
	}
	back := mustClaim(t, s, claim(job, "a", 4, got.Version))
	if back.Term != 3 {
		t.Fatalf("term after a second holder change = %d, want 3", back.Term)
	}
}

func testStaleLapsedVersion(t *testing.T, s store.Store, job string) {
	first := mustClaim(t, s, claim(job, "a", 1, 0))
	mustClaim(t, s, claim(job, "a", 2, 0)) // the holder renewed since b looked
	_, err := s.Claim(context.Background(), claim(job, "b", 3, first.Version))
	wantErr(t, "takeover naming a version the holder has since renewed", err, store.ErrHeld)
}

func testRenew(t *testing.T, s store.Store, job string) {
	held := mustClaim(t, s, claim(job, "a", 1, 0))
	now := tick(1).Add(700 * time.Millisecond)
	got, err := s.Renew(context.Background(), store.RenewRequest{Job: job, Holder: "a/x", Term: held.Term, TTL: 15 * time.Second, Now: now})
	if err != nil {
		t.Fatalf("Renew by the holder: %v", err)
	}
	want := held
	want.TTL, want.Expires, want.Version = 15*time.Second, now.Add(15*time.Second), held.Version+1
	assertLease(t, "Renew result", got, want)

	_, err = s.Renew(context.Background(), store.RenewRequest{Job: job, Holder: "b/x", Term: held.Term, TTL: time.Second, Now: now})
	wantErr(t, "Renew by another holder", err, store.ErrNotHolder)
	_, err = s.Renew(context.Background(), store.RenewRequest{Job: job, Holder: "a/x", Term: held.Term + 1, TTL: time.Second, Now: now})
	wantErr(t, "Renew under a wrong term", err, store.ErrNotHolder)
	_, err = s.Renew(context.Background(), store.RenewRequest{Job: job + "-none", Holder: "a/x", Term: 1, TTL: time.Second, Now: now})
	wantErr(t, "Renew of a job never claimed", err, store.ErrNotHolder)
}

func testRelease(t *testing.T, s store.Store, job string) {
	ctx := context.Background()
	held := mustClaim(t, s, claim(job, "a", 1, 0))
	wantErr(t, "Release by another holder", s.Release(ctx, store.ReleaseRequest{Job: job, Holder: "b/x", Term: held.Term}), store.ErrNotHolder)
	if err := s.Release(ctx, store.ReleaseRequest{Job: job, Holder: "a/x", Term: held.Term}); err != nil {
		t.Fatalf("Release by the holder: %v", err)
	}
	got, err := s.Get(ctx, job)
	if err != nil {
		t.Fatalf("Get after release: %v", err)
	}
	if got.Held() || got.Node != "" || got.Term != held.Term || !got.Tick.Equal(tick(1)) || got.Version != held.Version+1 {
		t.Fatalf("after release = %+v, want no holder, term %d and tick 1 kept", got, held.Term)
	}
	wantErr(t, "a second Release", s.Release(ctx, store.ReleaseRequest{Job: job, Holder: "a/x", Term: held.Term}), store.ErrNotHolder)
	_, err = s.Claim(ctx, claim(job, "b", 1, 0))
	wantErr(t, "claiming the released tick", err, store.ErrTickTaken)
	next := mustClaim(t, s, claim(job, "b", 2, 0)) // no lapse needed: nobody holds it
	if next.Term != held.Term+1 {
		t.Fatalf("term after release and claim = %d, want %d", next.Term, held.Term+1)
	}
}

func testJobsAreIndependent(t *testing.T, s store.Store, job string) {
	mustClaim(t, s, claim(job+"-1", "a", 1, 0))
	got := mustClaim(t, s, claim(job+"-2", "b", 1, 0))
	if got.Term != 1 || got.Version != 1 {
		t.Fatalf("a second job's first claim = %+v, want term 1, version 1", got)
	}
}

// testConcurrentClaims: 50 contenders, one tick; exactly one may win, and the
// stored record must name it.
func testConcurrentClaims(t *testing.T, s store.Store, job string) {
	const n = 50
	var (
		wg      sync.WaitGroup
		start   = make(chan struct{})
		mu      sync.Mutex
		winners []string
	)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			holder := fmt.Sprintf("n%d", i)
			_, err := s.Claim(context.Background(), claim(job, holder, 7, 0))
			switch {
			case err == nil:
				mu.Lock()
				winners = append(winners, holder+"/x")
				mu.Unlock()
			case errors.Is(err, store.ErrTickTaken), errors.Is(err, store.ErrHeld):
			default:
				t.Errorf("contender %s: unexpected error %v", holder, err)
			}
		}()
	}
	close(start)
	wg.Wait()
	if len(winners) != 1 {
		t.Fatalf("%d contenders won tick 7, want exactly 1: %v", len(winners), winners)
	}
	got, err := s.Get(context.Background(), job)
	if err != nil {
		t.Fatal(err)
	}
	if got.Holder != winners[0] || got.Term != 1 || got.Version != 1 {
		t.Fatalf("stored %+v, want the winner %s at term 1, version 1", got, winners[0])
	}
}

func assertLease(t *testing.T, what string, got, want store.Lease) {
	t.Helper()
	if got.Job != want.Job || got.Holder != want.Holder || got.Node != want.Node ||
		got.Term != want.Term || !got.Tick.Equal(want.Tick) || got.TTL != want.TTL ||
		!got.Expires.Equal(want.Expires) || got.Version != want.Version {
		t.Fatalf("%s:\n got %+v\nwant %+v", what, got, want)
	}
}

// testClaimWithoutTick: ticks are optional. A claim with a zero tick checks
// only the holder rule and keeps the recorded tick, so a lease service or a
// member record can use the same protocol.
func testClaimWithoutTick(t *testing.T, s store.Store, job string) {
	ctx := context.Background()
	noTick := func(holder string, lapsed int64) store.ClaimRequest {
		r := claim(job, holder, 1, lapsed)
		r.Tick = time.Time{}
		return r
	}
	first := mustClaim(t, s, noTick("a", 0))
	if first.Term != 1 || !first.Tick.IsZero() || first.Version != 1 {
		t.Fatalf("first claim without a tick = %+v, want term 1, zero tick, version 1", first)
	}
	again := mustClaim(t, s, noTick("a", 0))
	if again.Term != 1 || again.Version != 2 {
		t.Fatalf("the holder claiming again = %+v, want term 1 (unchanged), version 2", again)
	}
	_, err := s.Claim(ctx, noTick("b", 0))
	wantErr(t, "another holder claiming without a tick", err, store.ErrHeld)
	took := mustClaim(t, s, noTick("b", again.Version))
	if took.Holder != "b/x" || took.Term != 2 {
		t.Fatalf("takeover without a tick = %+v, want holder b/x, term 2", took)
	}
	ticked := mustClaim(t, s, claim(job, "b", 3, 0))
	if !ticked.Tick.Equal(tick(3)) {
		t.Fatalf("tick claim after tickless claims = %+v, want tick 3", ticked)
	}
	kept := mustClaim(t, s, noTick("b", 0))
	if !kept.Tick.Equal(tick(3)) {
		t.Fatalf("a claim without a tick changed the recorded tick: %+v, want tick 3 kept", kept)
	}
}
