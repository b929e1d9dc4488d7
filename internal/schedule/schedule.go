package schedule

import (
	"fmt"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
)

// Schedule gives the tick times of a job. Every node computes the same ticks
// from the same spec, whenever it started.
type Schedule interface {
	// Next returns the first tick strictly after t.
	Next(t time.Time) time.Time
}

var cronParser = cron.NewParser(cron.SecondOptional | cron.Minute | cron.Hour |
	cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// ParseSchedule accepts 5- or 6-field cron (seconds optional), descriptors
// (@hourly, @daily, ...), a CRON_TZ= prefix, and "@every D" with D a whole
// number of milliseconds, at least 10ms.
//
// "@every D" ticks at multiples of D since the Unix epoch, not from process
// start as robfig's ConstantDelaySchedule does, so that replicas started at
// different times agree on every tick.
func ParseSchedule(spec string) (Schedule, error) {
	spec = strings.TrimSpace(spec)
	if rest, ok := strings.CutPrefix(spec, "@every "); ok {
		d, err := time.ParseDuration(strings.TrimSpace(rest))
		if err != nil {
			return nil, fmt.Errorf("@every: %v", err)
		}
		if d < 10*time.Millisecond || d%time.Millisecond != 0 {
			return nil, fmt.Errorf("@every %s: the interval must be a whole number of milliseconds, at least 10ms", d)
		}
		return Every(d), nil
	}
	if spec == "" {
		return nil, fmt.Errorf("empty schedule")
	}
	s, err := cronParser.Parse(spec)
	if err != nil {
		return nil, err
	}
	return s, nil
}

// Every ticks at every multiple of its duration since the Unix epoch.
type Every time.Duration

// Next implements Schedule.
func (e Every) Next(t time.Time) time.Time {
	d := int64(e)
	n := t.UnixNano()
	next := n - n%d + d
	if n < 0 && n%d != 0 {
		next -= d
	}
	return time.Unix(0, next).UTC()
}
