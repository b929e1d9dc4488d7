package storetest

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"go-leader-election/store"
)

// HistoryLimit is the limit RunHistory builds its stores with.
const HistoryLimit = 5

// RunHistory runs the history suite. newHistory returns a backend keeping
// limit runs per job; the suite uses a distinct job name per test.
func RunHistory(t *testing.T, newHistory func(t *testing.T, limit int) store.History) {
	suite[store.History]{
		{"Empty", testHistoryEmpty},
		{"RoundTrip", testHistoryRoundTrip},
		{"NewestTickFirst", testHistoryNewestFirst},
		{"KeepsTheLimit", testHistoryKeepsTheLimit},
		{"LostAfterARecordedRunIsDropped", testHistoryLostAfterRecorded},
		{"RunBeatsLost", testHistoryRunBeatsLost},
		{"JobsAreIndependent", testHistoryJobsIndependent},
		{"ErrorIsTruncated", testHistoryErrorTruncated},
		{"OutputKeepsItsEnd", testHistoryOutputKeepsItsEnd},
		{"ConcurrentAppends", testHistoryConcurrent},
	}.run(t, "History", "hist", func(t *testing.T) store.History { return newHistory(t, HistoryLimit) })
}

func run(job string, n int, term int64, result string) store.RunRecord {
	r := store.RunRecord{
		Job: job, Tick: tick(n), Term: term, Node: "a", Start: tick(n).Add(3 * time.Millisecond),
		Duration: 1500 * time.Millisecond, Result: result,
	}
	if result == store.ResultError {
		r.Error = "boom"
	}
	return r
}

func mustAppend(t *testing.T, h store.History, recs ...store.RunRecord) {
	t.Helper()
	for _, r := range recs {
		if err := h.AppendRun(context.Background(), r); err != nil {
			t.Fatalf("AppendRun(%s tick %s): %v", r.Job, r.Tick.Format(time.TimeOnly), err)
		}
	}
}

func mustRuns(t *testing.T, h store.History, job string, limit int) []store.RunRecord {
	t.Helper()
	runs, err := h.Runs(context.Background(), job, limit)
	if err != nil {
		t.Fatalf("Runs(%s, %d): %v", job, limit, err)
	}
	return runs
}

// ticks lists the runs' ticks as seconds after base, and results.
func ticks(runs []store.RunRecord) string {
	var b []string
	for _, r := range runs {
		b = append(b, fmt.Sprintf("%d:%s", int(r.Tick.Sub(base)/time.Second), r.Result))
	}
	return strings.Join(b, " ")
}

func testHistoryEmpty(t *testing.T, h store.History, job string) {
	runs := mustRuns(t, h, job, 10)
	if runs == nil || len(runs) != 0 {
		t.Fatalf("Runs of a job never run = %#v, want an empty, non-nil list", runs)
	}
}

func testHistoryRoundTrip(t *testing.T, h store.History, job string) {
	want := run(job, 1, 3, store.ResultError)
	want.Manual = true
	want.Node = "bravo"
	want.Attempts, want.Status, want.Output = 3, "exit 2", "line 1\nno such file: ✗\n"
	mustAppend(t, h, want)
	runs := mustRuns(t, h, job, 10)
	if len(runs) != 1 {
		t.Fatalf("%d runs, want 1", len(runs))
	}
	got := runs[0]
	if got.Job != want.Job || !got.Tick.Equal(want.Tick) || got.Term != want.Term || got.Node != want.Node ||
		!got.Start.Equal(want.Start) || got.Duration != want.Duration || got.Result != want.Result ||
		got.Error != want.Error || got.Manual != want.Manual || got.Attempts != want.Attempts ||
		got.Status != want.Status || got.Output != want.Output {
		t.Fatalf("read back\n %+v\nwant\n %+v", got, want)
	}
	if got.ID() != want.ID() || !strings.HasPrefix(got.ID(), job+"@") {
		t.Fatalf("ID %q, want %q", got.ID(), want.ID())
	}
}

func testHistoryNewestFirst(t *testing.T, h store.History, job string) {
	// Appended out of tick order, as a lost record may be.
	mustAppend(t, h, run(job, 1, 1, store.ResultOK), run(job, 3, 2, store.ResultOK), run(job, 2, 1, store.ResultLost))
	if got := ticks(mustRuns(t, h, job, 10)); got != "3:ok 2:lost 1:ok" {
		t.Fatalf("runs %q, want newest tick first: 3:ok 2:lost 1:ok", got)
	}
	if got := ticks(mustRuns(t, h, job, 2)); got != "3:ok 2:lost" {
		t.Fatalf("runs with limit 2: %q, want 3:ok 2:lost", got)
	}
}

func testHistoryKeepsTheLimit(t *testing.T, h store.History, job string) {
	for n := 1; n <= HistoryLimit+3; n++ {
		mustAppend(t, h, run(job, n, 1, store.ResultOK))
	}
	if got := ticks(mustRuns(t, h, job, 100)); got != "8:ok 7:ok 6:ok 5:ok 4:ok" {
		t.Fatalf("after %d appends with a limit of %d: %q, want the last %d", HistoryLimit+3, HistoryLimit, got, HistoryLimit)
	}
}

func testHistoryLostAfterRecorded(t *testing.T, h store.History, job string) {
	mustAppend(t, h, run(job, 1, 1, store.ResultOK))
	mustAppend(t, h, run(job, 1, 1, store.ResultLost)) // its node died after the run
	if got := ticks(mustRuns(t, h, job, 10)); got != "1:ok" {
		t.Fatalf("lost after the run's own record: %q, want 1:ok alone", got)
	}
	mustAppend(t, h, run(job, 2, 1, store.ResultOK), run(job, 3, 1, store.ResultLost)) // died during tick 3
	if got := ticks(mustRuns(t, h, job, 10)); got != "3:lost 2:ok 1:ok" {
		t.Fatalf("lost with no record of its run: %q, want 3:lost 2:ok 1:ok", got)
	}
}

func testHistoryRunBeatsLost(t *testing.T, h store.History, job string) {
	// A frozen node's run is recorded lost by the node that took over, then
	// by itself when it wakes up.
	mustAppend(t, h, run(job, 1, 1, store.ResultOK), run(job, 2, 1, store.ResultLost), run(job, 2, 1, store.ResultCancelled))
	if got := ticks(mustRuns(t, h, job, 10)); got != "2:cancelled 1:ok" {
		t.Fatalf("runs %q, want the run's own record over lost: 2:cancelled 1:ok", got)
	}
}

func testHistoryJobsIndependent(t *testing.T, h store.History, job string) {
	mustAppend(t, h, run(job+"-1", 1, 1, store.ResultOK), run(job+"-2", 2, 1, store.ResultError))
	if got := ticks(mustRuns(t, h, job+"-1", 10)); got != "1:ok" {
		t.Fatalf("job 1: %q, want 1:ok", got)
	}
	if got := ticks(mustRuns(t, h, job+"-2", 10)); got != "2:error" {
		t.Fatalf("job 2: %q, want 2:error", got)
	}
}

func testHistoryErrorTruncated(t *testing.T, h store.History, job string) {
	r := run(job, 1, 1, store.ResultError)
	r.Error = strings.Repeat("é", 2000)
	mustAppend(t, h, r)
	got := mustRuns(t, h, job, 1)[0].Error
	if len(got) > store.MaxErrorBytes || !strings.HasSuffix(got, "…") || !strings.HasPrefix(got, "éé") {
		t.Fatalf("stored error of %d bytes (%q...), want at most %d ending in …", len(got), got[:10], store.MaxErrorBytes)
	}
}

func testHistoryOutputKeepsItsEnd(t *testing.T, h store.History, job string) {
	r := run(job, 1, 1, store.ResultError)
	r.Output = strings.Repeat("é", 5000) + "the end\n"
	r.Status = "exit " + strings.Repeat("9", 100)
	mustAppend(t, h, r)
	got := mustRuns(t, h, job, 1)[0]
	if len(got.Output) > store.MaxOutputBytes || !strings.HasPrefix(got.Output, "…é") || !strings.HasSuffix(got.Output, "the end\n") {
		t.Fatalf("stored output of %d bytes, want at most %d: its end, after …", len(got.Output), store.MaxOutputBytes)
	}
	if len(got.Status) > store.MaxStatusBytes || !strings.HasPrefix(got.Status, "exit 99") {
		t.Fatalf("stored status %q, want at most %d bytes", got.Status, store.MaxStatusBytes)
	}
}

func testHistoryConcurrent(t *testing.T, h store.History, job string) {
	const n = 20
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			if err := h.AppendRun(context.Background(), run(job, i+1, 1, store.ResultOK)); err != nil {
				t.Errorf("concurrent AppendRun %d: %v", i, err)
			}
		})
	}
	wg.Wait()
	runs := mustRuns(t, h, job, 100)
	seen := map[int64]bool{}
	for _, r := range runs {
		if seen[r.Tick.UnixNano()] || r.Tick.Before(tick(1)) || r.Tick.After(tick(n)) {
			t.Fatalf("runs %s: a duplicate or a tick never appended", ticks(runs))
		}
		seen[r.Tick.UnixNano()] = true
	}
	if len(runs) != HistoryLimit {
		t.Fatalf("after %d concurrent appends: %d runs (%s), want the limit, %d", n, len(runs), ticks(runs), HistoryLimit)
	}
}
