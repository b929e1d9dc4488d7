package server

import (
	"errors"
	"strings"
	"testing"

	"golang.org/x/net/html"

	"go-leader-election/internal/schedulers"
)

// historyCard is one job's "Recent runs" card, as text.
type historyCard struct {
	bar     []string // cell classes, oldest first
	titles  []string
	summary string
	runs    []string // rows of the runs table, as text
	buttons []string
	text    string
}

func historyCards(t *testing.T, page string) map[string]historyCard {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(page))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]historyCard{}
	var walk func(n *html.Node, card *historyCard)
	walk = func(n *html.Node, card *historyCard) {
		if n.Type == html.ElementNode {
			switch {
			case n.Data == "article" && attr(n, "data-history-job") != "":
				c := &historyCard{text: text(n)}
				for k := n.FirstChild; k != nil; k = k.NextSibling {
					walk(k, c)
				}
				out[attr(n, "data-history-job")] = *c
				return
			case card != nil && n.Data == "li":
				card.bar = append(card.bar, attr(n, "class"))
				card.titles = append(card.titles, attr(n, "title"))
			case card != nil && n.Data == "span" && attr(n, "class") == "summary":
				card.summary = text(n)
			case card != nil && n.Data == "tr" && attr(n, "class") == "run":
				card.runs = append(card.runs, text(n))
			case card != nil && n.Data == "button":
				card.buttons = append(card.buttons, attr(n, "data-action")+":"+text(n))
			}
		}
		for k := n.FirstChild; k != nil; k = k.NextSibling {
			walk(k, card)
		}
	}
	walk(doc, nil)
	return out
}

func TestStatusPageShowsTheSharedHistory(t *testing.T) {
	resp, page := getStatus(t, Options{Node: "alpha", Store: "memory", Jobs: sampleJobs, Runs: (&fakeRuns{}).runs, HistoryLimit: 50})
	if resp.StatusCode != 200 {
		t.Fatalf("GET /: %d", resp.StatusCode)
	}
	cards := historyCards(t, page)
	if len(cards) != len(sampleJobs()) {
		t.Fatalf("%d history cards, want one per job", len(cards))
	}
	g := cards["go_preacher"]
	if len(g.bar) != 50 {
		t.Fatalf("the bar has %d cells, want 50", len(g.bar))
	}
	if got := strings.Join(g.bar[45:], " "); got != "none lost error ok ok" {
		t.Errorf("the bar ends with %q, want the 4 runs oldest first: none lost error ok ok", got)
	}
	if !strings.Contains(g.titles[49], "alpha") || !strings.Contains(g.titles[49], "12:00:05 UTC") || !strings.Contains(g.titles[48], "manual") {
		t.Errorf("cell titles %q, %q: want tick, node, result, and manual", g.titles[48], g.titles[49])
	}
	if g.summary != "last 4: 2 ok · 1 error · 1 lost (50% ok)" {
		t.Errorf("summary %q", g.summary)
	}
	want := []string{
		"5s ago 12:00:05 UTC alpha 1.5s ok",
		"8s ago 12:00:02 UTC alpha 1s ok manual",
		"15s ago 11:59:55 UTC bravo 40ms error " + hostileError,
		"25s ago 11:59:45 UTC charlie — lost the lease of charlie lapsed; recorded by bravo, which took it over",
	}
	if strings.Join(g.runs, "\n") != strings.Join(want, "\n") {
		t.Errorf("recent runs:\n%s\nwant\n%s", strings.Join(g.runs, "\n"), strings.Join(want, "\n"))
	}
	if strings.Contains(page, "<script>alert") {
		t.Errorf("the error's markup is in the page")
	}
	if n := cards["never_claimed"]; !strings.Contains(n.text, "No runs recorded yet") || len(n.bar) != 50 || n.bar[49] != "none" {
		t.Errorf("a job with no history: %+v", n)
	}
	if len(g.buttons) != 0 || strings.Contains(page, "admin-token") || strings.Contains(page, "status.js") {
		t.Errorf("buttons or the token field without ADMIN_TOKEN: %v", g.buttons)
	}
	if !strings.Contains(page, `http-equiv="refresh"`) {
		t.Errorf("no meta refresh without actions")
	}
}

func TestStatusPageButtonsWithActions(t *testing.T) {
	paused := func() []schedulers.Status {
		jobs := sampleJobs()
		jobs[1].Paused = true
		return jobs
	}
	resp, page := getStatus(t, Options{Node: "alpha", Store: "memory", Jobs: paused, Runs: (&fakeRuns{}).runs, HistoryLimit: 50,
		Actions: &fakeActions{}, AdminToken: testToken})
	cards := historyCards(t, page)
	if got := strings.Join(cards["go_preacher"].buttons, ","); got != "run:Run now,pause:Pause" {
		t.Errorf("go_preacher's buttons: %s", got)
	}
	if got := strings.Join(cards["scala_preacher"].buttons, ","); got != "run:Run now,resume:Resume" {
		t.Errorf("paused scala_preacher's buttons: %s", got)
	}
	for _, r := range rows(t, page) {
		if r.job == "scala_preacher" && r.cells["Job"] != "scala_preacher running paused" {
			t.Errorf("paused job's cell %q, want the paused badge", r.cells["Job"])
		}
	}
	for _, want := range []string{`id="admin-token"`, `<script src="status.js" defer></script>`, `data-refresh="5"`} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %s", want)
		}
	}
	if strings.Contains(page, `http-equiv="refresh"`) || strings.Contains(page, testToken) {
		t.Errorf("with actions the page reloads by script, and never shows the token")
	}
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") || !strings.Contains(csp, "connect-src 'self'") {
		t.Errorf("CSP %q", csp)
	}
}

func TestStatusPageWhenTheHistoryFails(t *testing.T) {
	resp, page := getStatus(t, Options{Node: "alpha", Store: "memory", Jobs: sampleJobs,
		Runs: (&fakeRuns{err: errors.New("store down")}).runs, HistoryLimit: 50})
	if resp.StatusCode != 200 || len(rows(t, page)) != len(sampleJobs()) {
		t.Fatalf("GET / with the history failing: %d", resp.StatusCode)
	}
	if c := historyCards(t, page)["go_preacher"]; !strings.Contains(c.text, "History unavailable: store down") {
		t.Errorf("card %q, want the error", c.text)
	}
	_, page = getStatus(t, Options{Node: "alpha", Store: "memory", Jobs: sampleJobs})
	if !strings.Contains(page, "The run history is off") || len(historyCards(t, page)) != 0 {
		t.Errorf("with HISTORY_LIMIT=0 the page should say the history is off")
	}
}
