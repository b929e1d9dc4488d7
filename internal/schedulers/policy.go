package schedulers

import (
	"fmt"
	"time"
)

// Policy is what a job asks of its runs beyond its schedule: what to do with
// a tick that comes while a run still runs (Overlap), how late a tick may
// still start (StartingDeadline), how often a failed run is tried again
// (Retries, RetryBackoff), and how long a run may take (Timeout). The zero
// Policy is the default of each field.
type Policy struct {
	// Overlap is what a tick that comes during a run does. Default Forbid.
	Overlap Overlap
	// Retries is how many times a run whose job returned an error is tried
	// again, under the same claim and term. Default 0.
	Retries int
	// RetryBackoff is the wait before the first retry; each next one waits
	// twice as long, jittered by ±20%. Zero means DefaultRetryBackoff.
	RetryBackoff time.Duration
	// StartingDeadline is how long after its tick a tick may still start
	// when it starts late (a tick no node ran: after an outage, or after a
	// lease held over it was released or lapsed); it also bounds retries.
	// Nil means until the following tick; zero, never late: a tick then
	// starts only within Timing.Grace of it (its holder's own turn). It may
	// not exceed the schedule's shortest interval.
	StartingDeadline *time.Duration
	// Timeout bounds a run, retries included: past it the run's context is
	// cancelled and its result is store.ResultTimeout. Zero means none.
	Timeout time.Duration
}

// DefaultRetryBackoff is Policy.RetryBackoff's default.
const DefaultRetryBackoff = time.Second

// Overlap is what a tick that comes while the job's previous run still runs
// does. No policy runs two runs of a job at once, on any node.
type Overlap int

const (
	// Forbid: the tick is marked taken and run by no one ("Skipped").
	Forbid Overlap = iota
	// Replace: the running run's context is cancelled, and the tick starts
	// once that run has ended ("Replacing").
	Replace
	// BufferOne: the tick is claimed and starts right after the running run
	// ends, if within its starting deadline; at most one tick waits (a
	// later one takes its place).
	BufferOne
)

// overlapNames are the policies' names, as the jobs file and the library
// write them.
var overlapNames = [...]string{Forbid: "forbid", Replace: "replace", BufferOne: "buffer_one"}

func (o Overlap) String() string {
	if o < 0 || int(o) >= len(overlapNames) {
		return fmt.Sprintf("Overlap(%d)", int(o))
	}
	return overlapNames[o]
}

// ParseOverlap returns the policy named name ("forbid", "replace",
// "buffer_one").
func ParseOverlap(name string) (Overlap, error) {
	for o, n := range overlapNames {
		if n == name {
			return Overlap(o), nil
		}
	}
	return 0, fmt.Errorf("overlap %q: want forbid, replace or buffer_one", name)
}

// PolicyError is an invalid Policy field: Field is its name as the jobs file
// writes it (overlap, retries, retry_backoff, starting_deadline, timeout),
// Value the value given.
type PolicyError struct {
	Field, Value, Reason string
}

func (e *PolicyError) Error() string { return fmt.Sprintf("%s %s: %s", e.Field, e.Value, e.Reason) }

// Validate returns a *PolicyError for the first invalid field; sched is the
// job's schedule, from whose ticks after now StartingDeadline is checked.
func (p Policy) Validate(sched Schedule, now time.Time) error {
	switch {
	case p.Overlap < Forbid || p.Overlap > BufferOne:
		return &PolicyError{"overlap", p.Overlap.String(), "want forbid, replace or buffer_one"}
	case p.Retries < 0:
		return &PolicyError{"retries", fmt.Sprint(p.Retries), "must not be negative"}
	case p.RetryBackoff < 0:
		return &PolicyError{"retry_backoff", p.RetryBackoff.String(), "must not be negative"}
	case p.Timeout < 0:
		return &PolicyError{"timeout", p.Timeout.String(), "must not be negative (0: none)"}
	case p.StartingDeadline == nil:
		return nil
	case *p.StartingDeadline < 0:
		return &PolicyError{"starting_deadline", p.StartingDeadline.String(), "must not be negative (0: never late)"}
	}
	if shortest, ok := shortestInterval(sched, now); ok && *p.StartingDeadline > shortest {
		return &PolicyError{"starting_deadline", p.StartingDeadline.String(),
			fmt.Sprintf("must not exceed the schedule's shortest interval, %s (unset: until the next tick)", shortest)}
	}
	return nil
}

// intervalSample is how many of a schedule's ticks shortestInterval looks
// at: enough to span the weeks, months and daylight-saving changes of any
// cron schedule with longer intervals than a few minutes.
const intervalSample = 1000

// shortestInterval returns the shortest time between two of sched's next
// ticks after now (of the first intervalSample); ok is false without two.
func shortestInterval(sched Schedule, now time.Time) (shortest time.Duration, ok bool) {
	if e, isEvery := sched.(Every); isEvery {
		return time.Duration(e), true
	}
	prev := sched.Next(now)
	for range intervalSample {
		next := sched.Next(prev)
		if prev.IsZero() || next.IsZero() {
			break
		}
		if d := next.Sub(prev); !ok || d < shortest {
			shortest, ok = d, true
		}
		prev = next
	}
	return shortest, ok
}

// startBy is the latest time a claim of tick t, whose following tick is
// next, may be sent: next, or sooner by the starting deadline, but never
// within Grace of t (the holder's own turn: a tick claimed then is on time).
func (s *Scheduler) startBy(t, next time.Time) time.Time {
	p := s.cfg.Policy.StartingDeadline
	if p == nil {
		return next
	}
	return earliest(t.Add(max(*p, s.t.Grace)), next)
}

// late reports how late a claim of tick t sent at sent is, and whether that
// makes its run a late one: a claim sent once the holder's turn is over
// (Grace after the tick) runs a tick no node ran in its time.
func (s *Scheduler) late(t, sent time.Time) (time.Duration, bool) {
	by := sent.Sub(t)
	return by, by >= s.t.Grace
}
