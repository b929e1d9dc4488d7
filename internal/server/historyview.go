package server

import (
	"context"
	_ "embed"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"go-leader-election/internal/schedulers"
	"go-leader-election/store"
)

// The status page's history: a bar of the last barRuns runs per job, and a
// table of the last recentRuns.
const (
	barRuns    = 50
	recentRuns = 5
	// historyTimeout bounds the page's reads of the history: a slow store
	// costs the page its history, not its answer.
	historyTimeout = 2 * time.Second
)

// historyView is one job's shared history as the page shows it.
type historyView struct {
	Off     bool   // HISTORY_LIMIT=0
	Err     string // the history could not be read
	Bar     []barCell
	Recent  []recentRun
	Summary string // "47 ok · 2 error · 1 lost"
	Count   int    // runs in the bar
	Rate    string // "94% ok"
}

// barCell is one run in the bar, oldest first; Class "none" pads the bar
// to barRuns cells.
type barCell struct {
	Class string
	Title string
}

type recentRun struct {
	Tick     timeView
	Node     string
	Duration string
	Result   string
	Error    string
	Manual   bool
}

// readHistories reads every job's latest runs, in parallel, within
// historyTimeout.
func readHistories(ctx context.Context, o Options, jobs []schedulers.Status, now time.Time) map[string]historyView {
	out := make(map[string]historyView, len(jobs))
	if o.Runs == nil || o.HistoryLimit <= 0 {
		for _, j := range jobs {
			out[j.Job] = historyView{Off: true}
		}
		return out
	}
	ctx, cancel := context.WithTimeout(ctx, historyTimeout)
	defer cancel()
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, j := range jobs {
		wg.Go(func() {
			runs, err := o.Runs(ctx, j.Job, min(barRuns, o.HistoryLimit))
			v := newHistoryView(runs, err, now)
			mu.Lock()
			out[j.Job] = v
			mu.Unlock()
		})
	}
	wg.Wait()
	return out
}

func newHistoryView(runs []store.RunRecord, err error, now time.Time) historyView {
	if err != nil {
		return historyView{Err: err.Error()}
	}
	v := historyView{Count: len(runs)}
	counts := map[string]int{}
	for range barRuns - len(runs) {
		v.Bar = append(v.Bar, barCell{Class: "none", Title: "no run recorded"})
	}
	for i := len(runs) - 1; i >= 0; i-- { // oldest first
		r := runs[i]
		counts[r.Result]++
		title := fmt.Sprintf("%s · %s · %s · %s", r.Tick.UTC().Format("2006-01-02 15:04:05 UTC"), r.Node, r.Result, runDuration(r))
		if r.Manual {
			title += " · manual"
		}
		v.Bar = append(v.Bar, barCell{Class: resultClass(r.Result), Title: title})
	}
	var parts []string
	for _, res := range []string{store.ResultOK, store.ResultError, store.ResultTimeout, store.ResultCancelled, store.ResultLost} {
		if counts[res] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", counts[res], res))
		}
	}
	v.Summary = strings.Join(parts, " · ")
	if len(runs) > 0 {
		v.Rate = fmt.Sprintf("%d%% ok", counts[store.ResultOK]*100/len(runs))
	}
	for _, r := range runs[:min(recentRuns, len(runs))] {
		v.Recent = append(v.Recent, recentRun{
			Tick: newTimeView(r.Tick, now), Node: r.Node, Duration: runDuration(r),
			Result: r.Result, Error: r.Error, Manual: r.Manual,
		})
	}
	return v
}

// runDuration is a run's duration as shown: a dash for a lost run whose end
// nobody saw.
func runDuration(r store.RunRecord) string {
	if r.Result == store.ResultLost && r.Duration == 0 {
		return "—"
	}
	return formatDuration(r.Duration)
}

// resultClass is a result's CSS class; unknown results (from a newer
// version) look like errors rather than successes.
func resultClass(result string) string {
	switch result {
	case store.ResultOK, store.ResultError, store.ResultTimeout, store.ResultCancelled, store.ResultLost:
		return result
	}
	return store.ResultError
}

//go:embed status.js
var statusJS []byte

// statusScript serves the status page's script: the action buttons and the
// page's reload when they are on.
func statusScript(w http.ResponseWriter, _ *http.Request) {
	h := w.Header()
	h.Set("Content-Type", "text/javascript; charset=utf-8")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Content-Type-Options", "nosniff")
	_, _ = w.Write(statusJS)
}
