// Package server is the daemon's HTTP interface: liveness and readiness
// probes, the read-only /jobs view of what this node knows, and the same
// view as a status page for people at /. It changes nothing: no endpoint
// claims, releases or runs a job.
package server

import (
	"context"
	"encoding/json"
	"net/http"
	"time"

	"go-leader-election/schedulers"
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
	Members func() []schedulers.MemberStatus
	// Ready reports whether the store answers; nil error means ready.
	Ready func(ctx context.Context) error
	// ReadyTimeout bounds a readiness check.
	ReadyTimeout time.Duration
	// Extra handlers (metrics, status page) by pattern.
	Extra map[string]http.Handler
}

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
	Balance bool                      `json:"balance"`
	Members []schedulers.MemberStatus `json:"members"`
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
		ms := []schedulers.MemberStatus{}
		if o.Members != nil {
			ms = o.Members()
		}
		w.Header().Set("Content-Type", "application/json")
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		_ = enc.Encode(MembersResponse{Node: o.Node, Balance: o.Members != nil, Members: ms})
	})
	if _, ok := o.Extra[StatusPath]; !ok {
		mux.Handle(StatusPath, statusHandler(o, time.Now))
	}
	for pattern, h := range o.Extra {
		mux.Handle(pattern, h)
	}
	return mux
}
