package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go-leader-election/internal/pgtest"
	"go-leader-election/lease"
	"go-leader-election/store"
	"go-leader-election/store/postgres"
)

// TestRoundTripBudget: Get is one round trip; a claim, a renewal and a
// release two (the locked read, then the write and COMMIT); a refused claim
// the locked read and a ROLLBACK.
func TestRoundTripBudget(t *testing.T) {
	s := newStore(t, postgres.Config{})
	ctx := context.Background()
	job := jobName("budget")
	check := func(what string, want map[string]int64, fn func() error) {
		t.Helper()
		var err error
		got := rpcs(s, func() { err = fn() })
		if err != nil && !store.IsRefusal(err) {
			t.Fatalf("%s: %v", what, err)
		}
		if !maps.Equal(got, want) {
			t.Errorf("%s: round trips %v, want %v", what, got, want)
		}
	}
	two := map[string]int64{"Lock": 1, "Commit": 1}
	check("first claim", two, func() error { _, err := s.Claim(ctx, claimReq(job, "a", 1, 0)); return err })
	check("claim of the next tick", two, func() error { _, err := s.Claim(ctx, claimReq(job, "a", 2, 0)); return err })
	check("refused claim", map[string]int64{"Lock": 1, "Rollback": 1}, func() error {
		_, err := s.Claim(ctx, claimReq(job, "b", 2, 0))
		if !errors.Is(err, store.ErrTickTaken) {
			return fmt.Errorf("claim of a taken tick: %v", err)
		}
		return nil
	})
	check("get", map[string]int64{"Get": 1}, func() error { _, err := s.Get(ctx, job); return err })
	check("renew", two, func() error {
		_, err := s.Renew(ctx, store.RenewRequest{Job: job, Holder: "a/x", Term: 1, TTL: time.Second, Now: base})
		return err
	})
	check("release", two, func() error { return s.Release(ctx, store.ReleaseRequest{Job: job, Holder: "a/x", Term: 1}) })
	check("append run", two, func() error {
		return s.AppendRun(ctx, store.RunRecord{Job: job, Tick: base, Term: 1, Node: "a", Result: store.ResultOK})
	})
	check("runs", map[string]int64{"Runs": 1}, func() error { _, err := s.Runs(ctx, job, 10); return err })
	check("put member", map[string]int64{"PutMember": 1}, func() error {
		_, err := s.PutMember(ctx, store.Member{ID: job, Node: "a", TTL: time.Second})
		return err
	})
	check("list members", map[string]int64{"ListMembers": 1}, func() error { _, _, err := s.ListMembers(ctx); return err })
}

// TestLostCommitAnswer: a claim whose COMMIT's answer is lost fails with
// ErrOutcomeUnknown, not a refusal, and is on record; through package lease
// the node finds its own claim when it tries again, and runs the tick; a
// peer is refused it.
func TestLostCommitAnswer(t *testing.T) {
	url := pgtest.URL(t)
	proxy := pgtest.NewProxy(t, url)
	schema := pgtest.Schema(t, url)
	s := newStore(t, postgres.Config{URL: proxy.URL, Schema: schema})
	ctx := context.Background()

	job := jobName("lost")
	proxy.LoseNext(1)
	_, err := s.Claim(ctx, claimReq(job, "a", 1, 0))
	if !errors.Is(err, postgres.ErrOutcomeUnknown) || store.IsRefusal(err) {
		t.Fatalf("claim whose answer was lost: %v, want ErrOutcomeUnknown", err)
	}
	t.Logf("lost answer: %v", err)
	if rec, err := s.Get(ctx, job); err != nil || rec.Holder != "a/x" || !rec.Tick.Equal(base.Add(time.Second)) {
		t.Fatalf("after the lost answer: %+v, %v; want a's claim of tick 1 on record", rec, err)
	}

	job = jobName("lost-lease")
	l := newLease(t, s, job, "a")
	proxy.LoseNext(1)
	tick := base.Add(time.Minute)
	if _, err := l.Claim(ctx, tick, 10*time.Second); err == nil {
		t.Fatal("the first claim succeeded though its answer was lost")
	}
	st, err := l.Claim(ctx, tick, 10*time.Second)
	if err != nil || st.Kind != lease.Mine {
		t.Fatalf("the retried claim: %v, %v; want this node's claim recognised", st.Kind, err)
	}
	peer := newLease(t, newStore(t, postgres.Config{URL: url, Schema: schema}), job, "b")
	if _, err := peer.Claim(ctx, tick, 10*time.Second); !errors.Is(err, store.ErrTickTaken) {
		t.Fatalf("a peer's claim of the tick: %v, want ErrTickTaken", err)
	}
	if proxy.Lost.Load() != 2 {
		t.Errorf("%d answers lost, want 2", proxy.Lost.Load())
	}
}

func newLease(t testing.TB, s store.Store, name, node string) *lease.Handle {
	t.Helper()
	l, err := lease.New(lease.Config{Store: s, Name: name, Holder: node + "/x", Node: node, Trust: 2.0 / 3, Timeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// TestTerminatedBackendsDuringClaims: three nodes, each with a pool of its
// own, claim the same ticks of one job through package lease, with leases
// so short that each tick is contended, while every session of theirs is
// killed (pg_terminate_backend) every few milliseconds. No tick is ever
// won by two nodes.
func TestTerminatedBackendsDuringClaims(t *testing.T) {
	if testing.Short() {
		t.Skip("seconds of contention")
	}
	url := pgtest.URL(t)
	app := fmt.Sprintf("gle-terminate-%d", time.Now().UnixNano())
	schema := pgtest.Schema(t, url)
	appURL := url + "&application_name=" + app
	job := jobName("terminated")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	const nodes, ticks = 3, 150
	leases := make([]*lease.Handle, nodes)
	for n := range nodes {
		leases[n] = newLease(t, newStore(t, postgres.Config{URL: appURL, Schema: schema, Timeout: 2 * time.Second}), job, fmt.Sprintf("n%d", n))
	}
	var killed atomic.Int64
	var killer sync.WaitGroup
	killer.Go(func() {
		for ctx.Err() == nil {
			n, _ := pgtest.TerminateBackends(ctx, url, app)
			killed.Add(int64(n))
			time.Sleep(3 * time.Millisecond) // a pace, not a synchronisation
		}
	})

	winners := make([][]string, ticks)
	var mu sync.Mutex
	var failures atomic.Int64
	var wg sync.WaitGroup
	for n, l := range leases {
		node := fmt.Sprintf("n%d", n)
		wg.Go(func() {
			for k := range ticks {
				tick := base.Add(time.Duration(k+1) * time.Second)
				for range 10 {
					_, err := l.Claim(context.Background(), tick, time.Millisecond)
					if err == nil {
						mu.Lock()
						winners[k] = append(winners[k], node)
						mu.Unlock()
					}
					if err == nil || store.IsRefusal(err) {
						break
					}
					failures.Add(1)
				}
			}
		})
	}
	wg.Wait()
	cancel()
	killer.Wait()
	won := 0
	for k, w := range winners {
		if len(w) > 1 {
			t.Errorf("tick %d won by %v", k+1, w)
		}
		won += len(w)
	}
	t.Logf("%d of %d ticks won, %d sessions killed, %d claims failed (and retried)", won, ticks, killed.Load(), failures.Load())
	if killed.Load() == 0 || won < ticks/2 {
		t.Errorf("%d sessions killed, %d ticks won: the test did not test", killed.Load(), won)
	}
}

// TestFrozenClientFreesItsLock: a process frozen inside a transaction (its
// row locked) makes other claims of that job fail within the timeout, never
// hang, and loses its session, and the lock, once it has been idle in the
// transaction for the timeout.
func TestFrozenClientFreesItsLock(t *testing.T) {
	const timeout = 500 * time.Millisecond
	url := pgtest.URL(t)
	schema := pgtest.Schema(t, url)
	s := newStore(t, postgres.Config{URL: url, Schema: schema, Timeout: timeout})
	ctx := context.Background()
	job := jobName("frozen")
	if _, err := s.Claim(ctx, claimReq(job, "a", 1, 0)); err != nil {
		t.Fatal(err)
	}
	// The frozen process: a session with the store's settings, stopped
	// after its locked read.
	frozen := pgtest.Conn(t, url+"&idle_in_transaction_session_timeout=500")
	if _, err := frozen.Exec(ctx, "BEGIN"); err != nil {
		t.Fatal(err)
	}
	if _, err := frozen.Exec(ctx, "SELECT 1 FROM "+schema+".gle_leases WHERE job = $1 FOR UPDATE", job); err != nil {
		t.Fatal(err)
	}
	frozeAt := time.Now()
	start := time.Now()
	_, err := s.Claim(ctx, claimReq(job, "a", 2, 0))
	if err == nil || store.IsRefusal(err) {
		t.Fatalf("claim of a row another session locks: %v, want a failure", err)
	}
	if d := time.Since(start); d > timeout+250*time.Millisecond {
		t.Errorf("the blocked claim failed after %s, timeout %s", d, timeout)
	}
	t.Logf("blocked claim: %v after %s", err, time.Since(start).Round(time.Millisecond))
	// The blocked claim may yet have been applied, once the lock was freed:
	// a call that timed out has an unknown outcome. The next tick tells
	// when the lock is free.
	for {
		_, err = s.Claim(ctx, claimReq(job, "a", 3, 0))
		if err == nil {
			break
		}
		if time.Since(frozeAt) > 4*timeout {
			t.Fatalf("the lock was still held %s after the freeze: %v", time.Since(frozeAt), err)
		}
	}
	t.Logf("claimed %s after the freeze began", time.Since(frozeAt).Round(time.Millisecond))
}

// TestPausedServer: with PostgreSQL stopped (SIGSTOP of every server
// process), every call returns within the timeout with an error matching
// context.DeadlineExceeded; once it continues, calls succeed again.
func TestPausedServer(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a PostgreSQL cluster")
	}
	const timeout = 500 * time.Millisecond
	c := pgtest.Start(t)
	s := newStore(t, postgres.Config{URL: c.URL, Timeout: timeout})
	ctx := context.Background()
	job := jobName("paused")
	if _, err := s.Claim(ctx, claimReq(job, "a", 1, 0)); err != nil {
		t.Fatal(err)
	}
	c.Pause(t)
	calls := map[string]func() error{
		"get":   func() error { _, err := s.Get(ctx, job); return err },
		"claim": func() error { _, err := s.Claim(ctx, claimReq(job, "a", 2, 0)); return err },
		"ping":  func() error { return s.Ping(ctx) },
	}
	for name, call := range calls {
		start := time.Now()
		err := call()
		d := time.Since(start)
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("%s on a paused server: %v, want a deadline error", name, err)
		}
		if d > timeout+250*time.Millisecond {
			t.Errorf("%s on a paused server took %s, timeout %s", name, d, timeout)
		}
	}
	c.Resume(t)
	resumed := time.Now()
	for {
		_, err := s.Claim(ctx, claimReq(job, "a", 3, 0))
		if err == nil {
			break
		}
		if time.Since(resumed) > 5*time.Second {
			t.Fatalf("claims still fail %s after the server continued: %v", time.Since(resumed), err)
		}
	}
	t.Logf("claimed again %s after the server continued", time.Since(resumed).Round(time.Millisecond))
}

// TestRestartedServer: a restart (an immediate shutdown, as a crash) is an
// outage: calls fail while the server is down and succeed once it is back;
// what was committed stays.
func TestRestartedServer(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a PostgreSQL cluster")
	}
	c := pgtest.Start(t)
	s := newStore(t, postgres.Config{URL: c.URL, Timeout: time.Second})
	ctx := context.Background()
	job := jobName("restart")
	if _, err := s.Claim(ctx, claimReq(job, "a", 1, 0)); err != nil {
		t.Fatal(err)
	}
	c.Restart(t)
	restarted := time.Now()
	var tries int
	for {
		tries++
		_, err := s.Claim(ctx, claimReq(job, "a", 2, 0))
		if err == nil {
			break
		}
		if store.IsRefusal(err) || time.Since(restarted) > 10*time.Second {
			t.Fatalf("claim after the restart: %v", err)
		}
	}
	rec, err := s.Get(ctx, job)
	if err != nil || rec.Version != 2 || rec.Term != 1 {
		t.Fatalf("after the restart: %+v, %v; want version 2 of term 1", rec, err)
	}
	t.Logf("claimed after the restart in %d tries, %s", tries, time.Since(restarted).Round(time.Millisecond))
}
