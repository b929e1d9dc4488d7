package scheduler

import (
	"testing"
	"time"
)

// counting is an Observer that also implements the optional observers.
type counting struct {
	late, retried, dropped int
}

func (*counting) Started(string, time.Duration)                  {}
func (*counting) Finished(string, time.Duration, error)          {}
func (*counting) Skipped(string, string)                         {}
func (*counting) LeaseLost(string)                               {}
func (*counting) StoreCall(string, string, time.Duration, error) {}
func (c *counting) LateRun(string)                               { c.late++ }
func (c *counting) Retried(string)                               { c.retried++ }
func (c *counting) HistoryDropped(string, string)                { c.dropped++ }

// TestObserversForwardTheOptionalInterfaces: the scheduler's fan-out of
// observers (the metrics and WithObserver's) tells each of the optional
// events to those that implement them, and to no other.
func TestObserversForwardTheOptionalInterfaces(t *testing.T) {
	a := &counting{}
	os := observers{a, plainObserver{}}
	os.LateRun("j")
	os.Retried("j")
	os.Retried("j")
	os.HistoryDropped("j", "queue full")
	if a.late != 1 || a.retried != 2 || a.dropped != 1 {
		t.Errorf("forwarded %+v, want 1 late run, 2 retries, 1 drop", *a)
	}
}

// plainObserver implements Observer and nothing more.
type plainObserver struct{}

func (plainObserver) Started(string, time.Duration)                  {}
func (plainObserver) Finished(string, time.Duration, error)          {}
func (plainObserver) Skipped(string, string)                         {}
func (plainObserver) LeaseLost(string)                               {}
func (plainObserver) StoreCall(string, string, time.Duration, error) {}
