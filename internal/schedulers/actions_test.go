package schedulers

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/rs/zerolog"

	"go-leader-election/clock"
	"go-leader-election/internal/schedule"
	"go-leader-election/jobs"
	"go-leader-election/store"
	"go-leader-election/store/memory"
)

// fullStore is the cluster's memory store's history and controls as one
// node reaches them: cut off with the node's lease calls (faultyStore.down).
type fullStore struct {
	mem  *memory.Store
	down *atomic.Bool
}

func (f fullStore) AppendRun(ctx context.Context, rec store.RunRecord) error {
	if f.down.Load() {
		return errInjected
	}
	return f.mem.AppendRun(ctx, rec)
}

func (f fullStore) Runs(ctx context.Context, job string, limit int) ([]store.RunRecord, error) {
	if f.down.Load() {
		return nil, errInjected
	}
	return f.mem.Runs(ctx, job, limit)
}

func (f fullStore) SetPaused(ctx context.Context, job string, paused bool) (store.Lease, error) {
	if f.down.Load() {
		return store.Lease{}, errInjected
	}
	return f.mem.SetPaused(ctx, job, paused)
}

func (f fullStore) ClaimManual(ctx context.Context, req store.ClaimRequest) (store.Lease, error) {
	if f.down.Load() {
		return store.Lease{}, errInjected
	}
	return f.mem.ClaimManual(ctx, req)
}

// skipCounter counts skips by reason, and history drops.
type skipCounter struct {
	nopObserver
	mu      sync.Mutex
	skipped map[string]int
	dropped map[string]int
}

func (o *skipCounter) Skipped(_, reason string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.skipped == nil {
		o.skipped = map[string]int{}
	}
	o.skipped[reason]++
}

func (o *skipCounter) HistoryDropped(_, reason string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.dropped == nil {
		o.dropped = map[string]int{}
	}
	o.dropped[reason]++
}

func (o *skipCounter) count(m *map[string]int, reason string) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return (*m)[reason]
}

// startFull starts a node like cluster.start, with the history and the
// operator's actions on the cluster's store.
func (c *cluster) startFull(name string, obs Observer) *node {
	sched, err := schedule.Parse(c.spec, "")
	if err != nil {
		c.t.Fatal(err)
	}
	n := &node{name: name, store: &faultyStore{Store: c.store}, done: make(chan struct{})}
	fs := fullStore{mem: c.store.(*memory.Store), down: &n.store.down}
	log := zerolog.New(c.log).Hook(timeHook{})
	h, err := NewHistory(HistoryConfig{Store: fs, Log: log.With().Str("node", name).Logger(), Observer: obs})
	if err != nil {
		c.t.Fatal(err)
	}
	n.sched, err = New(Config{
		Job: c.rec.job(name, c.dur), Spec: c.spec, Schedule: sched, Store: n.store,
		Clock: clock.Real{}, Identity: NewIdentity(name), Timing: DefaultTiming(),
		Log: log, Observer: obs, History: h, Control: fs,
	})
	if err != nil {
		c.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	n.cancel = cancel
	go func() { defer close(n.done); n.sched.Run(ctx); h.Flush(context.Background()) }()
	c.nodes[name] = n
	return n
}

func (c *cluster) history(t *testing.T) []store.RunRecord {
	t.Helper()
	runs, err := c.store.(*memory.Store).Runs(context.Background(), "job", store.DefaultHistoryLimit)
	if err != nil {
		t.Fatal(err)
	}
	return runs
}

// events returns the log's events with the given message.
func (c *cluster) events(msg string) []map[string]any {
	var out []map[string]any
	sc := bufio.NewScanner(strings.NewReader(c.log.String()))
	for sc.Scan() {
		var ev map[string]any
		if json.Unmarshal(sc.Bytes(), &ev) == nil && ev["message"] == msg {
			out = append(out, ev)
		}
	}
	return out
}

func runNow(t *testing.T, n *node) (ManualRun, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	return n.sched.RunNow(ctx)
}

// TestManualRunsNeverDoubleAScheduledTick asks for manual runs of a 1s job
// on every node, at moments chosen to race the schedule (on a tick, just
// before one, during runs), and checks that every accepted request ran
// exactly once, that no tick ran twice or overlapped another run, and that
// every scheduled tick ran, or was skipped because a run was in progress.
func TestManualRunsNeverDoubleAScheduledTick(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newCluster(t, "@every 1s", 200*time.Millisecond)
		defer c.stopAll()
		t0 := time.Now()
		names := []string{"a", "b", "c"}
		for _, n := range names {
			c.startFull(n, nil)
		}
		at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
		asks := []int{1500, 2000, 2100, 2999, 3000, 3050, 3600, 4000, 4001, 4150, 5500, 5950, 6000, 6020, 7300, 7800, 8000, 8999,
			9400, 9700, 10000, 10030, 11100, 11250, 12600, 13000, 13999, 14500}
		var accepted []ManualRun
		refused := map[string]int{}
		for i, ms := range asks {
			time.Sleep(time.Until(at(ms)))
			n := c.nodes[names[i%len(names)]]
			run, err := runNow(t, n)
			switch {
			case err == nil:
				if run.Node != n.name || run.Job != "job" || run.ID != store.RunID("job", run.Tick) {
					t.Errorf("RunNow on %s returned %+v", n.name, run)
				}
				accepted = append(accepted, run)
			case errors.Is(err, ErrRunInProgress), errors.Is(err, ErrTickDue), errors.Is(err, ErrBusy):
				refused[fmt.Sprintf("%T %v", err, errors.Unwrap(err))]++
			default:
				t.Fatalf("RunNow on %s at %dms: %v", n.name, ms, err)
			}
		}
		time.Sleep(time.Until(at(16500)))
		c.stopAll()
		t.Logf("%d manual runs accepted, refusals: %v", len(accepted), refused)
		if len(accepted) < 8 || len(accepted) == len(asks) {
			t.Fatalf("%d of %d requests accepted; want many accepted and some refused (runs in progress)", len(accepted), len(asks))
		}

		runs := c.rec.sorted()
		byTick := map[int64][]runRecord{}
		for i, r := range runs {
			byTick[r.tick.UnixNano()] = append(byTick[r.tick.UnixNano()], r)
			if i > 0 && r.start.Before(runs[i-1].end) {
				t.Errorf("overlap: %s ran %s from %s while %s ran %s until %s", r.node, r.tick.Format(time.StampMicro),
					r.start.Format(time.StampMilli), runs[i-1].node, runs[i-1].tick.Format(time.StampMicro), runs[i-1].end.Format(time.StampMilli))
			}
		}
		for k, rs := range byTick {
			if len(rs) > 1 {
				t.Errorf("tick %s ran %d times: %+v", time.Unix(0, k).UTC().Format(time.StampMicro), len(rs), rs)
			}
		}
		for _, m := range accepted {
			rs := byTick[m.Tick.UnixNano()]
			if m.Tick.Truncate(time.Second).Equal(m.Tick) {
				t.Errorf("manual run %s has a scheduled tick", m.ID)
			}
			if len(rs) != 1 || rs[0].node != m.Node || rs[0].term != m.Term {
				t.Errorf("manual run %+v: runs of its tick %+v, want exactly one on %s under term %d", m, rs, m.Node, m.Term)
			}
		}
		skipped := map[string]bool{}
		for _, ev := range c.events("Skipped") {
			skipped[ev["tick"].(string)] = true
		}
		for s := 1; s <= 16; s++ {
			tk := t0.Add(time.Duration(s) * time.Second)
			if n := len(byTick[tk.UnixNano()]); n == 0 && !skipped[formatTick(tk)] {
				t.Errorf("scheduled tick %s neither ran nor was skipped for a run in progress", tk.Format(time.TimeOnly))
			}
		}
		if n := len(c.events("Tick missed by every node")); n != 0 {
			t.Errorf("%d ticks missed by every node, want none", n)
		}

		// The history has every run, the manual ones marked, from any node.
		hist := c.history(t)
		manual := map[string]bool{}
		for _, r := range hist {
			if r.Manual {
				manual[r.ID()] = true
			}
			if r.Result != store.ResultOK {
				t.Errorf("history: %+v, want every run ok", r)
			}
		}
		for _, m := range accepted {
			if !manual[m.ID] {
				t.Errorf("manual run %s is not in the history as manual", m.ID)
			}
		}
		if len(hist) != len(runs) {
			t.Errorf("history has %d runs, the job ran %d times", len(hist), len(runs))
		}
	})
}

// TestManualRunTakesAnIdleLease: a follower's manual run takes the lease of
// a leader that is between runs; the old leader then sits out, and nobody
// can take the lease while a run is in progress.
func TestManualRunTakesAnIdleLease(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newCluster(t, "@every 10s", time.Second)
		t0 := time.Now()
		defer c.stopAll()
		a := c.startFull("a", nil)
		at := func(s float64) { time.Sleep(time.Until(t0.Add(time.Duration(s * float64(time.Second))))) }
		at(10.5) // a claimed tick 10 alone, and runs it until 11
		b := c.startFull("b", nil)
		if _, err := runNow(t, b); !errors.Is(err, ErrRunInProgress) {
			t.Fatalf("b's RunNow while a runs: %v, want ErrRunInProgress", err)
		}
		if _, err := runNow(t, a); !errors.Is(err, ErrRunInProgress) {
			t.Fatalf("a's RunNow while it runs: %v, want ErrRunInProgress", err)
		}
		at(15)
		mb, err := runNow(t, b)
		if err != nil {
			t.Fatalf("b's RunNow while a is idle: %v", err)
		}
		if !mb.Tick.Equal(t0.Add(15*time.Second)) || mb.Term != 2 || mb.Node != "b" {
			t.Fatalf("b's manual run %+v, want tick 15s under term 2 on b", mb)
		}
		at(15.5) // b's run is in progress
		if _, err := runNow(t, a); !errors.Is(err, ErrRunInProgress) {
			t.Fatalf("a's RunNow while b's manual run runs: %v, want ErrRunInProgress", err)
		}
		at(17)
		ma, err := runNow(t, a)
		if err != nil {
			t.Fatalf("a's RunNow once b is idle: %v", err)
		}
		if ma.Term != 3 {
			t.Fatalf("a's manual run %+v, want term 3", ma)
		}
		at(35)
		c.stopAll()

		runs := c.rec.sorted()
		var got []string
		for _, r := range runs {
			got = append(got, fmt.Sprintf("%s@%s/%d", r.node, r.tick.Sub(t0), r.term))
		}
		if want := "a@10s/1 b@15s/2 a@17s/3 a@20s/3 a@30s/3"; strings.Join(got, " ") != want {
			t.Fatalf("runs %s, want %s", strings.Join(got, " "), want)
		}
		var hist []string
		for _, r := range c.history(t) {
			hist = append(hist, fmt.Sprintf("%s@%s/%s/manual=%v", r.Node, r.Tick.Sub(t0), r.Result, r.Manual))
		}
		if want := "a@30s/ok/manual=false a@20s/ok/manual=false a@17s/ok/manual=true b@15s/ok/manual=true a@10s/ok/manual=false"; strings.Join(hist, " ") != want {
			t.Fatalf("history %s, want %s", strings.Join(hist, " "), want)
		}
	})
}

// TestManualRunOfAPausedJob is refused.
func TestManualRunOfAPausedJob(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newCluster(t, "@every 10s", time.Second)
		defer c.stopAll()
		a := c.startFull("a", nil)
		time.Sleep(12 * time.Second)
		if err := a.sched.SetPaused(context.Background(), true); err != nil {
			t.Fatal(err)
		}
		if _, err := runNow(t, a); !errors.Is(err, store.ErrPaused) {
			t.Fatalf("RunNow of a paused job: %v, want store.ErrPaused", err)
		}
		c.stopAll()
	})
}

// TestPausedJobRunsNowhereAndResumesOnTheNextTick: paused from one node,
// the job runs on no node, not even one started meanwhile; each node logs
// Paused and counts the tick once; resumed, it runs at the next tick.
func TestPausedJobRunsNowhereAndResumesOnTheNextTick(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newCluster(t, "@every 1s", 200*time.Millisecond)
		defer c.stopAll()
		t0 := time.Now()
		obs := map[string]*skipCounter{}
		for _, n := range []string{"a", "b", "c"} {
			obs[n] = &skipCounter{}
			c.startFull(n, obs[n])
		}
		at := func(s float64) { time.Sleep(time.Until(t0.Add(time.Duration(s * float64(time.Second))))) }
		at(5.1) // tick 5 runs until 5.2: a pause does not cut it
		if err := c.nodes["b"].sched.SetPaused(context.Background(), true); err != nil {
			t.Fatal(err)
		}
		at(9.5)
		obs["d"] = &skipCounter{}
		c.startFull("d", obs["d"]) // a restart honours the pause
		at(10.6)
		for name, n := range c.nodes {
			if !n.sched.Status().Paused {
				t.Errorf("%s's status does not show the pause", name)
			}
		}
		at(14.5)
		if err := c.nodes["c"].sched.SetPaused(context.Background(), false); err != nil {
			t.Fatal(err)
		}
		at(20.5)
		c.stopAll()

		s := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Second) }
		var paused []time.Time
		for n := 6; n <= 14; n++ {
			paused = append(paused, s(n))
		}
		runs := c.checkRuns(s(1), s(20), time.Second, paused...)
		r5, _ := runOf(runs, s(5))
		if r5.err != nil || r5.end.Sub(r5.start) != 200*time.Millisecond {
			t.Errorf("tick 5, paused while it ran: %+v, want it to finish", r5)
		}
		r15, _ := runOf(runs, s(15))
		if lag := r15.start.Sub(s(15)); lag > DefaultTiming().FollowerDelay {
			t.Errorf("the first tick after resuming ran %s late, want at most FollowerDelay", lag)
		}
		// Ticks 6-14 on a, b and c, 10-14 on d.
		if got, want := len(c.events("Paused")), 3*9+5; got != want {
			t.Errorf("%d Paused events, want %d: one per node per paused tick", got, want)
		}
		total := 0
		for _, o := range obs {
			total += o.count(&o.skipped, SkipPaused)
		}
		if total != 3*9+5 {
			t.Errorf("%d ticks counted skipped as paused, want %d", total, 3*9+5)
		}
		if n := len(c.events("Tick missed by every node")); n != 0 {
			t.Errorf("%d ticks reported missed by every node; paused ticks are not missed", n)
		}
	})
}

// TestLostRunIsRecordedByTheNodeThatTakesOver: a leader cut off during a run
// cannot record it; the node that takes the lease over records it as lost.
// A leader that dies between runs has its last run recorded already, and
// gets no lost record.
func TestLostRunIsRecordedByTheNodeThatTakesOver(t *testing.T) {
	for _, tc := range []struct {
		name    string
		jobLen  time.Duration
		dieAt   time.Duration
		want    string // history, newest first, L the leader, F the other
		errText string
	}{
		{"during a run", 8 * time.Second, 11 * time.Second, "F@30s/ok F@20s/ok L@10s/lost", "the lease of L lapsed; recorded by F"},
		{"between runs", time.Second, 15 * time.Second, "F@30s/ok F@20s/ok L@10s/ok", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				c := newCluster(t, "@every 10s", tc.jobLen)
				defer c.stopAll()
				t0 := time.Now()
				c.startFull("a", nil)
				c.startFull("b", nil)
				time.Sleep(tc.dieAt)
				leader, other := c.nodes["a"], c.nodes["b"]
				if !leader.sched.Status().Leading {
					leader, other = other, leader
				}
				leader.store.down.Store(true)
				time.Sleep(35*time.Second - tc.dieAt)
				c.stopAll()
				names := strings.NewReplacer(leader.name+"@", "L@", other.name+"@", "F@", "of "+leader.name, "of L", "by "+other.name, "by F")
				var got []string
				var lost store.RunRecord
				for _, r := range c.history(t) {
					got = append(got, names.Replace(fmt.Sprintf("%s@%s/%s", r.Node, r.Tick.Sub(t0), r.Result)))
					if r.Result == store.ResultLost {
						lost = r
					}
				}
				if strings.Join(got, " ") != tc.want {
					t.Fatalf("history %s, want %s", strings.Join(got, " "), tc.want)
				}
				if tc.errText != "" && (!strings.Contains(names.Replace(lost.Error), tc.errText) || lost.Term != 1) {
					t.Errorf("lost record %+v, want term 1 and an error saying %q", lost, tc.errText)
				}
			})
		})
	}
}

// blockedHistory never answers: every write times out.
type blockedHistory struct{ calls atomic.Int32 }

func (b *blockedHistory) AppendRun(ctx context.Context, _ store.RunRecord) error {
	b.calls.Add(1)
	<-ctx.Done()
	return ctx.Err()
}

func (b *blockedHistory) Runs(context.Context, string, int) ([]store.RunRecord, error) {
	return nil, errors.New("unused")
}

// TestHistoryThatHangsNeverDelaysARun: with a history store that never
// answers, runs keep their ticks to the microsecond, and each record is
// dropped with a warning and a count when its write times out.
func TestHistoryThatHangsNeverDelaysARun(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		log := &syncBuffer{}
		obs := &skipCounter{}
		blocked := &blockedHistory{}
		h, err := NewHistory(HistoryConfig{Store: blocked, Timeout: 5 * time.Second, Log: zerolog.New(log), Observer: obs})
		if err != nil {
			t.Fatal(err)
		}
		var lags []time.Duration
		var mu sync.Mutex
		s, err := New(Config{
			Job: jobRecordingLag(&mu, &lags), Spec: "@every 1s", Schedule: Every(time.Second), Store: memory.New(),
			Identity: NewIdentity("a"), Timing: DefaultTiming(), Log: zerolog.New(log), History: h,
		})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { defer close(done); s.Run(ctx) }()
		time.Sleep(20*time.Second + 500*time.Millisecond)
		cancel()
		<-done
		h.Flush(context.Background())
		if len(lags) != 20 {
			t.Fatalf("%d runs in 20 s, want 20", len(lags))
		}
		for i, l := range lags[1:] { // the first, claimed as a follower, FollowerDelay late
			if l != 0 {
				t.Errorf("run %d started %s after its tick, want 0: history writes must not delay runs", i+1, l)
			}
		}
		if got := obs.count(&obs.dropped, DropWriteFailed); got != 20 || int(blocked.calls.Load()) != 20 {
			t.Errorf("%d records dropped after %d writes, want 20 of 20", got, blocked.calls.Load())
		}
		if got := log.count("History write failed"); got != 20 {
			t.Errorf("%d History write failed warnings, want 20", got)
		}
	})
}

func jobRecordingLag(mu *sync.Mutex, lags *[]time.Duration) jobs.Job {
	return jobs.Job{Name: "job", Run: func(ctx context.Context) error {
		tok, _ := jobs.TokenFrom(ctx)
		mu.Lock()
		*lags = append(*lags, time.Since(tok.Tick))
		mu.Unlock()
		return nil
	}}
}

// TestHistoryQueueIsBounded: records beyond the queue are dropped at once.
func TestHistoryQueueIsBounded(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		obs := &skipCounter{}
		log := &syncBuffer{}
		h, err := NewHistory(HistoryConfig{Store: &blockedHistory{}, Queue: 2, Parallel: 1, Timeout: time.Minute,
			Log: zerolog.New(log), Observer: obs})
		if err != nil {
			t.Fatal(err)
		}
		rec := func(n int) store.RunRecord {
			return store.RunRecord{Job: "job", Tick: time.Unix(int64(n), 0), Result: store.ResultOK}
		}
		h.Record(rec(1))
		synctest.Wait() // in flight
		for n := 2; n <= 5; n++ {
			h.Record(rec(n)) // 2 and 3 wait, 4 and 5 do not fit
		}
		if got := obs.count(&obs.dropped, DropQueueFull); got != 2 {
			t.Fatalf("%d records dropped as the queue was full, want 2", got)
		}
		if !strings.Contains(log.String(), `"reason":"queue full"`) {
			t.Errorf("no queue-full warning:\n%s", log.String())
		}
		h.Flush(context.Background())
		if got := obs.count(&obs.dropped, DropWriteFailed); got != 3 {
			t.Errorf("%d writes failed, want the 3 queued", got)
		}
	})
}

func TestResultOf(t *testing.T) {
	for err, want := range map[error]string{
		nil:                                    store.ResultOK,
		errors.New("boom"):                     store.ResultError,
		fmt.Errorf("%w: x", errLostLeadership): store.ResultLost,
		errShutdownTimeout:                     store.ResultCancelled,
		context.Canceled:                       store.ResultCancelled,
	} {
		if got := resultOf(err); got != want {
			t.Errorf("resultOf(%v) = %s, want %s", err, got, want)
		}
	}
}

func TestManualTick(t *testing.T) {
	base := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	sec := func(s float64) time.Time { return base.Add(time.Duration(s * float64(time.Second))) }
	every := Every(time.Second)
	cron, err := schedule.Parse("*/10 * * * * *", "")
	if err != nil {
		t.Fatal(err)
	}
	late := 550 * time.Millisecond
	for _, tc := range []struct {
		name          string
		sched         Schedule
		recorded, now time.Time
		want          time.Time
		ok            bool
	}{
		{"now, between ticks", every, sec(3), sec(3.4), sec(3.4), true},
		{"just before a due tick not yet claimed", every, sec(3), sec(4.02), sec(4).Add(-time.Microsecond), true},
		{"due tick just after a manual one", every, sec(4).Add(-time.Microsecond), sec(4.02), time.Time{}, false},
		{"a due tick nobody claimed in time is passed over", every, sec(3), sec(4.7), sec(4.7), true},
		{"a faster clock claimed the next tick", every, sec(5), sec(4.9), sec(5).Add(time.Microsecond), true},
		{"never claimed", every, time.Time{}, sec(4.3), sec(4).Add(-time.Microsecond), true},
		{"never claimed, late", every, time.Time{}, sec(4.6), sec(4.6), true},
		{"ticks missed long ago", every, sec(-100), sec(4.3), sec(4).Add(-time.Microsecond), true},
		{"ticks missed long ago, late", every, sec(-100), sec(4.8), sec(4.8), true},
		{"now, to the microsecond", every, sec(3), sec(3.4).Add(123), sec(3.4), true},
		{"cron, between ticks", cron, sec(10), sec(13), sec(13), true},
		{"cron, due tick unclaimed", cron, sec(10), sec(20.5), sec(20).Add(-time.Microsecond), true},
		{"cron, never claimed", cron, time.Time{}, sec(25), sec(25), true},
	} {
		got, ok := manualTick(tc.sched, tc.recorded, tc.now, late)
		if ok != tc.ok || (ok && !got.Equal(tc.want)) {
			t.Errorf("%s: manualTick = %s, %v; want %s, %v", tc.name, got.Format(time.StampMicro), ok, tc.want.Format(time.StampMicro), tc.ok)
		}
		if ok && (!got.After(tc.recorded) || tc.sched.Next(got.Add(-time.Nanosecond)).Equal(got)) {
			t.Errorf("%s: %s is not strictly after the recorded tick and off the schedule", tc.name, got.Format(time.StampMicro))
		}
	}
}

// opaque hides a Schedule's type, so that latestDue takes its general path.
type opaque struct{ Schedule }

// TestLatestDueOfEvery: the shortcut for Every agrees with the general walk,
// before and after the epoch, on a tick and between ticks.
func TestLatestDueOfEvery(t *testing.T) {
	for _, e := range []Every{Every(time.Second), Every(1500 * time.Millisecond), Every(time.Hour)} {
		d := time.Duration(e)
		for _, now := range []time.Time{
			time.Unix(1_700_000_000, 0), time.Unix(1_700_000_000, 1), time.Unix(1_700_000_000, 0).Add(d - 1),
			time.Unix(-7, 0), time.Unix(-7, 3), time.Unix(0, -1), time.Unix(0, 0),
		} {
			got, ok := latestDue(e, now)
			want, wantOK := latestDue(opaque{e}, now)
			if !got.Equal(want) || ok != wantOK || got.After(now) || !now.Before(got.Add(d)) {
				t.Errorf("latestDue(%s, %s) = %s, %v; the general walk says %s, %v", d, now, got, ok, want, wantOK)
			}
		}
	}
}
