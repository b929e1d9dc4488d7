package scheduler

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"go-leader-election/internal/balance"
	"go-leader-election/internal/server"
	"go-leader-election/store"
)

// Handler serves this replica's view of the jobs, the daemon's HTTP API:
//
//	GET  /                     the status page (jobs, replicas, recent runs, actions)
//	GET  /jobs                 every job's status, as JSON
//	GET  /members              the live replicas and what each leads, as JSON
//	GET  /jobs/{job}/runs      the job's shared run history, newest first
//	POST /jobs/{job}/run       run now; /pause, /resume (with WithAdminToken)
//	GET  /healthz, /readyz     liveness, and whether the store answers
//
// Mount it under a prefix with http.StripPrefix, the prefix ending in "/"
// (the status page's links are relative to it):
//
//	mux.Handle("/scheduler/", http.StripPrefix("/scheduler", s.Handler()))
func (s *Scheduler) Handler() http.Handler {
	act := actions{s}
	var members func() []balance.MemberStatus
	if _, ok := s.st.(store.Members); ok && s.set.balance {
		members = s.members
	}
	var runs func(context.Context, string, int) ([]store.RunRecord, error)
	if _, ok := s.st.(store.History); ok && s.set.historyLimit > 0 {
		runs = act.runs
	}
	return server.New(server.Options{
		Node: s.set.node, Store: s.set.storeName,
		Jobs: s.statuses, Members: members,
		Ready:        s.ready,
		ReadyTimeout: min(s.set.timing.StoreTimeout, 2*time.Second),
		Runs:         runs, HistoryLimit: s.set.historyLimit,
		Actions: act, AdminToken: s.set.adminToken, Log: s.set.log.With().Str("node", s.set.node).Logger(),
	})
}

// ready reports whether the store answers, and answered this replica's
// latest calls.
func (s *Scheduler) ready(ctx context.Context) error {
	err := s.st.Ping(ctx)
	if err == nil {
		err = s.health.Err()
	}
	if err != nil {
		return fmt.Errorf("%s: %w", s.set.storeDesc, err)
	}
	return nil
}
