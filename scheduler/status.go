package scheduler

import (
	"context"
	"time"

	"go-leader-election/internal/balance"
	"go-leader-election/internal/schedulers"
	"go-leader-election/store"
)

// JobStatus is what this replica knows of one job.
type JobStatus struct {
	Job      string
	Schedule string
	// NextTick is the tick this replica waits for.
	NextTick time.Time
	// Leader is the replica named by the job's lease as last seen here; ""
	// when the lease is released or was never claimed. Term is its fencing
	// term, LastTick the latest tick claimed by any replica.
	Leader   string
	Term     int64
	LastTick time.Time
	// Leading is true while this replica holds the lease.
	Leading bool
	// Preferred is the replica balance prefers for the job ("" with
	// balance off).
	Preferred string
	// Running is true while a run of the job is under way here.
	Running bool
	// Paused is the operator's pause, as last seen here.
	Paused bool
	// LastRun is this replica's latest run of the job, nil if none.
	LastRun *Run
}

// Run is one run of a job on this replica.
type Run struct {
	Tick     time.Time
	Start    time.Time
	Duration time.Duration
	// Error is the run's error, "" if it succeeded.
	Error string
}

// Status returns what this replica knows of each job, in the order added.
// Before Run it knows only the jobs and their schedules.
func (s *Scheduler) Status() []JobStatus {
	sts := s.statuses()
	out := make([]JobStatus, len(sts))
	for i, st := range sts {
		out[i] = JobStatus{
			Job: st.Job, Schedule: st.Schedule, NextTick: st.NextTick, Leader: st.Leader, Term: st.Term,
			LastTick: st.LastTick, Leading: st.Leading, Preferred: st.Preferred, Running: st.Running, Paused: st.Paused,
		}
		if r := st.LastRun; r != nil {
			out[i].LastRun = &Run{Tick: r.Tick, Start: r.Start, Duration: r.Duration, Error: r.Error}
		}
	}
	return out
}

// statuses is the engine's status of every job (for the Handler and the
// metrics); before Run, the jobs with their schedules and next ticks.
func (s *Scheduler) statuses() []schedulers.Status {
	if g := s.running(); g != nil {
		return g.Statuses()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.set.clock.Now()
	out := make([]schedulers.Status, len(s.jobs))
	for i, j := range s.jobs {
		out[i] = schedulers.Status{Job: j.Job.Name, Schedule: j.Spec, NextTick: j.Schedule.Next(now)}
	}
	return out
}

// members is the live replicas as this one sees them (with balance on).
func (s *Scheduler) members() []balance.MemberStatus {
	if g := s.running(); g != nil {
		return g.Members()
	}
	return nil
}

// actions carries the Handler's operator actions to the engine once it runs.
type actions struct{ s *Scheduler }

func (a actions) RunNow(ctx context.Context, job string) (schedulers.ManualRun, error) {
	g := a.s.running()
	if g == nil {
		return schedulers.ManualRun{}, ErrNotRunning
	}
	return g.RunNow(ctx, job)
}

func (a actions) SetPaused(ctx context.Context, job string, paused bool) error {
	g := a.s.running()
	if g == nil {
		return ErrNotRunning
	}
	return g.SetPaused(ctx, job, paused)
}

func (a actions) runs(ctx context.Context, job string, limit int) ([]store.RunRecord, error) {
	g := a.s.running()
	if g == nil {
		return nil, ErrNotRunning
	}
	return g.Runs(ctx, job, limit)
}

// Member is one live replica, as this one sees it (with balance on).
type Member struct {
	Node string
	// Self is true for this replica.
	Self bool
	// Started is when the replica started, by its own clock.
	Started time.Time
	// Leads lists the jobs whose lease names the replica, as last seen
	// here; Preferred the jobs balance gives it.
	Leads     []string
	Preferred []string
	// JobSet is a hash of the replica's jobs: replicas with the same jobs
	// show the same JobSet.
	JobSet string
}

// Members returns the live replicas, this one first; nil with balance off,
// with a store that keeps no member records, or before Run.
func (s *Scheduler) Members() []Member {
	ms := s.members()
	if ms == nil {
		return nil
	}
	out := make([]Member, len(ms))
	for i, m := range ms {
		out[i] = Member{Node: m.Node, Self: m.Self, Started: m.Started, Leads: m.Leads, Preferred: m.Preferred, JobSet: m.JobSet}
	}
	return out
}
