package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go-leader-election/internal/server"
)

// lines is a stdout that keeps every line written, for the test to wait on.
// It never blocks the writer, whatever the test reads.
type lines struct {
	mu      sync.Mutex
	partial []byte
	all     []string
	changed chan struct{} // closed and replaced whenever a line arrives
	next    int           // the first line waitFor has not looked at
}

func newLines() *lines { return &lines{changed: make(chan struct{})} }

func (l *lines) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.partial = append(l.partial, p...)
	for {
		i := bytes.IndexByte(l.partial, '\n')
		if i < 0 {
			break
		}
		l.all = append(l.all, string(l.partial[:i]))
		l.partial = l.partial[i+1:]
	}
	close(l.changed)
	l.changed = make(chan struct{})
	return len(p), nil
}

type event struct {
	Message string    `json:"message"`
	Job     string    `json:"job"`
	Node    string    `json:"node"`
	Tick    string    `json:"tick"`
	Term    int64     `json:"term"`
	Port    int       `json:"port"`
	Error   string    `json:"error"`
	Time    time.Time `json:"time"`
}

// seen reports whether any line so far satisfies ok.
func (l *lines) seen(ok func(line string, ev event) bool) bool {
	l.mu.Lock()
	all := l.all
	l.mu.Unlock()
	_, found := firstMatch(all, ok)
	return found
}

// firstMatch returns the event of the first line that satisfies ok.
func firstMatch(lines []string, ok func(line string, ev event) bool) (event, bool) {
	for _, line := range lines {
		var ev event
		_ = json.Unmarshal([]byte(line), &ev)
		if ok(line, ev) {
			return ev, true
		}
	}
	return event{}, false
}

// waitFor reads lines until one satisfies ok, or 30 s pass.
func (l *lines) waitFor(t *testing.T, what string, ok func(line string, ev event) bool) event {
	t.Helper()
	timeout := time.After(30 * time.Second)
	for {
		l.mu.Lock()
		pending, changed := l.all[l.next:], l.changed
		l.next = len(l.all)
		l.mu.Unlock()
		if ev, found := firstMatch(pending, ok); found {
			return ev
		}
		select {
		case <-changed:
		case <-timeout:
			t.Fatalf("no %s within 30s", what)
		}
	}
}

func TestRunServesRunsAndStopsCleanly(t *testing.T) {
	env := map[string]string{
		"APP_PORT": "0", "LOG_FORMAT": "json", "NODE_NAME": "solo",
		"GO_PREACHER_SCHEDULE": "@every 1s", "SCALA_PREACHER_SCHEDULE": "@every 1s", "PREACHER_TIMES": "1",
	}
	out := newLines()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"go-leader-election"}, func(k string) string { return env[k] }, out, io.Discard)
	}()

	listening := out.waitFor(t, "Listening event", func(_ string, ev event) bool { return ev.Port != 0 })
	base := "http://127.0.0.1:" + strconv.Itoa(listening.Port)
	if resp, err := http.Get(base + "/healthz"); err != nil || resp.StatusCode != 200 {
		t.Fatalf("/healthz: %v %v", resp, err)
	}
	running := out.waitFor(t, "Running event", func(_ string, ev event) bool { return ev.Message == "Running" })
	if running.Node != "solo" || running.Job == "" || running.Term != 1 {
		t.Fatalf("Running event %+v, want node solo, a job, term 1", running)
	}
	if _, err := time.Parse(time.RFC3339, running.Tick); err != nil {
		t.Fatalf("Running tick %q is not RFC 3339: %v", running.Tick, err)
	}
	out.waitFor(t, "a sermon", func(line string, _ event) bool {
		return line == "Go is the best modern programming language" || line == "Scala is the most exciting language on the JVM"
	})
	out.waitFor(t, "Finished event", func(_ string, ev event) bool { return ev.Message == "Finished" })

	if resp, err := http.Get(base + "/readyz"); err != nil || resp.StatusCode != 200 {
		t.Fatalf("/readyz: %v %v", resp, err)
	}
	resp, err := http.Get(base + "/jobs")
	if err != nil {
		t.Fatal(err)
	}
	var jobs server.JobsResponse
	if err := json.NewDecoder(resp.Body).Decode(&jobs); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	names := []string{}
	for _, j := range jobs.Jobs {
		names = append(names, j.Job)
		if j.Job == running.Job && (j.Leader != "solo" || !j.Leading && j.Term == 0) {
			t.Errorf("/jobs %s: %+v, want leader solo", j.Job, j)
		}
	}
	if strings.Join(names, ",") != "go_preacher,scala_preacher" {
		t.Errorf("/jobs lists %v, want both preachers", names)
	}

	body := get(t, base+"/metrics")
	for series, min := range map[string]float64{
		`scheduler_runs_total{job="` + running.Job + `",result="ok"}`:     1,
		`scheduler_leader{job="` + running.Job + `"}`:                     1,
		`scheduler_skipped_total{job="go_preacher",reason="sat out"}`:     0,
		`scheduler_skipped_total{job="go_preacher",reason="overlap"}`:     0,
		`scheduler_skipped_total{job="go_preacher",reason="missed"}`:      0,
		`scheduler_tick_lag_seconds_count{job="` + running.Job + `"}`:     1,
		`scheduler_run_duration_seconds_count{job="` + running.Job + `"}`: 1,
		`scheduler_lease_lost_total{job="go_preacher"}`:                   0,
		`store_requests_total{code="OK",method="claim"}`:                  1,
		`store_request_duration_seconds_count{method="claim"}`:            1,
		`go_goroutines`:                 1,
		`process_resident_memory_bytes`: 1,
	} {
		v, ok := metricValue(body, series)
		if !ok || v < min {
			t.Errorf("/metrics: %s = %v (present %v), want at least %v", series, v, ok, min)
		}
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("run returned %v after cancel, want nil", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("run did not return within 30s of cancel")
	}
}

func TestRunRejectsBadConfigurationBeforeStarting(t *testing.T) {
	for _, tc := range []struct{ key, value, want string }{
		{"GO_PREACHER_SCHEDULE", "every tuesday-ish", "go_preacher"},
		{"APP_PORT", "abc", "APP_PORT"},
		{"STORE", "etcd", "STORE"},
	} {
		env := map[string]string{tc.key: tc.value, "APP_PORT": "0"}
		if tc.key == "APP_PORT" {
			env["APP_PORT"] = tc.value
		}
		err := run(context.Background(), []string{"x"}, func(k string) string { return env[k] }, io.Discard, io.Discard)
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), tc.value) {
			t.Errorf("%s=%q: run returned %v, want an error naming %s and the value", tc.key, tc.value, err, tc.want)
		}
	}
}

func get(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d %v", url, resp.StatusCode, err)
	}
	return string(b)
}

// metricValue finds series (name and labels, exactly as exposed) in a
// Prometheus text exposition.
func metricValue(body, series string) (float64, bool) {
	for _, line := range strings.Split(body, "\n") {
		if rest, ok := strings.CutPrefix(line, series+" "); ok {
			v, err := strconv.ParseFloat(strings.TrimSpace(rest), 64)
			return v, err == nil
		}
	}
	return 0, false
}
