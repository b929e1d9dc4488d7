// Package server is the daemon's HTTP interface: liveness and readiness
// probes, the read-only /jobs view of what this node knows, the shared run
// history (GET /jobs/{job}/runs), the same as a status page for people at
// /, and the operator's actions (POST /jobs/{job}/run, /pause, /resume).
//
// The GET endpoints are open and change nothing. The actions are disabled
// (403) unless an admin token is configured, and then require it as a
// bearer token (401 without one, 403 with a wrong one); each request to
// them is logged as an Action event with the caller's address.
package server

import (
	"context"
	"encoding/json"
	"net/http"
	"time"

	"github.com/rs/zerolog"

	"go-leader-election/internal/balance"
	"go-leader-election/internal/schedulers"
	"go-leader-election/store"
)

// Options is what the handler shows.
type Options struct {
	// Node is this replica's name.
	Node string
	// Store names the lease store in use.
	Store string
	// Jobs returns the status of every job on this node.
	Jobs func() []schedulers.Status
	// Members, if set, returns the live replicas (GET /members and the
	// status page's Replicas table); nil when balance is off.
	Members func() []balance.MemberStatus
	// Ready reports whether the store answers; nil error means ready.
	Ready func(ctx context.Context) error
	// ReadyTimeout bounds a readiness check.
	ReadyTimeout time.Duration
	// Extra handlers (metrics, status page) by pattern.
	Extra map[string]http.Handler

	// Runs reads a job's shared run history; nil when the history is off.
	Runs func(ctx context.Context, job string, limit int) ([]store.RunRecord, error)
	// HistoryLimit is the most runs a job's history keeps (HISTORY_LIMIT);
	// 0 when the history is off.
	HistoryLimit int
	// Actions carries out the operator's actions; nil disables them.
	Actions Actions
	// AdminToken is the bearer token the actions require; "" disables them.
	AdminToken string
	// Log receives the Action events.
	Log zerolog.Logger
	// Refresh is how often the status page reloads; 0 means 5s.
	Refresh time.Duration
}

// actionsEnabled reports whether the action endpoints may act.
func (o Options) actionsEnabled() bool { return o.Actions != nil && o.AdminToken != "" }

// JobsResponse is the body of GET /jobs.
type JobsResponse struct {
	Node  string              `json:"node"`
	Store string              `json:"store"`
	Jobs  []schedulers.Status `json:"jobs"`
}

// MembersResponse is the body of GET /members.
type MembersResponse struct {
	Node string `json:"node"`
	// Balance is false when BALANCE=false (Members is then empty).
	Balance bool                   `json:"balance"`
	Members []balance.MemberStatus `json:"members"`
}

// New returns the handler.
func New(o Options) http.Handler {
	mux := http.NewServeMux()
	live := func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("ok\n"))
	}
	ready := func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), o.ReadyTimeout)
		defer cancel()
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if err := o.Ready(ctx); err != nil {
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte("not ready: " + err.Error() + "\n"))
			return
		}
		_, _ = w.Write([]byte("ready\n"))
	}
	mux.HandleFunc("GET /healthz", live)
	mux.HandleFunc("GET /.well-known/live", live)
	mux.HandleFunc("GET /readyz", ready)
	mux.HandleFunc("GET /.well-known/ready", ready)
	mux.HandleFunc("GET /jobs", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		_ = enc.Encode(JobsResponse{Node: o.Node, Store: o.Store, Jobs: o.Jobs()})
	})
	mux.HandleFunc("GET /members", func(w http.ResponseWriter, _ *http.Request) {
		ms := []balance.MemberStatus{}
		if o.Members != nil {
			ms = o.Members()
		}
		w.Header().Set("Content-Type", "application/json")
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		_ = enc.Encode(MembersResponse{Node: o.Node, Balance: o.Members != nil, Members: ms})
	})
	mux.HandleFunc("GET /jobs/{job}/runs", runsHandler(o))
	for _, a := range []string{actionRun, actionPause, actionResume} {
		mux.HandleFunc("POST /jobs/{job}/"+a, actionHandler(o, a, o.Log))
	}
	if _, ok := o.Extra[StatusPath]; !ok {
		mux.Handle(StatusPath, statusHandler(o, time.Now))
		mux.HandleFunc("GET /status.js", statusScript)
	}
	for pattern, h := range o.Extra {
		mux.Handle(pattern, h)
	}
	return mux
}
