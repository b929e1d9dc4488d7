//go:build unix

package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// every is the schedule of the jobs-file tests' jobs: "@every 1s".
const every = time.Second

// node is a daemon of a jobs-file test and the port it serves its API on.
type node struct {
	*proc
	port int
}

// startNode starts a daemon and waits until it listens.
func (c *cluster) startNode(name string, extra ...string) node {
	c.t.Helper()
	p := c.start(name, extra...)
	select {
	case port := <-p.port:
		return node{proc: p, port: port}
	case <-p.exited:
		c.t.Fatalf("%s exited before it listened", name)
	case <-time.After(30 * time.Second):
		c.t.Fatalf("%s did not listen within 30s", name)
	}
	return node{}
}

// writeFile writes body to dir/name and returns the path.
func writeFile(t *testing.T, dir, name, body string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// nextTick is the first tick of an "@every 1s" job after at.
func nextTick(at time.Time) time.Time { return at.Truncate(every).Add(every) }

// getJSON decodes GET url's body into v.
func getJSON(t *testing.T, url string, v any) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", url, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", url, resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
}

// targetRecord is one run as its target saw it: from the command's
// environment, or from the HTTP request's headers.
type targetRecord struct {
	job  string
	tick time.Time
	term int64
	node string
}

// checkOncePerTick checks what a target saw of job: no tick twice, every
// tick in [from, to] once, terms never going back from one tick to the
// next, and each run's node and term those of its tick's Running event.
func checkOncePerTick(t *testing.T, what, job string, recs []targetRecord, events []event, from, to time.Time) {
	t.Helper()
	running := map[int64]event{} // by tick, in ns
	for _, ev := range events {
		if ev.Message == "Running" && ev.Job == job {
			running[ev.Tick.UnixNano()] = ev
		}
	}
	seen := map[int64]int{}
	byNode := map[string]int{}
	slices.SortStableFunc(recs, func(a, b targetRecord) int { return a.tick.Compare(b.tick) })
	for i, r := range recs {
		seen[r.tick.UnixNano()]++
		byNode[r.node]++
		if seen[r.tick.UnixNano()] == 2 {
			t.Errorf("%s: tick %s seen twice", what, r.tick.Format(time.TimeOnly))
		}
		if r.job != job {
			t.Errorf("%s: job %q, want %q", what, r.job, job)
		}
		if i > 0 && r.term < recs[i-1].term {
			t.Errorf("%s: tick %s with term %d after tick %s with term %d", what, r.tick.Format(time.TimeOnly), r.term,
				recs[i-1].tick.Format(time.TimeOnly), recs[i-1].term)
		}
		if ev, ok := running[r.tick.UnixNano()]; !ok || ev.Node != r.node || ev.Term != r.term {
			t.Errorf("%s: tick %s from %s with term %d; its Running event: %+v", what, r.tick.Format(time.TimeOnly), r.node, r.term, ev)
		}
	}
	if len(recs) == 0 {
		t.Errorf("%s: no runs seen", what)
		return
	}
	n := 0
	for tick := from; !tick.After(to); tick = tick.Add(every) {
		n++
		if seen[tick.UnixNano()] == 0 {
			t.Errorf("%s: tick %s never seen", what, tick.Format(time.TimeOnly))
		}
	}
	t.Logf("%s: %d ticks judged (%s to %s); %d runs seen in all, by node %v, terms %d to %d", what, n,
		from.Format(time.TimeOnly), to.Format(time.TimeOnly), len(recs), byNode, recs[0].term, recs[len(recs)-1].term)
}

// hookTarget is the HTTP target of a test: it records each request.
type hookTarget struct {
	*httptest.Server
	mu   sync.Mutex
	reqs []*http.Request // header and method only
}

func newHookTarget(t *testing.T) *hookTarget {
	h := &hookTarget{}
	h.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.mu.Lock()
		h.reqs = append(h.reqs, &http.Request{Method: r.Method, URL: r.URL, Header: r.Header.Clone()})
		h.mu.Unlock()
		fmt.Fprintf(w, "recorded %s", r.Header.Get("Idempotency-Key"))
	}))
	t.Cleanup(h.Close)
	return h
}

// records checks each request's headers and returns the runs they name.
func (h *hookTarget) records(t *testing.T, nodes []string) []targetRecord {
	t.Helper()
	h.mu.Lock()
	defer h.mu.Unlock()
	var recs []targetRecord
	for _, r := range h.reqs {
		job, tickText := r.Header.Get("X-Job-Name"), r.Header.Get("X-Job-Tick")
		tick, terr := time.Parse(time.RFC3339, tickText)
		term, nerr := strconv.ParseInt(r.Header.Get("X-Job-Term"), 10, 64)
		nodeName := r.Header.Get("X-Job-Node")
		if terr != nil || nerr != nil || term < 1 || !slices.Contains(nodes, nodeName) || r.Method != "POST" ||
			r.URL.Path != "/tick" || r.Header.Get("Idempotency-Key") != job+"/"+tickText {
			t.Errorf("request %s %s with headers %v: want POST /tick, X-Job-Tick in RFC 3339, X-Job-Term > 0, "+
				"X-Job-Node one of %v, Idempotency-Key <X-Job-Name>/<X-Job-Tick>", r.Method, r.URL, r.Header, nodes)
			continue
		}
		recs = append(recs, targetRecord{job: job, tick: tick, term: term, node: nodeName})
	}
	return recs
}

// appendedTicks reads the lines "$JOB_NAME $JOB_TICK $JOB_TERM $JOB_NODE"
// a command appended to path.
func appendedTicks(t *testing.T, path string, nodes []string) []targetRecord {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var recs []targetRecord
	for _, line := range strings.Split(strings.TrimSuffix(string(b), "\n"), "\n") {
		f := strings.Fields(line)
		if len(f) != 4 {
			t.Errorf("line %q: want JOB_NAME JOB_TICK JOB_TERM JOB_NODE", line)
			continue
		}
		tick, terr := time.Parse(time.RFC3339, f[1])
		term, nerr := strconv.ParseInt(f[2], 10, 64)
		if terr != nil || nerr != nil || term < 1 || !slices.Contains(nodes, f[3]) {
			t.Errorf("line %q: want JOB_TICK in RFC 3339, JOB_TERM > 0, JOB_NODE one of %v", line, nodes)
			continue
		}
		recs = append(recs, targetRecord{job: f[0], tick: tick, term: term, node: f[3]})
	}
	return recs
}

// TestJobsFileTargets is the jobs file's acceptance run: three daemons on
// the emulator, one jobs file with a command job that appends
// "$JOB_NAME $JOB_TICK $JOB_TERM $JOB_NODE" to a file and an HTTP job whose
// target records each request's headers. Over ten ticks each target sees
// each tick once, with the run's node and term, and terms never go back.
func TestJobsFileTargets(t *testing.T) {
	if testing.Short() {
		t.Skip("real processes for about 20 seconds")
	}
	c := newCluster(t)
	hook := newHookTarget(t)
	dir := t.TempDir()
	ticks := filepath.Join(dir, "ticks.txt")
	file := writeFile(t, dir, "jobs.yaml", `jobs:
  - name: append_tick
    schedule: "@every 1s"
    shell: echo "$JOB_NAME $JOB_TICK $JOB_TERM $JOB_NODE" >> "$TICKS_FILE"
    env:
      TICKS_FILE: ${E2E_TICKS_FILE}
  - name: call_hook
    schedule: "@every 1s"
    http:
      url: ${E2E_HOOK_URL}/tick
`)
	names := []string{"alpha", "bravo", "charlie"}
	var nodes []node
	for _, n := range names {
		nodes = append(nodes, c.startNode(n, "JOBS_FILE="+file, "E2E_TICKS_FILE="+ticks, "E2E_HOOK_URL="+hook.URL))
	}
	from := nextTick(time.Now())
	to := from.Add(10 * every)
	for _, job := range []string{"append_tick", "call_hook"} {
		c.waitEvent("the run of "+job+"'s last tick", from, time.Until(to)+20*time.Second, func(ev event) bool {
			return ev.Message == "Finished" && ev.Job == job && !ev.Tick.Before(to)
		})
	}
	// The run history says how each run ended, and keeps the response body.
	for job, want := range map[string]string{"append_tick": "exit 0", "call_hook": "HTTP 200"} {
		var runs []runItem
		getJSON(t, fmt.Sprintf("http://127.0.0.1:%d/jobs/%s/runs", nodes[0].port, job), &runs)
		n := 0
		for _, r := range runs {
			if r.Tick.Before(from) || r.Tick.After(to) {
				continue
			}
			n++
			wantOutput := ""
			if job == "call_hook" {
				wantOutput = "recorded call_hook/" + r.Tick.UTC().Format(time.RFC3339)
			}
			if r.Result != "ok" || r.Status != want || r.Output != wantOutput {
				t.Errorf("/jobs/%s/runs: %+v, want result ok, status %q, output %q", job, r, want, wantOutput)
			}
		}
		if n != 11 {
			t.Errorf("/jobs/%s/runs: %d runs of ticks %s to %s, want 11", job, n, from.Format(time.TimeOnly), to.Format(time.TimeOnly))
		}
	}
	c.stopAll()

	events, faults, procs := c.snapshot()
	v := judge(events, faults, procs, from, to, every, time.Now())
	v.assertSafe(t)
	checkOncePerTick(t, "the command's file", "append_tick", appendedTicks(t, ticks, names), events, from, to)
	checkOncePerTick(t, "the HTTP target", "call_hook", hook.records(t, names), events, from, to)
}

// TestJobsFileReload: SIGHUP re-reads the jobs file. A file with a mistake
// is refused ("Jobs file rejected", naming FILE:LINE:COLUMN) and the jobs
// go on; a valid one is applied ("Jobs reloaded"): the added job starts
// within one tick on some replica, the removed one runs nowhere once every
// replica has reloaded, and the job that stayed loses no tick.
func TestJobsFileReload(t *testing.T) {
	if testing.Short() {
		t.Skip("real processes for about 20 seconds")
	}
	c := newCluster(t)
	dir := t.TempDir()
	job := func(name string) string {
		return "  - name: " + name + "\n    schedule: \"@every 1s\"\n    command: [echo, " + name + "]\n"
	}
	file := writeFile(t, dir, "jobs.yaml", "jobs:\n"+job("kept_job")+job("old_job"))
	var nodes []node
	for _, n := range []string{"alpha", "bravo", "charlie"} {
		nodes = append(nodes, c.startNode(n, "JOBS_FILE="+file))
	}
	from := nextTick(time.Now())
	c.waitEvent("a run of old_job", from, 10*time.Second, func(ev event) bool { return ev.Message == "Running" && ev.Job == "old_job" })

	// A mistake: alpha refuses the file and goes on with its jobs.
	writeFile(t, dir, "jobs.yaml", "jobs:\n"+job("kept_job")+job("new_job")+"    timeot: 5s\n")
	hupped := time.Now()
	c.signal(nodes[0].proc, syscall.SIGHUP, "", "")
	rejected := c.waitEvent("Jobs file rejected", hupped, 10*time.Second, func(ev event) bool {
		return ev.Message == "Jobs file rejected" && ev.Instance == nodes[0].instance
	})
	if want := file + `:8:5: job "new_job": unknown field "timeot"`; len(rejected.Errors) != 1 || !strings.HasPrefix(rejected.Errors[0], want) {
		t.Errorf("Jobs file rejected with errors %q, want one starting %q", rejected.Errors, want)
	}
	if jobs, err := jobsView(context.Background(), nodes[0].port); err != nil || len(jobs) != 2 || !hasKeys(jobs, "kept_job", "old_job") {
		t.Errorf("alpha's /jobs after the refused file: %v, %v; want kept_job and old_job", jobs, err)
	}

	// The fix: old_job out, new_job in, on alpha first, then the others.
	writeFile(t, dir, "jobs.yaml", "jobs:\n"+job("kept_job")+job("new_job"))
	var reloads []event
	for i, n := range nodes {
		hupped := time.Now()
		c.signal(n.proc, syscall.SIGHUP, "", "")
		ev := c.waitEvent("Jobs reloaded on "+n.node, hupped, 10*time.Second, func(ev event) bool {
			return ev.Message == "Jobs reloaded" && ev.Instance == n.instance
		})
		if fmt.Sprint(ev.Added, ev.Removed, ev.Changed) != "[new_job] [old_job] []" {
			t.Errorf("%s: Jobs reloaded with added %v, removed %v, changed %v; want [new_job], [old_job], []", n.node, ev.Added, ev.Removed, ev.Changed)
		}
		reloads = append(reloads, ev)
		if i == 0 {
			first := c.waitEvent("a run of new_job", hupped, 10*time.Second, func(ev event) bool {
				return ev.Message == "Running" && ev.Job == "new_job"
			})
			t.Logf("new_job: reloaded on %s at %s; first run on %s: tick %s, %s after the reload",
				n.node, ev.Time.Format("15:04:05.000"), first.Node, first.Tick.Format(time.TimeOnly), first.Time.Sub(ev.Time).Round(time.Millisecond))
			if first.Tick.After(nextTick(ev.Time)) {
				t.Errorf("new_job's first run is of tick %s; want the first after the reload, %s", first.Tick.Format(time.TimeOnly), nextTick(ev.Time).Format(time.TimeOnly))
			}
		}
	}
	last := reloads[len(reloads)-1].Time
	to := nextTick(last).Add(3 * every)
	c.waitEvent("a run of kept_job three ticks after the last reload", last, 20*time.Second, func(ev event) bool {
		return ev.Message == "Finished" && ev.Job == "kept_job" && !ev.Tick.Before(to)
	})
	for _, n := range nodes {
		jobs, err := jobsView(context.Background(), n.port)
		if err != nil || len(jobs) != 2 || !hasKeys(jobs, "kept_job", "new_job") {
			t.Errorf("%s's /jobs: %v, %v; want kept_job and new_job", n.node, jobs, err)
		}
	}
	c.stopAll()

	events, faults, procs := c.snapshot()
	v := judge(events, faults, procs, from, to, every, time.Now())
	v.assertSafe(t)
	var firstNew time.Time
	var lastOld event
	released := map[int]time.Time{} // old_job's lease, by instance
	for _, ev := range events {
		switch {
		case ev.Message == "Running" && ev.Job == "old_job" && ev.Time.After(last):
			t.Errorf("old_job ran on %s (tick %s) after every replica had reloaded", ev.Node, ev.Tick.Format(time.TimeOnly))
		case ev.Message == "Running" && ev.Job == "old_job":
			lastOld = ev
		case ev.Message == "Released" && ev.Job == "old_job":
			released[ev.Instance] = ev.Time
		case ev.Message == "Running" && ev.Job == "new_job" && (firstNew.IsZero() || ev.Tick.Before(firstNew)):
			firstNew = ev.Tick
		}
	}
	if at, ok := released[lastOld.Instance]; !ok || at.Before(lastOld.Time) {
		t.Errorf("%s ran old_job last (tick %s) and did not release its lease once it reloaded; releases: %v",
			lastOld.Node, lastOld.Tick.Format(time.TimeOnly), released)
	}
	for _, tick := range v.missed["kept_job"] {
		t.Errorf("kept_job: tick %s missed", tick.Format(time.TimeOnly))
	}
	for _, tick := range v.missed["new_job"] {
		if tick.After(firstNew) {
			t.Errorf("new_job: tick %s missed after its first run", tick.Format(time.TimeOnly))
		}
	}
}

func hasKeys(m map[string]string, keys ...string) bool {
	for _, k := range keys {
		if _, ok := m[k]; !ok {
			return false
		}
	}
	return true
}

// TestJobsFileReplicasDisagree: two replicas have a job the third lacks.
// Each logs "Job sets differ", /members shows the third's job_set apart,
// and the job runs once per tick, only on the two.
func TestJobsFileReplicasDisagree(t *testing.T) {
	if testing.Short() {
		t.Skip("real processes for about 20 seconds")
	}
	c := newCluster(t)
	dir := t.TempDir()
	common := "  - name: common_job\n    schedule: \"@every 1s\"\n    command: [echo, common]\n"
	partial := "  - name: partial_job\n    schedule: \"@every 1s\"\n    command: [echo, partial]\n"
	both := writeFile(t, dir, "both.yaml", "jobs:\n"+common+partial)
	one := writeFile(t, dir, "one.yaml", "jobs:\n"+common)
	nodes := []node{
		c.startNode("alpha", "JOBS_FILE="+both),
		c.startNode("bravo", "JOBS_FILE="+both),
		c.startNode("charlie", "JOBS_FILE="+one),
	}
	started := time.Now()
	for _, n := range nodes {
		c.waitEvent("Job sets differ on "+n.node, started.Add(-time.Minute), 15*time.Second, func(ev event) bool {
			return ev.Message == "Job sets differ" && ev.Instance == n.instance
		})
	}
	from := nextTick(time.Now())
	to := from.Add(8 * every)
	for _, job := range []string{"common_job", "partial_job"} {
		c.waitEvent("the run of "+job+"'s last tick", from, time.Until(to)+20*time.Second, func(ev event) bool {
			return ev.Message == "Finished" && ev.Job == job && !ev.Tick.Before(to)
		})
	}
	for _, n := range nodes {
		var members struct {
			Members []struct {
				Node   string `json:"node"`
				JobSet string `json:"job_set"`
			} `json:"members"`
		}
		getJSON(t, fmt.Sprintf("http://127.0.0.1:%d/members", n.port), &members)
		sets := map[string]string{}
		for _, m := range members.Members {
			sets[m.Node] = m.JobSet
		}
		if len(sets) != 3 || sets["alpha"] == "" || sets["alpha"] != sets["bravo"] || sets["charlie"] == "" || sets["charlie"] == sets["alpha"] {
			t.Errorf("%s's /members: job sets %v; want alpha's and bravo's equal, charlie's apart", n.node, sets)
		}
	}
	c.stopAll()

	events, faults, procs := c.snapshot()
	v := judge(events, faults, procs, from, to, every, time.Now())
	v.assertSafe(t)
	for job, ticks := range v.missed {
		for _, tick := range ticks {
			t.Errorf("%s: tick %s missed", job, tick.Format(time.TimeOnly))
		}
	}
	ranOn := map[string]int{}
	for _, r := range v.runs {
		if r.job == "partial_job" {
			ranOn[r.node]++
		}
	}
	if ranOn["charlie"] > 0 || ranOn["alpha"]+ranOn["bravo"] == 0 {
		t.Errorf("partial_job ran %v times per node; want it only on alpha and bravo", ranOn)
	}
	t.Logf("partial_job's runs per node: %v; ticks %s to %s judged, none missed or run twice", ranOn, from.Format(time.TimeOnly), to.Format(time.TimeOnly))
}
