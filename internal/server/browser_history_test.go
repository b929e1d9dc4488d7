package server_test

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/rs/zerolog"

	"go-leader-election/internal/schedulers"
	"go-leader-election/internal/server"
	"go-leader-election/store"
)

const adminToken = "browser-test-token-0123456789"

// schedActions carries out actions on one node's schedulers, by job.
type schedActions map[string]*schedulers.Scheduler

func (a schedActions) RunNow(ctx context.Context, job string) (schedulers.ManualRun, error) {
	s, ok := a[job]
	if !ok {
		return schedulers.ManualRun{}, schedulers.ErrUnknownJob
	}
	return s.RunNow(ctx)
}

func (a schedActions) SetPaused(ctx context.Context, job string, paused bool) error {
	s, ok := a[job]
	if !ok {
		return schedulers.ErrUnknownJob
	}
	return s.SetPaused(ctx, paused)
}

// renderedCard is a job's "Recent runs" card as the browser shows it.
type renderedCard struct {
	Job     string         `json:"job"`
	Cells   map[string]int `json:"cells"` // bar cells by class
	Nodes   []string       `json:"nodes"` // of the recent runs
	Errors  []string       `json:"errors"`
	Buttons []string       `json:"buttons"`
	Paused  bool           `json:"paused"`
	Text    string         `json:"text"`
}

const cardsJS = `[...document.querySelectorAll('article[data-history-job]')].map(a => {
	const cells = {};
	for (const li of a.querySelectorAll('.bar li')) cells[li.className] = (cells[li.className] || 0) + 1;
	return {
		job: a.dataset.historyJob,
		cells,
		nodes: [...a.querySelectorAll('table.runs td.node')].map(td => td.innerText.trim()),
		errors: [...a.querySelectorAll('table.runs .errtext')].map(e => e.innerText.trim()),
		buttons: [...a.querySelectorAll('button[data-action]')].filter(b => b.getClientRects().length > 0).map(b => b.innerText.trim()),
		paused: !!a.querySelector('h3 .badge.paused'),
		text: a.innerText,
	};
})`

// clickJS clicks a button and resolves with the answer the page shows.
const clickJS = `new Promise(resolve => {
	const out = document.getElementById('action-result');
	document.querySelector(%q).click();
	const check = () => out.dataset.status ? resolve(out.dataset.status + ' ' + out.textContent) : setTimeout(check, 20);
	check();
})`

type actionAnswer = string

func click(ctx context.Context, selector string) (actionAnswer, error) {
	return chromedp.Run(ctx, chromedp.Evaluate[string](strings.Replace(clickJS, "%q", "'"+selector+"'", 1), chromedp.EvalAwaitPromise))
}

// TestStatusPageHistoryAndButtonsInBrowser: alpha's page shows every node's
// runs (bravo's of invoice_sync too), a bar per job that reads at phone
// width, and its buttons pause, resume and run a job with the admin token.
func TestStatusPageHistoryAndButtonsInBrowser(t *testing.T) {
	chromium := chromiumPath(t)
	c := startCluster(t)
	runsOf := func(job string) []store.RunRecord {
		runs, err := c.store.Runs(context.Background(), job, 50)
		if err != nil {
			t.Fatal(err)
		}
		return runs
	}
	waitUntil(t, "every job has three runs in the history", func() bool {
		return len(runsOf("nightly_report")) >= 3 && len(runsOf("cache_warmup")) >= 3 && len(runsOf("invoice_sync")) >= 3
	})
	acts := schedActions{}
	for _, s := range c.alpha {
		acts[s.Status().Job] = s
	}
	srv := httptest.NewServer(server.New(server.Options{
		Node: "alpha", Store: "memory", Jobs: statuses(c.alpha),
		Ready: func(context.Context) error { return nil }, ReadyTimeout: time.Second,
		Runs: c.store.Runs, HistoryLimit: 50, Actions: acts, AdminToken: adminToken, Log: zerolog.Nop(),
		Refresh: time.Hour, // the test reloads the page itself
	}))
	t.Cleanup(srv.Close)
	ctx, fail := newBrowser(t, chromium)

	if err := chromedp.Do(ctx,
		chromedp.EmulateViewport(1280, 800),
		chromedp.Navigate(srv.URL+"/"),
		chromedp.WaitVisible(chromedp.CSS(`article[data-history-job="invoice_sync"] table.runs`)),
	); err != nil {
		fail("load the status page: %v", err)
	}
	cards, err := chromedp.Run(ctx, chromedp.Evaluate[[]renderedCard](cardsJS))
	if err != nil {
		fail("read the history cards: %v", err)
	}
	byJob := map[string]renderedCard{}
	for _, card := range cards {
		byJob[card.Job] = card
		total := 0
		for _, n := range card.Cells {
			total += n
		}
		if total != 50 {
			t.Errorf("%s: a bar of %d cells, want 50", card.Job, total)
		}
		if strings.Join(card.Buttons, ",") != "Run now,Pause" {
			t.Errorf("%s: buttons %v, want Run now and Pause", card.Job, card.Buttons)
		}
	}
	if r := byJob["nightly_report"]; r.Cells["ok"] < 3 || len(r.Nodes) == 0 || r.Nodes[0] != "alpha" {
		t.Errorf("nightly_report: %+v, want ok runs on alpha", r)
	}
	if w := byJob["cache_warmup"]; w.Cells["error"] < 3 || len(w.Errors) == 0 || w.Errors[0] != warmupError {
		t.Errorf("cache_warmup: %+v, want failed runs with their error", w)
	}
	if i := byJob["invoice_sync"]; len(i.Nodes) == 0 || i.Nodes[0] != "bravo" || i.Cells["ok"] < 3 {
		t.Errorf("invoice_sync on alpha's page: %+v, want bravo's runs, from the shared history", i)
	}

	// At phone width the history reads without a horizontal scroll.
	if err := chromedp.Do(ctx,
		chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile, chromedp.EmulateScale(2)),
		chromedp.Navigate(srv.URL+"/"),
		chromedp.WaitVisible(chromedp.CSS(`article[data-history-job="invoice_sync"] .bar`)),
	); err != nil {
		fail("load the page at phone width: %v", err)
	}
	phone, err := chromedp.Run(ctx, chromedp.Evaluate[layout](layoutJS))
	if err != nil {
		fail("measure the phone layout: %v", err)
	}
	if phone.ScrollWidth > phone.InnerWidth || phone.MinFontPx < 13 {
		t.Errorf("phone: %dpx wide in %dpx, smallest text %.1fpx (%s)", phone.ScrollWidth, phone.InnerWidth, phone.MinFontPx, phone.SmallText)
	}
	shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		fail("phone screenshot: %v", err)
	}
	saveScreenshot(t, "phone-history.png", shot)

	// The buttons: a wrong token is refused, the right one pauses.
	if err := chromedp.Do(ctx,
		chromedp.EmulateViewport(1280, 800),
		chromedp.Navigate(srv.URL+"/"),
		chromedp.WaitVisible(chromedp.ID("admin-token")),
		chromedp.SendKeys(chromedp.ID("admin-token"), "wrong-token"),
	); err != nil {
		fail("type a token: %v", err)
	}
	pause := `button[data-action=pause][data-job=nightly_report]`
	if got, err := click(ctx, pause); err != nil || !strings.HasPrefix(got, "403 ") {
		fail("Pause with a wrong token: %q, %v; want 403", got, err)
	}
	if err := chromedp.Do(ctx,
		chromedp.Evaluate[chromedp.Void](`void (document.getElementById('admin-token').value = '')`),
		chromedp.SendKeys(chromedp.ID("admin-token"), adminToken),
	); err != nil {
		fail("type the token: %v", err)
	}
	if got, err := click(ctx, pause); err != nil || !strings.HasPrefix(got, "200 ") || !strings.Contains(got, "paused") {
		fail("Pause: %q, %v; want 200, paused", got, err)
	}
	if l, err := c.store.Get(context.Background(), "nightly_report"); err != nil || !l.Paused {
		t.Fatalf("after Pause the lease record is %+v, %v; want paused", l, err)
	}
	if err := chromedp.Do(ctx, chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS(`button[data-action=resume][data-job=nightly_report]`))); err != nil {
		fail("reload after pausing: %v", err)
	}
	if token, err := chromedp.Run(ctx, chromedp.Value(chromedp.ID("admin-token"))); err != nil || token != adminToken {
		t.Errorf("the token field after a reload holds %q (%v), want the token kept in the tab's session", token, err)
	}
	cards, err = chromedp.Run(ctx, chromedp.Evaluate[[]renderedCard](cardsJS))
	if err != nil {
		fail("read the cards: %v", err)
	}
	for _, card := range cards {
		if card.Job == "nightly_report" && (!card.Paused || strings.Join(card.Buttons, ",") != "Run now,Resume") {
			t.Errorf("paused nightly_report's card: %+v", card)
		}
	}
	if got, err := click(ctx, `button[data-action=resume][data-job=nightly_report]`); err != nil || !strings.HasPrefix(got, "200 ") {
		fail("Resume: %q, %v; want 200", got, err)
	}

	// Run now: refused (409) while a run is in progress; then it runs once,
	// and the history shows it.
	var answer string
	for range 50 {
		if answer, err = click(ctx, `button[data-action=run][data-job=nightly_report]`); err != nil {
			fail("Run now: %v", err)
		}
		if !strings.HasPrefix(answer, "409 ") && !strings.HasPrefix(answer, "503 ") {
			break
		}
	}
	if !strings.HasPrefix(answer, "202 ") || !strings.Contains(answer, "manual run nightly_report@") {
		fail("Run now: %q, want 202 with the run's id", answer)
	}
	waitUntil(t, "the manual run in the history", func() bool {
		for _, r := range runsOf("nightly_report") {
			if r.Manual && strings.Contains(answer, r.ID()) {
				return true
			}
		}
		return false
	})
	if err := chromedp.Do(ctx, chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS(`article[data-history-job="nightly_report"] table.runs`))); err != nil {
		fail("reload after the manual run: %v", err)
	}
	cards, err = chromedp.Run(ctx, chromedp.Evaluate[[]renderedCard](cardsJS))
	if err != nil {
		fail("read the cards: %v", err)
	}
	for _, card := range cards {
		if card.Job == "nightly_report" && !strings.Contains(card.Text, "manual") {
			t.Errorf("nightly_report's card after Run now: %q, want a manual run", card.Text)
		}
	}
	shot, err = chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		fail("screenshot: %v", err)
	}
	saveScreenshot(t, "desktop-history.png", shot)
}
