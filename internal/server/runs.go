package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"go-leader-election/internal/schedulers"
	"go-leader-election/store"
)

// maxQuery bounds the query string of every endpoint: none needs more.
const maxQuery = 256

// RunView is one item of GET /jobs/{job}/runs.
type RunView struct {
	ID       string    `json:"id"`
	Job      string    `json:"job"`
	Tick     time.Time `json:"tick"`
	Term     int64     `json:"term"`
	Node     string    `json:"node"`
	Start    time.Time `json:"start"`
	Duration string    `json:"duration"` // as Go prints it: "1.5s"
	Seconds  float64   `json:"duration_seconds"`
	Result   string    `json:"result"`
	// Error is the run's error, at most store.MaxErrorBytes; "" if none.
	Error  string `json:"error"`
	Manual bool   `json:"manual"`
	// Attempts is how many times the job was called for the run (retries).
	Attempts int `json:"attempts"`
	// Status is a command's exit status or an HTTP target's status; Output
	// the end of its output or response body ("" for a Go function).
	Status string `json:"status,omitempty"`
	Output string `json:"output,omitempty"`
}

func newRunView(r store.RunRecord) RunView {
	return RunView{
		ID: r.ID(), Job: r.Job, Tick: r.Tick.UTC(), Term: r.Term, Node: r.Node, Start: r.Start.UTC(),
		Duration: r.Duration.String(), Seconds: r.Duration.Seconds(), Result: r.Result, Error: r.Error, Manual: r.Manual,
		Attempts: r.Attempts, Status: r.Status, Output: r.Output,
	}
}

// knownJob reports whether job runs on this node.
func knownJob(o Options, job string) bool {
	if o.Jobs == nil {
		return false
	}
	for _, s := range o.Jobs() {
		if s.Job == job {
			return true
		}
	}
	return false
}

// runsHandler serves GET /jobs/{job}/runs: the job's latest runs from every
// node, newest first; ?limit= from 1 to HistoryLimit (default all kept).
func runsHandler(o Options) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		job := r.PathValue("job")
		if !knownJob(o, job) {
			writeError(w, http.StatusNotFound, fmt.Sprintf("no job %q runs here", truncate(job, 100)))
			return
		}
		if len(r.URL.RawQuery) > maxQuery {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("query longer than %d bytes", maxQuery))
			return
		}
		if o.Runs == nil || o.HistoryLimit <= 0 {
			writeJSON(w, http.StatusOK, []RunView{}) // HISTORY_LIMIT=0: nothing is recorded
			return
		}
		limit := o.HistoryLimit
		if v := r.URL.Query().Get("limit"); v != "" || r.URL.Query().Has("limit") {
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 || n > o.HistoryLimit {
				writeError(w, http.StatusBadRequest, fmt.Sprintf("limit %q: want a whole number from 1 to %d (HISTORY_LIMIT)", truncate(v, 20), o.HistoryLimit))
				return
			}
			limit = n
		}
		runs, err := o.Runs(r.Context(), job, limit)
		switch {
		case errors.Is(err, schedulers.ErrUnknownJob):
			writeError(w, http.StatusNotFound, fmt.Sprintf("no job %q runs here", truncate(job, 100)))
			return
		case err != nil:
			writeError(w, http.StatusServiceUnavailable, "read the history: "+err.Error())
			return
		}
		out := make([]RunView, len(runs))
		for i, rec := range runs {
			out[i] = newRunView(rec)
		}
		writeJSON(w, http.StatusOK, out)
	}
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

// errorBody is the body of every error answer of the JSON endpoints.
type errorBody struct {
	Error string `json:"error"`
}

func writeError(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, errorBody{Error: msg})
}

// truncate cuts s to n bytes for echoing it in an error.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
