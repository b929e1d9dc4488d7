package e2e

import (
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"go-leader-election/electionclient"
)

// TestSessionHolderKilled: the README's program holding twenty elections
// on one session (examples/holdmany, built here) against serve on the
// memory store; a Go client's session campaigns for all twenty. kill -9 of
// the program: every election is the client's within TTL + 1s.
func TestSessionHolderKilled(t *testing.T) {
	if testing.Short() {
		t.Skip("real processes, real seconds")
	}
	holdmany := filepath.Join(t.TempDir(), "holdmany")
	if out, err := exec.Command("go", "build", "-o", holdmany, "../examples/holdmany").CombinedOutput(); err != nil {
		t.Fatalf("build examples/holdmany: %v\n%s", err, out)
	}
	_, addr := startServe(t, "le-0")
	holder := startExe(t, "holdmany", holdmany, nil, addr, "holder")
	holder.waitLine("its twentieth election", 10*time.Second, func(s string) bool { return s == "leading shard-19 term 1" })

	c, err := electionclient.New(electionclient.Config{Servers: []string{addr}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := c.NewSession(ctx, electionclient.SessionOptions{Node: "heir", TTL: leTTL})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close(context.Background())
	var mu sync.Mutex
	won := map[string]time.Time{}
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() {
			l, err := s.Campaign(ctx, fmt.Sprintf("shard-%02d", i))
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			won[l.Election().Name()] = time.Now()
			mu.Unlock()
		})
	}
	e, err := c.Election("shard-07", electionclient.ElectionOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if l, err := e.Leader(ctx); err != nil || l.Node != "holder" {
		t.Fatalf("shard-07 before the kill: %+v, %v; want held by the program", l, err)
	}
	mu.Lock()
	early := len(won)
	mu.Unlock()
	if early > 0 {
		t.Fatalf("the client won %d elections while the program held them", early)
	}
	killed := holder.signal(syscall.SIGKILL)
	wg.Wait()
	var last time.Duration
	for name, at := range won {
		if d := at.Sub(killed); d > last {
			last = d
		}
		if d := at.Sub(killed); d > leTTL+time.Second {
			t.Errorf("%s won %s after the kill; want within %s", name, d.Round(time.Millisecond), leTTL+time.Second)
		}
	}
	if len(won) != 20 {
		t.Fatalf("the client won %d of 20 elections", len(won))
	}
	t.Logf("kill -9 of the program holding 20 elections on one session: all 20 won by another node within %s (TTL %s)", last.Round(time.Millisecond), leTTL)
}

// TestLockLimitWrappers: lock --limit 2 with three wrappers: two commands
// run at once, never three, each in a slot of its own; leader --limit 2
// lists the two holders; kill -9 of one running wrapper: the waiting one's
// command starts, in the freed slot, within TTL + 1s, and never makes three.
func TestLockLimitWrappers(t *testing.T) {
	if testing.Short() {
		t.Skip("real processes, real seconds")
	}
	_, addr := startServe(t, "le-0")
	servers := []string{addr}
	locks := map[string]*leProc{}
	for _, node := range []string{"alpha", "bravo", "charlie"} {
		locks[node] = startLock(t, node, servers, "", "batch", "--limit", "2")
	}
	started := func() []cmdRun {
		var all []cmdRun
		for _, p := range locks {
			all = append(all, cmdRuns(t, p)...)
		}
		return all
	}
	deadline := time.Now().Add(10 * time.Second)
	for len(started()) < 2 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond) // polling the commands' output
	}
	first := started()
	if len(first) != 2 || first[0].slot == first[1].slot {
		t.Fatalf("commands started: %+v; want two, in slots 0 and 1", first)
	}
	list := startLE(t, "leader", nil, "leader", "--server", addr, "--limit", "2", "batch")
	if code := list.waitExit(10 * time.Second); code != 0 {
		t.Fatalf("leader --limit 2 exited %d", code)
	}
	for _, r := range first {
		if want := fmt.Sprintf("election=batch/slot-%s leader=%s term=%d ", r.slot, r.node, r.term); !strings.Contains(list.output(), want) {
			t.Errorf("leader --limit 2 printed:\n%s\nwant a line with %q", list.output(), want)
		}
	}
	victim := first[0]
	killed := locks[victim.node].signal(syscall.SIGKILL)
	waitGone(t, victim.pid, time.Second)
	var waiting string
	for node := range locks {
		if node != first[0].node && node != first[1].node {
			waiting = node
		}
	}
	locks[waiting].waitLine("the third command's start", leTTL+2*time.Second, func(s string) bool { return strings.HasPrefix(s, "start "+waiting) })
	third := cmdRuns(t, locks[waiting])[0]
	if d := third.start.Sub(killed); d > leTTL+time.Second {
		t.Errorf("the third command started %s after the kill; want within %s", d, leTTL+time.Second)
	}
	if third.slot != victim.slot || third.term != victim.term+1 {
		t.Errorf("the third command runs in slot %s under term %d; want the freed slot %s under term %d", third.slot, third.term, victim.slot, victim.term+1)
	}
	// The commands run side by side a while before they are counted.
	locks[waiting].waitLine("the third command alive 300ms", 5*time.Second, func(s string) bool {
		f := strings.Fields(s)
		if len(f) != 3 || f[0] != "alive" {
			return false
		}
		n, err := strconv.ParseInt(f[2], 10, 64)
		return err == nil && time.Unix(0, n).Sub(third.start) >= 300*time.Millisecond
	})
	if most := mostAtOnce(started()); most != 2 {
		t.Errorf("%d commands ran at once; want two, never three", most)
	}
	t.Logf("lock --limit 2, three wrappers: two commands at once; kill -9 of one: the third started %s later in its slot", third.start.Sub(killed).Round(time.Millisecond))
}

// mostAtOnce is how many commands ran at the same moment, at most.
func mostAtOnce(rs []cmdRun) int {
	type edge struct {
		at    time.Time
		delta int
	}
	var edges []edge
	for _, r := range rs {
		edges = append(edges, edge{r.start, 1}, edge{r.last, -1})
	}
	sort.Slice(edges, func(i, j int) bool {
		if edges[i].at.Equal(edges[j].at) {
			return edges[i].delta < edges[j].delta // an end before a start at the same instant
		}
		return edges[i].at.Before(edges[j].at)
	})
	most, now := 0, 0
	for _, e := range edges {
		now += e.delta
		most = max(most, now)
	}
	return most
}
