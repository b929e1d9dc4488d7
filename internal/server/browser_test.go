package server_test

import (
	"bytes"
	"context"
	"errors"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/rs/zerolog"

	"go-leader-election/clock"
	"go-leader-election/internal/schedulers"
	"go-leader-election/internal/server"
	"go-leader-election/jobs"
	"go-leader-election/store/memory"
)

// chromiumPath returns Debian's chromium. Without it the test is skipped on a
// developer's machine and fails in CI (CI=true), which must run it.
func chromiumPath(t *testing.T) string {
	t.Helper()
	path := "/usr/bin/chromium"
	if _, err := os.Stat(path); err != nil {
		if p, err := exec.LookPath("chromium"); err == nil {
			path = p
		} else {
			msg := "chromium is not installed (apt-get install chromium): the status page's browser test needs it"
			if ci := os.Getenv("CI"); ci != "" && ci != "false" && ci != "0" {
				t.Fatal(msg + "; CI must run this test")
			}
			t.Skip(msg)
		}
	}
	return path
}

// cluster is two nodes, alpha and bravo, running real schedulers on one
// memory store, with @every 1s jobs: alpha leads nightly_report and
// cache_warmup (which fails, with markup in its error), bravo leads
// invoice_sync.
type cluster struct {
	alpha []*schedulers.Scheduler // in the order the page lists them
	bravo []*schedulers.Scheduler
	store *memory.Store // the leases and the shared history
}

const warmupError = `warm cache: GET http://cache.internal/<keys>: 503 Service Unavailable`

func startCluster(t *testing.T) *cluster {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	t.Cleanup(func() { cancel(); wg.Wait() })

	// A leader trusts its claim of a tick for RenewDeadline/LeaseDuration of
	// (interval + Grace): 1.6s here (0.8 of 2s), so "leading" does not blink off while
	// the next tick's claim is on its way, even on a loaded machine.
	timing := schedulers.DefaultTiming()
	timing.Grace = time.Second
	timing.LeaseDuration, timing.RenewDeadline = 15*time.Second, 12*time.Second
	if err := timing.Validate(); err != nil {
		t.Fatal(err)
	}
	st := memory.New()
	work := func(d time.Duration, err error) func(context.Context) error {
		return func(ctx context.Context) error {
			select {
			case <-time.After(d): // the job's work, not a synchronisation
				return err
			case <-ctx.Done():
				return ctx.Err()
			}
		}
	}
	all := map[string]jobs.Job{
		"nightly_report": {Name: "nightly_report", Run: work(120*time.Millisecond, nil)},
		"cache_warmup":   {Name: "cache_warmup", Run: work(30*time.Millisecond, errors.New(warmupError))},
		"invoice_sync":   {Name: "invoice_sync", Run: work(80*time.Millisecond, nil)},
	}
	alpha, bravo := schedulers.NewIdentity("alpha"), schedulers.NewIdentity("bravo")
	history, err := schedulers.NewHistory(schedulers.HistoryConfig{Store: st, Log: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	start := func(id schedulers.Identity, job string) *schedulers.Scheduler {
		s, err := schedulers.New(schedulers.Config{
			Job: all[job], Spec: "@every 1s", Schedule: schedulers.Every(time.Second), Store: st,
			Clock: clock.Real{}, Identity: id, Timing: timing, Log: zerolog.Nop(), History: history, Control: st,
		})
		if err != nil {
			t.Fatal(err)
		}
		wg.Go(func() { s.Run(ctx) })
		return s
	}

	// Each job's leader starts first and runs a tick; the other node then
	// joins and sits out while the leader keeps claiming.
	c := &cluster{store: st}
	report, warmup := start(alpha, "nightly_report"), start(alpha, "cache_warmup")
	invoice := start(bravo, "invoice_sync")
	waitUntil(t, "alpha leads and has run its jobs, bravo leads invoice_sync", func() bool {
		r, w, i := report.Status(), warmup.Status(), invoice.Status()
		return r.Leading && r.LastRun != nil && w.Leading && w.LastRun != nil && i.Leading
	})
	c.alpha = []*schedulers.Scheduler{report, warmup, start(alpha, "invoice_sync")}
	c.bravo = []*schedulers.Scheduler{start(bravo, "nightly_report"), start(bravo, "cache_warmup"), invoice}
	waitUntil(t, "every follower has seen its leader", func() bool {
		return c.alpha[2].Status().Leader == "bravo" &&
			c.bravo[0].Status().Leader == "alpha" && c.bravo[1].Status().Leader == "alpha"
	})
	return c
}

// waitUntil polls cond until it holds, for at most 30s.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("not within 30s: %s", what)
		}
		<-tick.C
	}
}

func statuses(scheds []*schedulers.Scheduler) func() []schedulers.Status {
	return func() []schedulers.Status {
		out := make([]schedulers.Status, len(scheds))
		for i, s := range scheds {
			out[i] = s.Status()
		}
		return out
	}
}

// renderedRow is a job row as the browser shows it.
type renderedRow struct {
	Job          string `json:"job"`
	Name         string `json:"name"`
	Leader       string `json:"leader"`
	Leading      bool   `json:"leading"`
	Badge        string `json:"badge"`
	BadgeVisible bool   `json:"badgeVisible"`
	Result       string `json:"result"`
	Display      string `json:"display"`
}

const rowsJS = `[...document.querySelectorAll('table.jobs tbody tr')].map(tr => {
	const badge = tr.querySelector('.badge.lead');
	return {
		job: tr.dataset.job,
		name: tr.querySelector('th').innerText.trim(),
		leader: (tr.querySelector('td.leader .node') || {innerText: ''}).innerText.trim(),
		leading: tr.classList.contains('leading'),
		badge: badge ? badge.innerText.trim() : '',
		badgeVisible: !!badge && badge.getClientRects().length > 0,
		result: tr.querySelector('td.result').innerText.trim(),
		display: getComputedStyle(tr).display,
	};
})`

// layout is what the phone check measures.
type layout struct {
	ScrollWidth int     `json:"scrollWidth"`
	InnerWidth  int     `json:"innerWidth"`
	MinFontPx   float64 `json:"minFontPx"`
	SmallText   string  `json:"smallText"`
}

const layoutJS = `(() => {
	let min = 1000, small = '';
	for (const el of document.body.querySelectorAll('*')) {
		const own = [...el.childNodes].some(n => n.nodeType === Node.TEXT_NODE && n.textContent.trim() !== '');
		if (!own || el.getClientRects().length === 0) continue;
		const px = parseFloat(getComputedStyle(el).fontSize);
		if (px < min) { min = px; small = el.tagName + ': ' + el.textContent.trim().slice(0, 40); }
	}
	return {scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth, minFontPx: min, smallText: small};
})()`

func TestStatusPageInBrowser(t *testing.T) {
	chromium := chromiumPath(t)
	c := startCluster(t)
	srv := httptest.NewServer(server.New(server.Options{
		Node: "alpha", Store: "memory", Jobs: statuses(c.alpha),
		Ready: func(context.Context) error { return nil }, ReadyTimeout: time.Second,
		Runs: c.store.Runs, HistoryLimit: 50,
	}))
	t.Cleanup(srv.Close)
	ctx, fail := newBrowser(t, chromium)

	// Desktop.
	if err := chromedp.Do(ctx,
		chromedp.EmulateViewport(1280, 600),
		chromedp.Navigate(srv.URL+"/"),
		chromedp.WaitVisible(chromedp.CSS("table.jobs tbody tr")),
	); err != nil {
		fail("load the status page: %v", err)
	}
	node, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("node")))
	if err != nil {
		fail("read the node: %v", err)
	}
	storeName, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("store")))
	if err != nil {
		fail("read the store: %v", err)
	}
	if node != "alpha" || storeName != "memory" {
		t.Errorf("header shows node %q, store %q; want alpha, memory", node, storeName)
	}
	rows, err := chromedp.Run(ctx, chromedp.Evaluate[[]renderedRow](rowsJS))
	if err != nil {
		fail("read the rows: %v", err)
	}
	checkRows(t, rows, "table-row")
	// The error's markup is text, not elements.
	injected, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.querySelector('keys') !== null`))
	if err != nil || injected {
		t.Errorf("the error's <keys> became an element (%v, %v)", injected, err)
	}
	desktop, err := chromedp.Run(ctx, chromedp.Evaluate[layout](layoutJS))
	if err != nil {
		fail("measure the desktop layout: %v", err)
	}
	if desktop.ScrollWidth > desktop.InnerWidth {
		t.Errorf("desktop: the page is %dpx wide in a %dpx window", desktop.ScrollWidth, desktop.InnerWidth)
	}
	shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		fail("screenshot: %v", err)
	}
	if !bytes.HasPrefix(shot, []byte("\x89PNG")) {
		t.Fatalf("the screenshot is not a PNG")
	}
	saveScreenshot(t, "desktop.png", shot)
	if os.Getenv("UPDATE_SCREENSHOT") == "1" {
		if err := os.WriteFile(filepath.Join("..", "docs", "status.png"), shot, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Log("wrote docs/status.png")
	}

	// Phone: 390x844, as a mobile browser lays it out.
	if err := chromedp.Do(ctx,
		chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile, chromedp.EmulateScale(2)),
		chromedp.Navigate(srv.URL+"/"),
		chromedp.WaitVisible(chromedp.CSS("tr.leading .badge.lead")),
	); err != nil {
		fail("load the status page at phone width: %v", err)
	}
	phone, err := chromedp.Run(ctx, chromedp.Evaluate[layout](layoutJS))
	if err != nil {
		fail("measure the phone layout: %v", err)
	}
	if phone.InnerWidth != 390 || phone.ScrollWidth > phone.InnerWidth {
		t.Errorf("phone: the page is %dpx wide in a %dpx viewport, want no horizontal overflow at 390px",
			phone.ScrollWidth, phone.InnerWidth)
	}
	if phone.MinFontPx < 13 {
		t.Errorf("phone: text at %.1fpx (%s), want at least 13px", phone.MinFontPx, phone.SmallText)
	}
	rows, err = chromedp.Run(ctx, chromedp.Evaluate[[]renderedRow](rowsJS))
	if err != nil {
		fail("read the rows at phone width: %v", err)
	}
	checkRows(t, rows, "block")
	shot, err = chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		fail("phone screenshot: %v", err)
	}
	saveScreenshot(t, "phone.png", shot)
}

// newBrowser starts a headless chromium for the test; fail ends the test
// with the browser's output.
func newBrowser(t *testing.T, chromium string) (context.Context, func(format string, args ...any)) {
	t.Helper()
	chromeOut := &lockedWriter{w: new(bytes.Buffer)}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-domain-reliability", true),
		chromedp.Flag("no-pings", true),
		chromedp.UserDataDir(t.TempDir()),
		// Chromium leaves its singleton socket directory in $TMPDIR.
		chromedp.Env("TMPDIR="+t.TempDir()),
		chromedp.WindowSize(1280, 800),
		chromedp.CombinedOutput(chromeOut),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	browser, cancelBrowser := chromedp.NewContext(allocCtx)
	// Registered after t.TempDir, so the browser has exited before its
	// profile directory is removed.
	t.Cleanup(func() { cancelBrowser(); cancelAlloc() })
	ctx, cancel := context.WithTimeout(browser, 90*time.Second)
	t.Cleanup(cancel)
	fail := func(format string, args ...any) {
		t.Helper()
		t.Fatalf(format+"\nchromium output:\n%s", append(args, chromeOut.String())...)
	}
	return ctx, fail
}

// checkRows checks the rows alpha's page shows; display is how a row is laid
// out (a table row, or a card on a phone).
func checkRows(t *testing.T, rows []renderedRow, display string) {
	t.Helper()
	want := []struct {
		job, leader string
		leading     bool
	}{
		{"nightly_report", "alpha", true},
		{"cache_warmup", "alpha", true},
		{"invoice_sync", "bravo", false},
	}
	if len(rows) != len(want) {
		t.Fatalf("%d rows rendered, want %d: %+v", len(rows), len(want), rows)
	}
	for i, w := range want {
		r := rows[i]
		if r.Job != w.job || !strings.HasPrefix(r.Name, w.job) || r.Leader != w.leader {
			t.Errorf("row %d: job %q (%q), leader %q; want %s led by %s", i, r.Job, r.Name, r.Leader, w.job, w.leader)
		}
		if r.Leading != w.leading || (r.Badge == "leader: this node" && r.BadgeVisible) != w.leading ||
			(!w.leading && r.Badge != "") {
			t.Errorf("row %s: class leading %v, badge %q (visible %v); want the marker only where alpha leads (%v)",
				r.Job, r.Leading, r.Badge, r.BadgeVisible, w.leading)
		}
		if r.Display != display {
			t.Errorf("row %s: display %q, want %q", r.Job, r.Display, display)
		}
	}
	if got := rows[0].Result; got != "ok" {
		t.Errorf("nightly_report result %q, want ok", got)
	}
	if got := rows[1].Result; !strings.Contains(got, "error") || !strings.Contains(got, warmupError) {
		t.Errorf("cache_warmup result %q, want the error %q", got, warmupError)
	}
}

// saveScreenshot writes a screenshot to $SCREENSHOT_DIR, if set, for a person
// to look at.
func saveScreenshot(t *testing.T, name string, png []byte) {
	t.Helper()
	dir := os.Getenv("SCREENSHOT_DIR")
	if dir == "" {
		return
	}
	if err := os.WriteFile(filepath.Join(dir, name), png, 0o644); err != nil {
		t.Fatal(err)
	}
}

// lockedWriter lets the browser's output goroutine and the test share a
// buffer.
type lockedWriter struct {
	mu sync.Mutex
	w  *bytes.Buffer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func (l *lockedWriter) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.String()
}
