package server

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"

	"go-leader-election/internal/schedulers"
)

var statusNow = time.Date(2026, 11, 22, 12, 0, 10, 0, time.UTC)

const hostileError = `upstream said <script>alert("x")</script> & gave up`

func sampleJobs() []schedulers.Status {
	return []schedulers.Status{
		{
			Job: "go_preacher", Schedule: "@every 10s", Leader: "alpha", Term: 3, Leading: true,
			NextTick:     statusNow.Add(3 * time.Second),
			LastTick:     statusNow.Add(-5 * time.Second),
			LeaseExpires: statusNow.Add(3*time.Second + 500*time.Millisecond),
			LastRun: &schedulers.LastRun{Tick: statusNow.Add(-5 * time.Second), Start: statusNow.Add(-5 * time.Second),
				Duration: 1500 * time.Millisecond},
		},
		{
			Job: "scala_preacher", Schedule: "*/10 * * * * *", Leader: "alpha", Term: 1, Leading: true, Running: true,
			NextTick: statusNow.Add(3 * time.Second),
			LastTick: statusNow.Add(-5 * time.Second),
			LastRun: &schedulers.LastRun{Tick: statusNow.Add(-15 * time.Second), Start: statusNow.Add(-15 * time.Second),
				Duration: 42 * time.Millisecond, Error: hostileError},
		},
		{
			Job: "nightly_report", Schedule: "0 2 * * *", Leader: "bravo", Term: 7,
			NextTick:     time.Date(2026, 11, 23, 2, 0, 0, 0, time.UTC),
			LastTick:     time.Date(2026, 11, 22, 2, 0, 0, 0, time.UTC),
			LeaseExpires: time.Date(2026, 11, 23, 2, 0, 0, 500e6, time.UTC),
		},
		{Job: "never_claimed", Schedule: "@hourly", NextTick: statusNow.Add(50 * time.Minute)},
	}
}

// getStatus serves GET / from a handler built by New, with the page's clock
// fixed at statusNow.
func getStatus(t *testing.T, o Options) (*http.Response, string) {
	t.Helper()
	h := statusHandler(o, func() time.Time { return statusNow })
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	body, _ := io.ReadAll(rec.Body)
	return rec.Result(), string(body)
}

type row struct {
	job     string
	classes string
	cells   map[string]string // by data-label; the job under "Job"
}

// rows parses the page and returns its job rows, as text.
func rows(t *testing.T, page string) []row {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(page))
	if err != nil {
		t.Fatal(err)
	}
	var out []row
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode && n.Data == "tr" && attr(n, "data-job") != "" {
			r := row{job: attr(n, "data-job"), classes: attr(n, "class"), cells: map[string]string{}}
			for c := n.FirstChild; c != nil; c = c.NextSibling {
				switch {
				case c.Type == html.ElementNode && c.Data == "th":
					r.cells["Job"] = text(c)
				case c.Type == html.ElementNode && c.Data == "td":
					r.cells[attr(c, "data-label")] = text(c)
				}
			}
			out = append(out, r)
			return
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	return out
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

func text(n *html.Node) string {
	var b strings.Builder
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.TextNode {
			b.WriteString(n.Data)
			b.WriteByte(' ')
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return strings.Join(strings.Fields(b.String()), " ")
}

func TestStatusPageShowsEveryJob(t *testing.T) {
	resp, page := getStatus(t, Options{Node: "alpha", Store: "memory", Jobs: sampleJobs})
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("GET /: %d %q, want 200 text/html", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	for _, want := range []string{`<meta name="viewport"`, `<meta http-equiv="refresh" content="5">`,
		`<dd id="node">alpha</dd>`, `<dd id="store">memory</dd>`, "2 of 4 jobs", "2026-11-22 12:00:10 UTC"} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %s", want)
		}
	}

	got := rows(t, page)
	var names []string
	for _, r := range got {
		names = append(names, r.job)
	}
	if strings.Join(names, ",") != "go_preacher,scala_preacher,nightly_report,never_claimed" {
		t.Fatalf("rows %v, want one per job in order", names)
	}
	for i, s := range sampleJobs() {
		r := got[i]
		leadingClass := strings.Contains(" "+r.classes+" ", " leading ")
		badge := strings.Contains(r.cells["Leader"], "leader: this node")
		if leadingClass != s.Leading || badge != s.Leading {
			t.Errorf("%s: class %q, leader cell %q; want the leading marker only if this node leads (%v)",
				s.Job, r.classes, r.cells["Leader"], s.Leading)
		}
		if !strings.HasPrefix(r.cells["Job"], s.Job) || r.cells["Schedule"] != s.Schedule {
			t.Errorf("%s: job %q schedule %q", s.Job, r.cells["Job"], r.cells["Schedule"])
		}
		if s.Leader != "" && !strings.HasPrefix(r.cells["Leader"], s.Leader) {
			t.Errorf("%s: leader cell %q, want %s", s.Job, r.cells["Leader"], s.Leader)
		}
	}

	want := map[string]map[string]string{
		"go_preacher": {"Term": "3", "Next tick": "in 3s 12:00:13 UTC", "Last tick": "5s ago 12:00:05 UTC",
			"Lease expires": "in 4s 12:00:13 UTC", "Last run here": "ok", "Duration": "1.5s"},
		"scala_preacher": {"Job": "scala_preacher running", "Last run here": "error " + hostileError, "Duration": "42ms"},
		"nightly_report": {"Leader": "bravo", "Term": "7", "Next tick": "in 13h 59m 2026-11-23 02:00:00 UTC",
			"Last tick": "10h 0m ago 02:00:00 UTC", "Last run here": "none seen here", "Duration": "—"},
		"never_claimed": {"Leader": "none", "Term": "—", "Lease expires": "—", "Last tick": "—",
			"Next tick": "in 50m 0s 12:50:10 UTC", "Last run here": "none seen here"},
	}
	for _, r := range got {
		for label, w := range want[r.job] {
			if r.cells[label] != w {
				t.Errorf("%s %s: %q, want %q", r.job, label, r.cells[label], w)
			}
		}
	}
}

func TestStatusPageEscapes(t *testing.T) {
	_, page := getStatus(t, Options{Node: `<b>alpha</b>`, Store: "memory", Jobs: sampleJobs})
	if strings.Contains(page, "<script") || strings.Contains(page, "<b>") {
		t.Fatalf("page has markup from the data:\n%s", page)
	}
	for _, want := range []string{
		`upstream said &lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; gave up`,
		`&lt;b&gt;alpha&lt;/b&gt;`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks the escaped %s", want)
		}
	}
	// The parsed text is the error itself, as the run returned it.
	for _, r := range rows(t, page) {
		if r.job == "scala_preacher" && !strings.Contains(r.cells["Last run here"], hostileError) {
			t.Errorf("error cell %q, want the error text %q", r.cells["Last run here"], hostileError)
		}
	}
}

func TestStatusPageWithoutJobs(t *testing.T) {
	resp, page := getStatus(t, Options{Node: "alpha", Store: "memory", Jobs: func() []schedulers.Status { return nil }})
	if resp.StatusCode != 200 || !strings.Contains(page, "No jobs are registered") || len(rows(t, page)) != 0 {
		t.Fatalf("GET / with no jobs: %d\n%s", resp.StatusCode, page)
	}
}

func TestStatusPageIsServedAtRootOnly(t *testing.T) {
	h := New(Options{Node: "alpha", Store: "memory", Jobs: sampleJobs,
		Ready: func(context.Context) error { return errors.New("down") }, ReadyTimeout: time.Second})
	for path, want := range map[string]int{"/": 200, "/nope": 404, "/jobs": 200, "/healthz": 200, "/readyz": 503} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		if rec.Code != want {
			t.Errorf("GET %s: %d, want %d", path, rec.Code, want)
		}
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	if n := len(rows(t, rec.Body.String())); n != len(sampleJobs()) {
		t.Errorf("GET / through New: %d rows, want %d", n, len(sampleJobs()))
	}

	// A status page passed in Extra replaces the built-in one.
	own := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "own page") })
	h = New(Options{Jobs: sampleJobs, Extra: map[string]http.Handler{StatusPath: own}})
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	if rec.Body.String() != "own page" {
		t.Errorf("GET / with Extra[%q]: %q, want the Extra handler", StatusPath, rec.Body.String())
	}
}

func TestRelative(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0:                                     "in <1s",
		400 * time.Millisecond:                "in <1s",
		-400 * time.Millisecond:               "just now",
		3 * time.Second:                       "in 3s",
		-5 * time.Second:                      "5s ago",
		2*time.Minute + 5*time.Second:         "in 2m 5s",
		-(time.Hour + 4*time.Minute):          "1h 4m ago",
		50*time.Hour + 10*time.Minute:         "in 2d 2h",
		59*time.Second + 600*time.Millisecond: "in 1m 0s",
	} {
		if got := relative(d); got != want {
			t.Errorf("relative(%s) = %q, want %q", d, got, want)
		}
	}
}
