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

// Backend is a store with a history and operator controls, as the daemon's
// backends are.
type Backend interface {
	store.Store
	store.History
	store.Control
}

// RunControl runs the suite of pause and manual claims. newStore returns a
// backend; the suite uses a distinct job name per test.
func RunControl(t *testing.T, newStore func(t *testing.T) Backend) {
	suite[Backend]{
		{"PauseRefusesTicks", testPauseRefusesTicks},
		{"PauseKeptByEveryWrite", testPauseKept},
		{"PauseOfAJobNeverClaimed", testPauseUnclaimed},
		{"TakenTickBeforePause", testPauseAfterTickTaken},
		{"ManualClaimOfAFreeLease", testManualFree},
		{"ManualClaimByTheHolder", testManualByHolder},
		{"ManualClaimRefusedWhileTheHolderMayRun", testManualBusy},
		{"ManualClaimOfAnIdleHoldersLease", testManualIdle},
		{"ManualClaimRules", testManualRules},
		{"ManualClaimRacingTheHoldersClaim", testManualRace},
	}.run(t, "", "ctl", newStore)
}

func mustPause(t *testing.T, s store.Control, job string, paused bool) store.Lease {
	t.Helper()
	l, err := s.SetPaused(context.Background(), job, paused)
	if err != nil {
		t.Fatalf("SetPaused(%s, %v): %v", job, paused, err)
	}
	if l.Paused != paused {
		t.Fatalf("SetPaused(%s, %v) returned %+v", job, paused, l)
	}
	return l
}

func testPauseRefusesTicks(t *testing.T, s Backend, job string) {
	ctx := context.Background()
	held := mustClaim(t, s, claim(job, "a", 1, 0))
	paused := mustPause(t, s, job, true)
	if paused.Version != held.Version || paused.Holder != "a/x" || paused.Term != held.Term || !paused.Tick.Equal(tick(1)) {
		t.Fatalf("paused record %+v, want %+v with Paused only changed (Version kept)", paused, held)
	}
	cur, err := s.Claim(ctx, claim(job, "a", 2, 0))
	wantErr(t, "the holder claiming a paused job's tick", err, store.ErrPaused)
	if !cur.Paused || cur.Holder != "a/x" {
		t.Fatalf("ErrPaused returned %+v, want the paused record", cur)
	}
	_, err = s.Claim(ctx, claim(job, "b", 2, held.Version))
	wantErr(t, "a takeover of a paused job's lapsed lease", err, store.ErrPaused)
	if got, err := s.Get(ctx, job); err != nil || !got.Paused {
		t.Fatalf("Get of a paused job = %+v, %v; want Paused", got, err)
	}
	noTick := claim(job, "a", 2, 0)
	noTick.Tick = time.Time{}
	if _, err := s.Claim(ctx, noTick); err != nil {
		t.Fatalf("a claim without a tick of a paused job: %v; the pause is of ticks only", err)
	}

	resumed := mustPause(t, s, job, false)
	if resumed.Paused {
		t.Fatalf("resumed record %+v", resumed)
	}
	next := mustClaim(t, s, claim(job, "a", 2, 0))
	if next.Paused || next.Term != held.Term || !next.Tick.Equal(tick(2)) {
		t.Fatalf("claim after resuming = %+v, want tick 2 under term %d", next, held.Term)
	}
}

func testPauseKept(t *testing.T, s Backend, job string) {
	ctx := context.Background()
	held := mustClaim(t, s, claim(job, "a", 1, 0))
	mustPause(t, s, job, true)
	renewed, err := s.Renew(ctx, store.RenewRequest{Job: job, Holder: "a/x", Term: held.Term, TTL: time.Minute, Now: tick(1)})
	if err != nil || !renewed.Paused {
		t.Fatalf("Renew of a paused job = %+v, %v; want it still paused", renewed, err)
	}
	if err := s.Release(ctx, store.ReleaseRequest{Job: job, Holder: "a/x", Term: held.Term}); err != nil {
		t.Fatal(err)
	}
	got, err := s.Get(ctx, job)
	if err != nil || !got.Paused || got.Held() {
		t.Fatalf("after Release: %+v, %v; want released and still paused", got, err)
	}
	_, err = s.Claim(ctx, claim(job, "b", 2, 0))
	wantErr(t, "claim of a released, paused lease", err, store.ErrPaused)
}

func testPauseUnclaimed(t *testing.T, s Backend, job string) {
	ctx := context.Background()
	p := mustPause(t, s, job, true)
	if p.Held() || p.Term != 0 || p.Version != 0 || !p.Tick.IsZero() || p.Job != job {
		t.Fatalf("pause of a job never claimed wrote %+v, want an unheld record at term and version 0", p)
	}
	got, err := s.Get(ctx, job)
	if err != nil || !got.Paused {
		t.Fatalf("Get after pausing a job never claimed: %+v, %v", got, err)
	}
	_, err = s.Claim(ctx, claim(job, "a", 1, 0))
	wantErr(t, "first claim of a paused job", err, store.ErrPaused)
	mustPause(t, s, job, false)
	first := mustClaim(t, s, claim(job, "a", 1, 0))
	if first.Term != 1 || first.Version != 1 {
		t.Fatalf("first claim after resuming = %+v, want term 1, version 1 as for any first claim", first)
	}
}

func testPauseAfterTickTaken(t *testing.T, s Backend, job string) {
	mustClaim(t, s, claim(job, "a", 5, 0))
	mustPause(t, s, job, true)
	_, err := s.Claim(context.Background(), claim(job, "b", 5, 0))
	wantErr(t, "claim of a tick taken before the pause", err, store.ErrTickTaken)
}

// manual is a manual claim of tick n plus half a second, between two ticks.
func manual(job, holder string, n int) store.ClaimRequest {
	r := claim(job, holder, n, 0)
	r.Tick = tick(n).Add(500 * time.Millisecond)
	return r
}

func mustManual(t *testing.T, s store.Control, req store.ClaimRequest) store.Lease {
	t.Helper()
	return mustClaimBy(t, "ClaimManual", s.ClaimManual, req)
}

func testManualFree(t *testing.T, s Backend, job string) {
	got := mustManual(t, s, manual(job, "a", 1))
	if got.Holder != "a/x" || got.Term != 1 || !got.Tick.Equal(manual(job, "a", 1).Tick) {
		t.Fatalf("manual claim of a job never claimed = %+v, want a at term 1", got)
	}
	if err := s.Release(context.Background(), store.ReleaseRequest{Job: job, Holder: "a/x", Term: 1}); err != nil {
		t.Fatal(err)
	}
	again := mustManual(t, s, manual(job, "b", 2))
	if again.Holder != "b/x" || again.Term != 2 {
		t.Fatalf("manual claim of a released lease = %+v, want b at term 2", again)
	}
	// The scheduled tick after a manual one is claimed as usual.
	next := mustClaim(t, s, claim(job, "b", 3, 0))
	if !next.Tick.Equal(tick(3)) || next.Term != 2 {
		t.Fatalf("scheduled claim after a manual one = %+v", next)
	}
}

func testManualByHolder(t *testing.T, s Backend, job string) {
	mustClaim(t, s, claim(job, "a", 1, 0))
	got := mustManual(t, s, manual(job, "a", 1))
	if got.Holder != "a/x" || got.Term != 1 {
		t.Fatalf("the holder's manual claim = %+v, want a, term 1 unchanged", got)
	}
}

func testManualBusy(t *testing.T, s Backend, job string) {
	ctx := context.Background()
	mustClaim(t, s, claim(job, "a", 1, 0))
	_, err := s.ClaimManual(ctx, manual(job, "b", 1))
	wantErr(t, "manual claim while the holder's run of tick 1 has no record", err, store.ErrHeld)
	mustAppend(t, s, run(job, 1, 1, store.ResultOK))
	mustClaim(t, s, claim(job, "a", 2, 0)) // running tick 2 now
	cur, err := s.ClaimManual(ctx, manual(job, "b", 2))
	wantErr(t, "manual claim while the latest record is of an earlier tick", err, store.ErrHeld)
	if cur.Holder != "a/x" {
		t.Fatalf("ErrHeld returned %+v, want the record held by a", cur)
	}
	mustAppend(t, s, run(job, 2, 1, store.ResultLost))
	_, err = s.ClaimManual(ctx, manual(job, "b", 2))
	wantErr(t, "manual claim when the latest record is a lost one", err, store.ErrHeld)
}

func testManualIdle(t *testing.T, s Backend, job string) {
	ctx := context.Background()
	held := mustClaim(t, s, claim(job, "a", 1, 0))
	mustAppend(t, s, run(job, 1, held.Term, store.ResultError)) // a finished tick 1
	got := mustManual(t, s, manual(job, "b", 1))
	if got.Holder != "b/x" || got.Term != held.Term+1 || got.Version != held.Version+1 {
		t.Fatalf("manual claim of an idle holder's lease = %+v, want b at term %d", got, held.Term+1)
	}
	// The old holder's next claim fails: it can run nothing on its old hold.
	_, err := s.Claim(ctx, claim(job, "a", 2, 0))
	wantErr(t, "the old holder's next claim", err, store.ErrHeld)
}

func testManualRules(t *testing.T, s Backend, job string) {
	ctx := context.Background()
	mustClaim(t, s, claim(job, "a", 3, 0))
	_, err := s.ClaimManual(ctx, claim(job, "a", 3, 0))
	wantErr(t, "manual claim of the recorded tick", err, store.ErrTickTaken)
	_, err = s.ClaimManual(ctx, manual(job, "a", 2))
	wantErr(t, "manual claim of an earlier tick", err, store.ErrTickTaken)
	noTick := manual(job, "a", 4)
	noTick.Tick = time.Time{}
	if _, err := s.ClaimManual(ctx, noTick); !errors.Is(err, store.ErrNoTick) {
		t.Fatalf("manual claim without a tick: %v, want ErrNoTick", err)
	}
	mustPause(t, s, job, true)
	_, err = s.ClaimManual(ctx, manual(job, "a", 4))
	wantErr(t, "manual claim of a paused job", err, store.ErrPaused)
}

// testManualRace: the holder claims its next tick while another node makes
// a manual claim of its idle lease: never both.
func testManualRace(t *testing.T, s Backend, job string) {
	ctx := context.Background()
	for i := range 10 {
		j := fmt.Sprintf("%s-%d", job, i)
		held := mustClaim(t, s, claim(j, "a", 1, 0))
		mustAppend(t, s, run(j, 1, held.Term, store.ResultOK))
		var wg sync.WaitGroup
		var scheduled, manualErr error
		start := make(chan struct{})
		wg.Go(func() { <-start; _, scheduled = s.Claim(ctx, claim(j, "a", 2, 0)) })
		wg.Go(func() { <-start; _, manualErr = s.ClaimManual(ctx, manual(j, "b", 1)) })
		close(start)
		wg.Wait()
		if (scheduled == nil) == (manualErr == nil) {
			t.Fatalf("round %d: the holder's claim: %v; the manual claim: %v; want exactly one to win", i, scheduled, manualErr)
		}
		for _, err := range []error{scheduled, manualErr} {
			if err != nil && !errors.Is(err, store.ErrHeld) && !errors.Is(err, store.ErrTickTaken) {
				t.Fatalf("round %d: the loser failed with %v, want ErrHeld or ErrTickTaken", i, err)
			}
		}
	}
}
