package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"go-leader-election/internal/schedulers"
	"go-leader-election/store"
)

const testToken = "t0ken-for-the-tests-0123456789"

// fakeActions records the actions asked of it and answers err, if set.
type fakeActions struct {
	mu    sync.Mutex
	calls []string
	err   error
}

func (f *fakeActions) RunNow(_ context.Context, job string) (schedulers.ManualRun, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, "run "+job)
	if f.err != nil {
		return schedulers.ManualRun{}, f.err
	}
	tick := statusNow.Add(1500 * time.Millisecond)
	return schedulers.ManualRun{ID: store.RunID(job, tick), Job: job, Tick: tick, Term: 4, Node: "alpha"}, nil
}

func (f *fakeActions) SetPaused(_ context.Context, job string, paused bool) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, fmt.Sprintf("pause %s %v", job, paused))
	return f.err
}

func sampleRuns() []store.RunRecord {
	at := func(s int) time.Time { return statusNow.Add(time.Duration(s) * time.Second) }
	return []store.RunRecord{
		{Job: "go_preacher", Tick: at(-5), Term: 3, Node: "alpha", Start: at(-5), Duration: 1500 * time.Millisecond, Result: store.ResultOK},
		{Job: "go_preacher", Tick: at(-8).Add(300 * time.Millisecond), Term: 3, Node: "alpha", Start: at(-8).Add(300 * time.Millisecond),
			Duration: time.Second, Result: store.ResultOK, Manual: true},
		{Job: "go_preacher", Tick: at(-15), Term: 2, Node: "bravo", Start: at(-15), Duration: 40 * time.Millisecond, Result: store.ResultError, Error: hostileError},
		{Job: "go_preacher", Tick: at(-25), Term: 1, Node: "charlie", Start: at(-25), Result: store.ResultLost,
			Error: "the lease of charlie lapsed; recorded by bravo, which took it over"},
	}
}

type fakeRuns struct {
	mu    sync.Mutex
	err   error
	limit int // of the latest read
}

func (f *fakeRuns) runs(_ context.Context, job string, limit int) ([]store.RunRecord, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.limit = limit
	if f.err != nil {
		return nil, f.err
	}
	if job != "go_preacher" {
		return []store.RunRecord{}, nil
	}
	r := sampleRuns()
	return r[:min(limit, len(r))], nil
}

// actionServer is New with sample jobs, runs and actions, and a log.
func actionServer(token string, acts *fakeActions, runs *fakeRuns) (http.Handler, *syncLog) {
	log := &syncLog{}
	o := Options{Node: "alpha", Store: "memory", Jobs: sampleJobs, HistoryLimit: 50, AdminToken: token,
		Ready: func(context.Context) error { return nil }, ReadyTimeout: time.Second, Log: zerolog.New(log)}
	if acts != nil {
		o.Actions = acts
	}
	if runs != nil {
		o.Runs = runs.runs
	}
	return New(o), log
}

type syncLog struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *syncLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *syncLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func do(t *testing.T, h http.Handler, method, target, auth string, body io.Reader) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(method, target, body)
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func TestRunsEndpoint(t *testing.T) {
	runs := &fakeRuns{}
	h, _ := actionServer("", nil, runs)
	rec := do(t, h, "GET", "/jobs/go_preacher/runs", "", nil)
	if rec.Code != 200 || rec.Header().Get("Content-Type") != "application/json" {
		t.Fatalf("GET runs: %d %q\n%s", rec.Code, rec.Header().Get("Content-Type"), rec.Body)
	}
	var got []map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if len(got) != 4 || runs.limit != 50 {
		t.Fatalf("%d items read with limit %d, want 4 with the default limit, HISTORY_LIMIT (50)", len(got), runs.limit)
	}
	for _, field := range []string{"id", "job", "tick", "term", "node", "start", "duration", "duration_seconds", "result", "error", "manual"} {
		if _, ok := got[0][field]; !ok {
			t.Errorf("item lacks %q: %v", field, got[0])
		}
	}
	first := got[0]
	if first["job"] != "go_preacher" || first["node"] != "alpha" || first["result"] != "ok" || first["duration"] != "1.5s" ||
		first["term"] != 3.0 || first["tick"] != "2026-11-22T12:00:05Z" || first["id"] != "go_preacher@2026-11-22T12:00:05.000000Z" {
		t.Errorf("first item %v", first)
	}
	if got[1]["manual"] != true || got[2]["error"] != hostileError || got[3]["result"] != "lost" {
		t.Errorf("items %v", got)
	}

	rec = do(t, h, "GET", "/jobs/go_preacher/runs?limit=2", "", nil)
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil || rec.Code != 200 || len(got) != 2 || runs.limit != 2 {
		t.Fatalf("?limit=2: %d, %d items (read with %d): %v", rec.Code, len(got), runs.limit, err)
	}
	for target, want := range map[string]int{
		"/jobs/go_preacher/runs?limit=0":                       400,
		"/jobs/go_preacher/runs?limit=-1":                      400,
		"/jobs/go_preacher/runs?limit=51":                      400,
		"/jobs/go_preacher/runs?limit=abc":                     400,
		"/jobs/go_preacher/runs?limit=":                        400,
		"/jobs/go_preacher/runs?limit=1e3":                     400,
		"/jobs/go_preacher/runs?limit=99999999999999999999999": 400,
		"/jobs/go_preacher/runs?x=" + strings.Repeat("a", 300): 400,
		"/jobs/go_preacher/runs?limit=50&other=1":              200,
		"/jobs/nope/runs":                                      404,
		"/jobs/" + strings.Repeat("x", 5000) + "/runs":         404,
		"/jobs/go_preacher/runs/":                              404,
		"/jobs/never_claimed/runs":                             200,
	} {
		rec := do(t, h, "GET", target, "", nil)
		if rec.Code != want {
			t.Errorf("GET %.60s: %d, want %d\n%s", target, rec.Code, want, rec.Body)
		}
		if want != 200 && !strings.HasSuffix(target, "/") { // the mux's own 404 is text
			var e errorBody
			if json.Unmarshal(rec.Body.Bytes(), &e) != nil || e.Error == "" || len(e.Error) > 300 {
				t.Errorf("GET %.60s: body %.300q, want a short JSON error", target, rec.Body)
			}
		}
	}
	for _, method := range []string{"POST", "PUT", "DELETE"} {
		if rec := do(t, h, method, "/jobs/go_preacher/runs", "", nil); rec.Code != 405 {
			t.Errorf("%s runs: %d, want 405", method, rec.Code)
		}
	}
	if rec := do(t, h, "HEAD", "/jobs/go_preacher/runs", "", nil); rec.Code != 200 {
		t.Errorf("HEAD runs: %d, want 200", rec.Code)
	}

	runs.mu.Lock()
	runs.err = errors.New("store down")
	runs.mu.Unlock()
	if rec := do(t, h, "GET", "/jobs/go_preacher/runs", "", nil); rec.Code != 503 || !strings.Contains(rec.Body.String(), "store down") {
		t.Errorf("GET runs with the store down: %d %s, want 503 with the error", rec.Code, rec.Body)
	}

	off, _ := actionServer("", nil, nil) // HISTORY_LIMIT=0
	if rec := do(t, off, "GET", "/jobs/go_preacher/runs", "", nil); rec.Code != 200 || strings.TrimSpace(rec.Body.String()) != "[]" {
		t.Errorf("GET runs with the history off: %d %q, want 200 []", rec.Code, rec.Body)
	}
}

func TestActionsAreDisabledWithoutAToken(t *testing.T) {
	for name, h := range map[string]http.Handler{
		"no token":   first(actionServer("", &fakeActions{}, nil)),
		"no actions": first(actionServer(testToken, nil, nil)),
	} {
		for _, a := range []string{"run", "pause", "resume"} {
			rec := do(t, h, "POST", "/jobs/go_preacher/"+a, "Bearer "+testToken, nil)
			if rec.Code != 403 || !strings.Contains(rec.Body.String(), "ADMIN_TOKEN") {
				t.Errorf("%s: POST %s: %d %s, want 403 naming ADMIN_TOKEN", name, a, rec.Code, rec.Body)
			}
		}
	}
}

func first(h http.Handler, _ *syncLog) http.Handler { return h }

func TestActionsNeedTheToken(t *testing.T) {
	acts := &fakeActions{}
	h, _ := actionServer(testToken, acts, nil)
	for auth, want := range map[string]int{
		"":                            401,
		"Basic " + testToken:          401,
		"Bearer":                      401,
		"Bearer ":                     401,
		testToken:                     401,
		"Bearer wrong":                403,
		"Bearer " + testToken + "x":   403,
		"Bearer " + testToken[:10]:    403,
		"Bearer " + testToken:         200,
		"bearer " + testToken:         200,
		"Bearer  " + testToken + "  ": 200,
	} {
		rec := do(t, h, "POST", "/jobs/go_preacher/pause", auth, nil)
		if rec.Code != want {
			t.Errorf("Authorization %q: %d, want %d", auth, rec.Code, want)
		}
		if want == 401 && rec.Header().Get("WWW-Authenticate") == "" {
			t.Errorf("Authorization %q: 401 without WWW-Authenticate", auth)
		}
	}
	if len(acts.calls) != 3 {
		t.Errorf("actions carried out: %v, want only the 3 authorized", acts.calls)
	}
}

func TestActionStatuses(t *testing.T) {
	auth := "Bearer " + testToken
	acts := &fakeActions{}
	h, log := actionServer(testToken, acts, nil)

	rec := do(t, h, "POST", "/jobs/go_preacher/run", auth, nil)
	var run schedulers.ManualRun
	if err := json.Unmarshal(rec.Body.Bytes(), &run); rec.Code != 202 || err != nil || run.ID == "" || run.Term != 4 {
		t.Fatalf("POST run: %d %s, want 202 with the run's id and term", rec.Code, rec.Body)
	}
	// Relative, so that it holds under any prefix the handler is mounted at.
	if loc, _ := url.Parse(rec.Header().Get("Location")); loc == nil ||
		(&url.URL{Path: "/jobs/go_preacher/run"}).ResolveReference(loc).Path != "/jobs/go_preacher/runs" {
		t.Errorf("POST run: Location %q, want the job's runs", rec.Header().Get("Location"))
	}
	for _, a := range []struct{ action, want string }{{"pause", `"paused": true`}, {"resume", `"paused": false`}} {
		action, want := a.action, a.want
		rec := do(t, h, "POST", "/jobs/go_preacher/"+action, auth, nil)
		if rec.Code != 200 || !strings.Contains(rec.Body.String(), want) {
			t.Errorf("POST %s: %d %s, want 200 with %s", action, rec.Code, rec.Body, want)
		}
	}
	if got := strings.Join(acts.calls, ", "); got != "run go_preacher, pause go_preacher true, pause go_preacher false" {
		t.Errorf("calls: %s", got)
	}

	for target, want := range map[string]int{
		"/jobs/nope/run":                                    404,
		"/jobs/nope/pause":                                  404,
		"/jobs/go_preacher/stop":                            404,
		"/jobs/go_preacher/run/again":                       404,
		"/jobs/go_preacher/run?" + strings.Repeat("q", 300): 400,
	} {
		if rec := do(t, h, "POST", target, auth, nil); rec.Code != want {
			t.Errorf("POST %.50s: %d, want %d", target, rec.Code, want)
		}
	}
	for _, m := range []string{"GET", "PUT", "DELETE", "PATCH"} {
		for _, a := range []string{"run", "pause", "resume"} {
			if rec := do(t, h, m, "/jobs/go_preacher/"+a, auth, nil); rec.Code != 405 {
				t.Errorf("%s %s: %d, want 405", m, a, rec.Code)
			}
		}
	}
	if rec := do(t, h, "POST", "/jobs/go_preacher/pause", auth, strings.NewReader("{}")); rec.Code != 200 {
		t.Errorf("POST pause with a small body: %d, want 200 (ignored)", rec.Code)
	}
	if rec := do(t, h, "POST", "/jobs/go_preacher/pause", auth, strings.NewReader(strings.Repeat("x", 1<<20))); rec.Code != 413 {
		t.Errorf("POST pause with a 1 MiB body: %d, want 413", rec.Code)
	}

	for err, want := range map[error]int{
		fmt.Errorf("%w on bravo", schedulers.ErrRunInProgress): 409,
		schedulers.ErrTickDue:       409,
		store.ErrPaused:             409,
		schedulers.ErrBusy:          503,
		schedulers.ErrNotStarted:    503,
		errors.New("store timeout"): 503,
		schedulers.ErrNoControl:     501,
		schedulers.ErrUnknownJob:    404,
	} {
		acts.err = err
		rec := do(t, h, "POST", "/jobs/go_preacher/run", auth, nil)
		if rec.Code != want {
			t.Errorf("run failing with %v: %d, want %d", err, rec.Code, want)
		}
		if want == 503 && rec.Header().Get("Retry-After") == "" {
			t.Errorf("run failing with %v: 503 without Retry-After", err)
		}
	}
	acts.err = nil

	// Every request to an action is an Action event with the caller.
	var events []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(log.String()), "\n") {
		var ev map[string]any
		if json.Unmarshal([]byte(line), &ev) == nil && ev["message"] == "Action" {
			events = append(events, ev)
		}
	}
	if len(events) < 10 {
		t.Fatalf("%d Action events, want one per action request", len(events))
	}
	ev := events[0]
	if ev["action"] != "run" || ev["job"] != "go_preacher" || ev["remote"] != "192.0.2.1:1234" || ev["status"] != 202.0 || ev["id"] == nil {
		t.Errorf("first Action event %v, want action run, job, remote, status 202, id", ev)
	}
	if strings.Contains(log.String(), testToken) {
		t.Errorf("the token is in the log")
	}
}

// TestGetEndpointsExposeNoSecret: nothing served without the token shows it.
func TestGetEndpointsExposeNoSecret(t *testing.T) {
	h, _ := actionServer(testToken, &fakeActions{}, &fakeRuns{})
	for _, path := range []string{"/", "/jobs", "/jobs/go_preacher/runs", "/status.js", "/healthz", "/readyz"} {
		rec := do(t, h, "GET", path, "", nil)
		if rec.Code != 200 {
			t.Errorf("GET %s: %d", path, rec.Code)
		}
		if strings.Contains(rec.Body.String(), testToken) || strings.Contains(fmt.Sprint(rec.Header()), testToken) {
			t.Errorf("GET %s shows the admin token", path)
		}
	}
}

// TestGarbage: odd requests get answers, never a panic.
func TestGarbage(t *testing.T) {
	h, _ := actionServer(testToken, &fakeActions{}, &fakeRuns{})
	for _, target := range []string{
		"/jobs/%00/runs", "/jobs/%ff%fe/runs?limit=%ff", "/jobs/go_preacher/runs?limit=%00", "/jobs/../runs",
		"/jobs/go_preacher/runs?limit=2&limit=3", "/jobs//runs", "/jobs/go_preacher%2Fruns", "/jobs/a%20b/run",
	} {
		for _, m := range []string{"GET", "POST"} {
			for _, auth := range []string{"", "Bearer " + testToken, "Bearer \x00\xff", strings.Repeat("B", 10000)} {
				func() {
					defer func() {
						if p := recover(); p != nil {
							t.Errorf("%s %s: panic %v", m, target, p)
						}
					}()
					rec := do(t, h, m, target, auth, strings.NewReader("\x00garbage"))
					if rec.Code >= 500 {
						t.Errorf("%s %s: %d", m, target, rec.Code)
					}
				}()
			}
		}
	}
}
