package schedulers

import (
	"time"

	"go-leader-election/lease"
)

// LastRun describes the latest run of the job on this node, as /jobs shows
// it (store.RunRecord is a run as the shared history keeps it).
type LastRun struct {
	Tick     time.Time     `json:"tick"`
	Start    time.Time     `json:"start"`
	Duration time.Duration `json:"-"`
	// DurationText is Duration as Go prints it ("1.5s"), for JSON.
	DurationText string `json:"duration"`
	Error        string `json:"error,omitempty"`
}

// Status is what this node knows of one job, for /jobs and the status page.
type Status struct {
	Job      string    `json:"job"`
	Schedule string    `json:"schedule"`
	NextTick time.Time `json:"next_tick"`
	// Leader is the node named by the lease as last seen here; empty when
	// the lease is released or was never claimed.
	Leader string `json:"leader"`
	Term   int64  `json:"term"`
	// LastTick is the latest tick claimed by any node, as last seen here.
	LastTick time.Time `json:"last_tick,omitzero"`
	// LeaseExpires is the holder's own reckoning of its lease's end.
	LeaseExpires time.Time `json:"lease_expires,omitzero"`
	// Leading is true while this node holds the lease (its latest write as
	// holder has not expired); a healthy leader holds it without a gap.
	Leading bool `json:"leading"`
	// Preferred is the node balance prefers for the job ("" when balance
	// is off or paused).
	Preferred string `json:"preferred,omitempty"`
	Running   bool   `json:"running"`
	// Paused is the job's pause flag, as last seen here.
	Paused  bool     `json:"paused"`
	LastRun *LastRun `json:"last_run"`
}

// Status returns a snapshot of what this node knows of the job.
func (s *Scheduler) Status() Status {
	ls := s.lease.State()
	s.mu.Lock()
	defer s.mu.Unlock()
	st := Status{
		Job:          s.job.Name,
		Schedule:     s.cfg.Spec,
		NextTick:     s.next,
		Leader:       ls.Record.Node,
		Term:         ls.Record.Term,
		LastTick:     ls.Record.Tick,
		LeaseExpires: ls.Record.Expires,
		Leading:      ls.Kind == lease.Mine,
		Running:      s.run != nil,
		Paused:       ls.Record.Paused,
	}
	if s.cfg.Balance != nil {
		if to, ok := s.cfg.Balance.Preferred(s.job.Name); ok {
			st.Preferred = to.Node
		}
	}
	if s.last != nil {
		r := *s.last
		r.DurationText = r.Duration.String()
		st.LastRun = &r
	}
	return st
}
