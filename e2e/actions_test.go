package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
	"testing"
	"time"
)

const e2eToken = "e2e-admin-token-0123456789abcdef"

// call makes one HTTP request to a node and decodes its JSON answer into out
// (if set); it returns the status.
func call(t *testing.T, method string, port int, path, token string, out any) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, method, fmt.Sprintf("http://127.0.0.1:%d%s", port, path), nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s on port %d: %v", method, path, port, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if out != nil && resp.StatusCode < 300 {
		if err := json.Unmarshal(body, out); err != nil {
			t.Fatalf("%s %s: %v in %s", method, path, err, body)
		}
	}
	return resp.StatusCode
}

type runItem struct {
	ID     string    `json:"id"`
	Job    string    `json:"job"`
	Tick   time.Time `json:"tick"`
	Term   int64     `json:"term"`
	Node   string    `json:"node"`
	Result string    `json:"result"`
	Manual bool      `json:"manual"`
	Status string    `json:"status"` // a command's or an HTTP target's
	Output string    `json:"output"` // the end of its output or response body
}

// TestOperatorActions is the run history and actions issue's acceptance
// check, on the binary's emulator and three daemons with both jobs @every
// 1s: every node's history lists the runs of every node; a pause from one
// node's API stops the job on every node, a resume from another starts it
// again; a run-now from a follower runs once, on that one node.
func TestOperatorActions(t *testing.T) {
	if testing.Short() {
		t.Skip("starts real processes for about 30 seconds")
	}
	c := newCluster(t, "ADMIN_TOKEN="+e2eToken, "LOG_LEVEL=debug")
	names := []string{"alpha", "bravo", "charlie"}
	ports := map[string]int{}
	for _, n := range names {
		ports[n] = <-c.start(n).port
	}
	const job = "go_preacher"
	time.Sleep(6 * time.Second) // a few runs of each job

	// The history, on every node, has every node's runs.
	asked := time.Now()
	histories := map[string][]runItem{}
	for _, n := range names {
		var items []runItem
		if code := call(t, "GET", ports[n], "/jobs/"+job+"/runs", "", &items); code != 200 {
			t.Fatalf("GET runs on %s: %d", n, code)
		}
		histories[n] = items
	}
	events, _, _ := c.snapshot()
	finished := 0
	for _, ev := range events {
		if ev.Message != "Finished" || ev.Job != job || ev.Time.After(asked.Add(-500*time.Millisecond)) {
			continue
		}
		finished++
		for _, n := range names {
			if !hasRun(histories[n], ev.Tick, ev.Node) {
				t.Errorf("%s's history lacks %s's run of tick %s", n, ev.Node, ev.Tick.Format(time.TimeOnly))
			}
		}
	}
	if finished < 3 {
		t.Fatalf("%d runs of %s finished in 6 s, want several", finished, job)
	}

	// Pause from alpha: refused without the token, then done with it.
	if code := call(t, "POST", ports["alpha"], "/jobs/"+job+"/pause", "", nil); code != 401 {
		t.Fatalf("pause without a token: %d, want 401", code)
	}
	if code := call(t, "POST", ports["alpha"], "/jobs/"+job+"/pause", "wrong-"+e2eToken, nil); code != 403 {
		t.Fatalf("pause with a wrong token: %d, want 403", code)
	}
	var paused struct{ Paused bool }
	if code := call(t, "POST", ports["alpha"], "/jobs/"+job+"/pause", e2eToken, &paused); code != 200 || !paused.Paused {
		t.Fatalf("pause: %d %+v, want 200 paused", code, paused)
	}
	pausedAt := time.Now()
	time.Sleep(5 * time.Second) // no node may run it meanwhile
	resumeAt := time.Now()
	if code := call(t, "POST", ports["bravo"], "/jobs/"+job+"/resume", e2eToken, nil); code != 200 {
		t.Fatalf("resume on bravo: %d", code)
	}
	resumed := c.waitEvent("a run after resuming", resumeAt, 3*time.Second, func(ev event) bool {
		return ev.Message == "Running" && ev.Job == job && ev.Tick.After(resumeAt)
	})
	events, _, _ = c.snapshot()
	pausedBy := map[string]int{}
	for _, ev := range events {
		switch {
		case ev.Message == "Running" && ev.Job == job && ev.Tick.After(pausedAt) && ev.Tick.Before(resumeAt):
			t.Errorf("%s ran %s tick %s while it was paused", ev.Node, job, ev.Tick.Format(time.TimeOnly))
		case ev.Message == "Paused" && ev.Job == job:
			pausedBy[ev.Node]++
		}
	}
	for _, n := range names {
		if pausedBy[n] < 4 {
			t.Errorf("%s logged Paused %d times in 5 s, want once per tick", n, pausedBy[n])
		}
	}
	if lag := resumed.Time.Sub(resumed.Tick); lag > time.Second {
		t.Errorf("the first run after resuming started %s after its tick", lag)
	}

	// Run now, from a node that does not lead the job.
	leader := c.leader(job).node
	follower := names[0]
	for _, n := range names {
		if n != leader {
			follower = n
			break
		}
	}
	var manual struct {
		ID   string    `json:"id"`
		Tick time.Time `json:"tick"`
		Term int64     `json:"term"`
		Node string    `json:"node"`
	}
	code, tries := 0, 0
	for ; tries < 50; tries++ {
		// 409 while the leader's run is in progress or not yet recorded.
		if code = call(t, "POST", ports[follower], "/jobs/"+job+"/run", e2eToken, &manual); code != 409 {
			break
		}
		time.Sleep(50 * time.Millisecond) // a client's retry, not a synchronisation
	}
	if code != 202 || manual.Node != follower || manual.ID == "" {
		t.Fatalf("run now on %s (leader %s): %d %+v after %d tries, want 202 on %s", follower, leader, code, manual, tries+1, follower)
	}
	c.waitEvent("the manual run's end", time.Time{}, 5*time.Second, func(ev event) bool {
		return ev.Message == "Finished" && ev.Job == job && ev.Tick.Equal(manual.Tick)
	})
	time.Sleep(2 * time.Second) // a couple more ticks, for the judge below
	c.stopAll()

	events, _, _ = c.snapshot()
	var manualRuns []event
	ticks := map[string]map[int64]int{}
	for _, ev := range events {
		if ev.Message != "Running" {
			continue
		}
		if ticks[ev.Job] == nil {
			ticks[ev.Job] = map[int64]int{}
		}
		if ticks[ev.Job][ev.Tick.UnixNano()]++; ticks[ev.Job][ev.Tick.UnixNano()] == 2 {
			t.Errorf("%s tick %s ran twice", ev.Job, ev.Tick.Format(time.StampMicro))
		}
		if ev.Job == job && ev.Tick.Equal(manual.Tick) {
			manualRuns = append(manualRuns, ev)
		}
	}
	if len(manualRuns) != 1 || manualRuns[0].Node != follower || manualRuns[0].Term != manual.Term {
		t.Errorf("runs of the manual tick: %+v, want exactly one, on %s under term %d", manualRuns, follower, manual.Term)
	}
	checkNoOverlap(t, events, job)
	actions := 0
	for _, ev := range events {
		if ev.Message == "Action" && ev.Action != "" && ev.Remote != "" && ev.Job == job {
			actions++
		}
	}
	if actions < 5 {
		t.Errorf("%d Action events with action, job and remote, want one per request (at least 5)", actions)
	}
	t.Logf("%d runs of %s judged; manual run %s on %s after %d tries; Paused logged %v", len(ticks[job]), job, manual.ID, follower, tries+1, pausedBy)
}

func hasRun(items []runItem, tick time.Time, node string) bool {
	for _, it := range items {
		if it.Tick.Equal(tick) && it.Node == node {
			return true
		}
	}
	return false
}

// checkNoOverlap checks that job's runs, from Running to Finished, never
// overlap across processes.
func checkNoOverlap(t *testing.T, events []event, job string) {
	t.Helper()
	type span struct {
		node       string
		start, end time.Time
		tick       time.Time
	}
	starts := map[string]event{}
	var spans []span
	for _, ev := range events {
		key := fmt.Sprintf("%d/%d", ev.Instance, ev.Tick.UnixNano())
		switch {
		case ev.Job != job:
		case ev.Message == "Running":
			starts[key] = ev
		case ev.Message == "Finished":
			if s, ok := starts[key]; ok {
				spans = append(spans, span{s.Node, s.Time, ev.Time, ev.Tick})
			}
		}
	}
	sort.Slice(spans, func(i, j int) bool { return spans[i].start.Before(spans[j].start) })
	for i := 1; i < len(spans); i++ {
		if spans[i].start.Before(spans[i-1].end) {
			t.Errorf("overlap: %s ran %s from %s while %s ran %s until %s", spans[i].node, spans[i].tick.Format(time.StampMicro),
				spans[i].start.Format(time.StampMilli), spans[i-1].node, spans[i-1].tick.Format(time.StampMicro), spans[i-1].end.Format(time.StampMilli))
		}
	}
}
