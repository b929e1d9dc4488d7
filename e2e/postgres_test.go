package e2e

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"go-leader-election/internal/pgtest"
	"go-leader-election/store/postgres"
)

// The acceptance and fault runs again, on PostgreSQL: each daemon cluster
// on a PostgreSQL cluster of its own (pgtest.Start: the tests pause and
// restart it), found through DATABASE_URL alone.

// TestThreeNodeClusterPostgres: three daemons on a fresh database: the
// tables are made once, each tick runs once, balance gives the two jobs to
// two nodes, and the logs name the database without its password.
func TestThreeNodeClusterPostgres(t *testing.T) {
	if testing.Short() {
		t.Skip("starts PostgreSQL and real processes for about 30 seconds")
	}
	c := newPostgresCluster(t, "PREACHER_TIMES=1")
	runner := threeNodes(t, c)
	if runner["go_preacher"] == runner["scala_preacher"] {
		t.Errorf("both jobs ran last on %s: balance did not share them", runner["go_preacher"])
	}
	var versions int
	if err := pgtest.Conn(t, c.pg.URL).QueryRow(context.Background(), "SELECT count(*) FROM public.gle_schema_version").Scan(&versions); err != nil {
		t.Fatal(err)
	}
	if versions != postgres.Version {
		t.Errorf("%d table versions recorded, want %d", versions, postgres.Version)
	}
	cfg, err := pgx.ParseConfig(c.pg.URL)
	if err != nil {
		t.Fatal(err)
	}
	c.mu.Lock()
	logs := c.logs.String()
	c.mu.Unlock()
	if strings.Contains(logs, cfg.Password) {
		t.Error("the daemons logged the database password")
	}
	if want := fmt.Sprintf(`"address":"postgres://postgres@127.0.0.1:%d/postgres"`, cfg.Port); !strings.Contains(logs, want) {
		t.Errorf("no Store selected event with %s", want)
	}
}

// TestFaultsPostgres is TestFaults on PostgreSQL, with the database's own
// faults after the leaders': PostgreSQL paused (SIGSTOP of every server
// process) for 3 s, restarted (an immediate shutdown, as a crash), and
// every daemon session killed with pg_terminate_backend every 100 ms for
// 5 s, while claims go on.
func TestFaultsPostgres(t *testing.T) {
	if testing.Short() {
		t.Skip("starts PostgreSQL and real processes for about 90 seconds")
	}
	c := newPostgresCluster(t)
	from := startSkewed(c)
	leaderFaults(t, c)
	pauseStore(c, "SIGSTOP store (PostgreSQL) 3s")

	c.note("PostgreSQL restarted")
	c.pg.Restart(t)
	c.undo()
	time.Sleep(5 * time.Second)

	c.note("pg_terminate_backend every 100ms for 5s")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	var killed int
	var wg sync.WaitGroup
	wg.Go(func() {
		for ctx.Err() == nil {
			n, _ := pgtest.TerminateBackends(ctx, c.pg.URL, postgres.ApplicationName)
			killed += n
			time.Sleep(100 * time.Millisecond) // the fault's pace
		}
	})
	wg.Wait()
	cancel()
	c.undo()
	time.Sleep(5 * time.Second)

	v := c.finish(from, time.Second)
	var table strings.Builder
	table.WriteString("fault suite on PostgreSQL: 3 nodes, CLOCK_OFFSET +700ms/-700ms/0, both jobs @every 1s\n")
	v.print(&table)
	publish(t, table.String())
	t.Logf("%d sessions killed", killed)
	v.assertSafe(t)
	v.assertFaultCosts(t)
	for _, r := range v.rows {
		if r.fault.kind == "PostgreSQL restarted" && r.resumed > 3*time.Second {
			t.Errorf("%s: runs resumed %s after it was back, want within 3s", r.fault.kind, r.resumed)
		}
	}
	if killed == 0 {
		t.Error("pg_terminate_backend killed no session: the fault did not happen")
	}
}

// TestLockWrappersServerKilledPostgres: two serve processes on one
// database (a schema of the test's own on POSTGRES_TEST_URL), a lock
// wrapper on each; the holder's server is killed, the other command starts
// after the first stopped, within the TTL and a second.
func TestLockWrappersServerKilledPostgres(t *testing.T) {
	if testing.Short() {
		t.Skip("real processes, real seconds")
	}
	url := pgtest.URL(t)
	lockWrappersServerKilled(t, []string{"DATABASE_URL=" + url, "POSTGRES_SCHEMA=" + pgtest.Schema(t, url)})
}

// TestLostCommitAnswersPostgres is TestLostCommitAnswers on PostgreSQL:
// the daemons reach it through a proxy that loses a third of the COMMITs'
// answers (the server has committed; the connection is closed before the
// answer reaches the daemon).
func TestLostCommitAnswersPostgres(t *testing.T) {
	if testing.Short() {
		t.Skip("starts PostgreSQL and real processes for about 30 seconds")
	}
	c := newPostgresCluster(t, "PREACHER_TIMES=5", "PREACHER_PAUSE=200ms") // 0.8s runs
	proxy := pgtest.NewProxy(t, c.pg.URL)
	c.storeEnv = []string{"DATABASE_URL=" + proxy.URL}
	var n atomic.Int64
	lostAnswers(t, c, "COMMIT answers lost (33%, committed)", func() {
		proxy.SetLose(func() bool { return n.Add(1)%3 == 0 })
	})
	t.Logf("%d COMMIT answers lost", proxy.Lost.Load())
	if proxy.Lost.Load() == 0 {
		t.Error("no answer was lost: the fault did not happen")
	}
}

// note records a fault the harness did without a signal.
func (c *cluster) note(kind string) {
	c.mu.Lock()
	c.faults = append(c.faults, fault{kind: kind, at: time.Now()})
	c.mu.Unlock()
}
