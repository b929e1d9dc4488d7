package e2e

import (
	"context"
	"errors"
	"strings"
	"syscall"
	"testing"
	"time"

	"go-leader-election/electionclient"
)

// The leader-election service's acceptance, from outside, on the built
// binary: serve, lock and leader processes, TTL 2s.

const leTTL = 2 * time.Second

// TestLockWrappers: serve on the memory store with a token; two lock
// wrappers: only one command runs, leader names it; kill -9 of that
// wrapper ends its command and the other starts within TTL + 1s, never
// overlapping; a wrong token is refused at once with a clear message;
// SIGTERM of the second wrapper stops its command and releases the lease.
func TestLockWrappers(t *testing.T) {
	if testing.Short() {
		t.Skip("real processes, real seconds")
	}
	_, addr := startServe(t, "le-0", "LEASE_TOKEN=s3cret")
	servers := []string{addr}

	wrong := startLock(t, "intruder", servers, "guess", "production")
	if code := wrong.waitExit(5 * time.Second); code == 0 {
		t.Fatal("lock with a wrong token exited 0")
	}
	if out := wrong.output(); !strings.Contains(out, "Unauthenticated") || !strings.Contains(out, "token") {
		t.Fatalf("lock with a wrong token said:\n%s", out)
	}

	a := startLock(t, "alpha", servers, "s3cret", "production")
	a.waitLine("alpha's command start", 10*time.Second, func(s string) bool { return strings.HasPrefix(s, "start alpha") })
	b := startLock(t, "bravo", servers, "s3cret", "production")
	b.waitLine("bravo waiting", 10*time.Second, func(s string) bool { return strings.Contains(s, "waiting to lead") })

	leader := startLE(t, "leader", []string{"LEASE_TOKEN=s3cret"}, "leader", "--server", addr, "production")
	if code := leader.waitExit(10 * time.Second); code != 0 {
		t.Fatalf("leader exited %d", code)
	}
	if out := leader.output(); !strings.Contains(out, "leader=alpha term=1 ") {
		t.Fatalf("leader printed %q; want alpha under term 1", out)
	}

	killed := a.signal(syscall.SIGKILL)
	first := cmdRuns(t, a)[0]
	gone := waitGone(t, first.pid, time.Second)
	started := b.waitLine("bravo's command start", leTTL+2*time.Second, func(s string) bool { return strings.HasPrefix(s, "start bravo") })
	second := cmdRuns(t, b)[0]
	if d := second.start.Sub(killed); d > leTTL+time.Second {
		t.Errorf("bravo's command started %s after alpha's wrapper was killed; want within %s", d, leTTL+time.Second)
	}
	if second.term != 2 {
		t.Errorf("bravo's LEADER_TERM %d, want 2", second.term)
	}
	t.Logf("kill -9 of alpha's wrapper: its command gone %s later, bravo's started %s later", gone.Round(time.Millisecond), started.at.Sub(killed).Round(time.Millisecond))

	// Graceful: SIGTERM is forwarded, the command stops, the lease is released.
	b.signal(syscall.SIGTERM)
	if code := b.waitExit(10 * time.Second); code != 0 {
		t.Errorf("bravo's wrapper exited %d after its command stopped cleanly; want 0", code)
	}
	b.waitLine("release", time.Second, func(s string) bool { return strings.Contains(s, `released "production" (term 2)`) })
	if rs := cmdRuns(t, b); !rs[0].stopped {
		t.Error("bravo's command did not log its stop: SIGTERM was not forwarded")
	}
	none := startLE(t, "leader", []string{"LEASE_TOKEN=s3cret"}, "leader", "--server", addr, "production")
	if code := none.waitExit(10 * time.Second); code != 3 {
		t.Errorf("leader with no leader exited %d, want 3; said %q", code, none.output())
	}
	checkCommandsNoOverlap(t, append(cmdRuns(t, a), cmdRuns(t, b)...))
}

// TestLockWrappersServerKilled: two serve processes on the emulator, one
// wrapper on each; kill -9 of the first wrapper's server: its command is
// stopped before the lease can lapse, and the other command starts after
// it, within TTL + 1s.
func TestLockWrappersServerKilled(t *testing.T) {
	if testing.Short() {
		t.Skip("real processes, real seconds")
	}
	lockWrappersServerKilled(t, startEmulatorLE(t))
}

// lockWrappersServerKilled is TestLockWrappersServerKilled with serve's
// store set by env.
func lockWrappersServerKilled(t *testing.T, env []string) {
	s1, addr1 := startServe(t, "le-1", env...)
	_, addr2 := startServe(t, "le-2", env...)
	a := startLock(t, "alpha", []string{addr1}, "", "production")
	a.waitLine("alpha's command start", 10*time.Second, func(s string) bool { return strings.HasPrefix(s, "start alpha") })
	b := startLock(t, "bravo", []string{addr2}, "", "production")
	b.waitLine("bravo waiting", 10*time.Second, func(s string) bool { return strings.Contains(s, "waiting to lead") })

	killed := s1.signal(syscall.SIGKILL)
	a.waitLine("alpha's command stop", leTTL, func(s string) bool { return strings.HasPrefix(s, "stop alpha") })
	if code := a.waitExit(5 * time.Second); code != 1 {
		t.Errorf("alpha's wrapper exited %d after losing the lease; want 1", code)
	}
	b.waitLine("bravo's command start", leTTL+2*time.Second, func(s string) bool { return strings.HasPrefix(s, "start bravo") })
	first, second := cmdRuns(t, a)[0], cmdRuns(t, b)[0]
	if d := first.last.Sub(killed); d >= leTTL {
		t.Errorf("alpha's command ran %s after its server died; want it stopped within the TTL (%s)", d, leTTL)
	}
	if d := second.start.Sub(killed); d > leTTL+time.Second {
		t.Errorf("bravo's command started %s after alpha's server died; want within %s", d, leTTL+time.Second)
	}
	checkCommandsNoOverlap(t, []cmdRun{first, second})
	t.Logf("alpha's server killed: alpha's command stopped %s later, bravo's started %s later",
		first.last.Sub(killed).Round(time.Millisecond), second.start.Sub(killed).Round(time.Millisecond))
}

// TestElectionDistributedKills: two serve processes on the emulator,
// clients on each. kill -9 of the leader's server: its client's Done fires
// before its TTL, and the client on the other server wins after it. kill -9
// of a leading client (a lock wrapper): its peer wins within TTL + 1s.
func TestElectionDistributedKills(t *testing.T) {
	if testing.Short() {
		t.Skip("real processes, real seconds")
	}
	env := startEmulatorLE(t)
	s1, addr1 := startServe(t, "le-1", env...)
	_, addr2 := startServe(t, "le-2", env...)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	elect := func(addr, node string) *electionclient.Election {
		c, err := electionclient.New(electionclient.Config{Servers: []string{addr}})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		e, err := c.Election("production", electionclient.ElectionOptions{Node: node, TTL: leTTL})
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	campaign := func(e *electionclient.Election) <-chan *electionclient.Leadership {
		won := make(chan *electionclient.Leadership, 1)
		go func() {
			l, err := e.Campaign(ctx)
			if err != nil {
				t.Error(err)
			}
			won <- l
		}()
		return won
	}

	// The leader's server dies.
	la := <-campaign(elect(addr1, "alpha"))
	bWon := campaign(elect(addr2, "bravo"))
	killed := s1.signal(syscall.SIGKILL)
	<-la.Done()
	doneAt := time.Now()
	lb := <-bWon
	wonAt := time.Now()
	if !errors.Is(la.Err(), electionclient.ErrExpired) {
		t.Errorf("alpha's leadership ended with %v; want ErrExpired", la.Err())
	}
	if d := doneAt.Sub(killed); d >= leTTL {
		t.Errorf("alpha's Done fired %s after its server died; want before the TTL (%s)", d, leTTL)
	}
	if !wonAt.After(doneAt) {
		t.Errorf("bravo won before alpha's Done fired")
	}
	if d := wonAt.Sub(killed); d > leTTL+time.Second {
		t.Errorf("bravo won %s after alpha's server died; want within %s", d, leTTL+time.Second)
	}
	t.Logf("leader's server killed: its Done %s later, the peer won %s later",
		doneAt.Sub(killed).Round(time.Millisecond), wonAt.Sub(killed).Round(time.Millisecond))
	if err := lb.Resign(ctx); err != nil {
		t.Fatal(err)
	}

	// A leading client dies.
	c := startLock(t, "charlie", []string{addr2}, "", "production")
	c.waitLine("charlie's command start", 10*time.Second, func(s string) bool { return strings.HasPrefix(s, "start charlie") })
	dWon := campaign(elect(addr2, "delta"))
	killed = c.signal(syscall.SIGKILL)
	waitGone(t, cmdRuns(t, c)[0].pid, time.Second)
	ld := <-dWon
	if d := time.Since(killed); d > leTTL+time.Second {
		t.Errorf("delta won %s after charlie's wrapper was killed; want within %s", d, leTTL+time.Second)
	}
	t.Logf("leading client killed: the peer won %s later, term %d", time.Since(killed).Round(time.Millisecond), ld.Term())
	_ = ld.Resign(ctx)
}
