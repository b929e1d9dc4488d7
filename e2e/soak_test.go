package e2e

import (
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestSoak runs on demand: E2E_SOAK=10m go test -run TestSoak -v ./e2e
// (E2E_SEED picks the faults, E2E_NODES the cluster size, default 5). Nodes
// get random clock offsets within ±700ms; every 5-12 s one random fault
// hits: kill -9 or SIGTERM of a leader (restarted), SIGSTOP of a leader for
// 2-5 s while a same-name twin starts, or SIGSTOP of the store for 1-4 s.
func TestSoak(t *testing.T) {
	d, err := time.ParseDuration(os.Getenv("E2E_SOAK"))
	if err != nil || d <= 0 || testing.Short() {
		t.Skip("set E2E_SOAK=10m (without -short) to run the soak")
	}
	seed, _ := strconv.ParseUint(os.Getenv("E2E_SEED"), 10, 64)
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	n, _ := strconv.Atoi(os.Getenv("E2E_NODES"))
	if n <= 0 {
		n = 5
	}
	rng := rand.New(rand.NewPCG(seed, seed))
	t.Logf("soak: %s, %d nodes, seed %d", d, n, seed)

	c := newCluster(t)
	for i := range n {
		offset := time.Duration(rng.IntN(1401)-700) * time.Millisecond
		<-c.start(fmt.Sprintf("node%d", i), "CLOCK_OFFSET="+offset.String()).port
	}
	from := time.Now().Truncate(time.Second).Add(2 * time.Second)
	end := time.Now().Add(d)
	jobs := []string{"go_preacher", "scala_preacher"}
	for time.Now().Before(end) {
		time.Sleep(time.Duration(5000+rng.IntN(7000)) * time.Millisecond)
		job := jobs[rng.IntN(len(jobs))]
		switch kind := rng.IntN(4); kind {
		case 0:
			p := c.leader(job)
			c.signal(p, syscall.SIGKILL, "kill -9 leader, restart", job)
			p.waitExit(t, 5*time.Second)
			c.restart(p)
		case 1:
			p := c.leader(job)
			c.signal(p, syscall.SIGTERM, "SIGTERM leader, restart", job)
			p.waitExit(t, 30*time.Second)
			c.restart(p)
		case 2:
			p := c.leader(job)
			c.signal(p, syscall.SIGSTOP, "SIGSTOP leader 2-5s, same-name twin", job)
			twin := c.restart(p)
			time.Sleep(time.Duration(2000+rng.IntN(3000)) * time.Millisecond)
			c.signal(p, syscall.SIGCONT, "", "")
			c.undo()
			// Keep the cluster's size: one of the two same-name processes goes.
			time.Sleep(2 * time.Second)
			retire := p
			if rng.IntN(2) == 0 {
				retire = twin
			}
			c.signal(retire, syscall.SIGTERM, "", "")
			retire.waitExit(t, 30*time.Second)
		case 3:
			c.signalStore(syscall.SIGSTOP, "SIGSTOP store 1-4s")
			time.Sleep(time.Duration(1000+rng.IntN(3000)) * time.Millisecond)
			c.signalStore(syscall.SIGCONT, "")
			c.undo()
		}
	}
	time.Sleep(3 * time.Second)
	v := c.finish(from, time.Second)
	var table strings.Builder
	fmt.Fprintf(&table, "soak: %s, %d nodes (offsets within ±700ms), both jobs @every 1s, seed %d\n", d, n, seed)
	v.summary(&table)
	publish(t, table.String())
	v.assertSafe(t)
}
