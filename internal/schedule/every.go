package schedule

import "time"

// Every ticks at every multiple of its duration since the Unix epoch, not
// from process start as robfig/cron's ConstantDelaySchedule does, so that
// replicas started at different times agree on every tick.
type Every time.Duration

// parseEvery reads the D of "@every D".
func parseEvery(text string) (Schedule, error) {
	if text == "" {
		return nil, invalid("@every: no interval (want e.g. @every 30s)")
	}
	d, err := time.ParseDuration(text)
	if err != nil {
		return nil, invalid("@every %s: not a duration (want e.g. 30s, 5m, 1h30m)", text)
	}
	if d < 10*time.Millisecond || d%time.Millisecond != 0 {
		return nil, invalid("@every %s: the interval must be a whole number of milliseconds, at least 10ms", text)
	}
	return Every(d), nil
}

// Next implements Schedule.
func (e Every) Next(t time.Time) time.Time {
	return e.latest(t).Add(time.Duration(e))
}

// latest is the tick at or before t.
func (e Every) latest(t time.Time) time.Time {
	d, n := int64(e), t.UnixNano()
	p := n - n%d
	if n < 0 && n%d != 0 {
		p -= d
	}
	return time.Unix(0, p).UTC()
}
