package schedule

import (
	"time"

	"github.com/robfig/cron/v3"
)

// cronSchedule is a cron spec read in a time zone under the daylight-saving
// rule of the package doc.
//
// A zone's timeline is a run of spans of constant UTC offset. Inside one, a
// wall-clock time is one instant, and robfig/cron's SpecSchedule, given a
// fixed-offset zone, finds the next match. The rule lives at the borders:
// after a forward change (a gap), a fixed-time spec that matched a skipped
// wall time ticks at the change itself; after a backward change (an
// overlap), a fixed-time spec does not tick on the repeated wall times
// again. A wildcard spec just follows real time.
type cronSchedule struct {
	spec      cron.SpecSchedule // robfig's bit sets; the Location is set per span
	loc       *time.Location
	fixedTime bool
}

// maxSpans bounds the walk over offset changes: five years of spans in a
// zone changing twice a year, with room to spare (robfig/cron gives up on a
// spec after five years too).
const maxSpans = 64

// Next implements Schedule: the first tick strictly after t, in UTC.
func (c *cronSchedule) Next(t time.Time) time.Time {
	after, at := t, t // ticks come after 'after'; 'at' picks the span
	for range maxSpans {
		start, end := at.In(c.loc).ZoneBounds()
		offset := offsetAt(at, c.loc)
		x := c.nextAt(after, offset)
		if c.fixedTime && !start.IsZero() {
			// A wall time repeated after a backward change ran in the span before.
			if prev := offsetAt(start.Add(-time.Nanosecond), c.loc); prev > offset {
				if repeatEnd := start.Add(seconds(prev - offset)); !x.IsZero() && x.Before(repeatEnd) {
					x = c.nextAt(repeatEnd.Add(-time.Nanosecond), offset)
				}
			}
		}
		if end.IsZero() || (!x.IsZero() && x.Before(end)) {
			return x
		}
		if c.fixedTime {
			// x, read in this span's offset past its end, is a wall time the
			// forward change skips, if it comes before the new offset's walls.
			if next := offsetAt(end, c.loc); next > offset && !x.IsZero() && x.Before(end.Add(seconds(next-offset))) {
				return end.UTC()
			}
		}
		if x.IsZero() {
			return x // no match within five years of wall times
		}
		after, at = end.Add(-time.Nanosecond), end
	}
	return time.Time{}
}

// nextAt is robfig's next match after t, reading wall times at a fixed UTC
// offset (in seconds).
func (c *cronSchedule) nextAt(t time.Time, offset int) time.Time {
	spec := c.spec
	spec.Location = time.FixedZone("", offset)
	next := spec.Next(t)
	if next.IsZero() {
		return next
	}
	return next.UTC()
}

// offsetAt is the zone's UTC offset at t, in seconds.
func offsetAt(t time.Time, loc *time.Location) int {
	_, offset := t.In(loc).Zone()
	return offset
}

func seconds(n int) time.Duration { return time.Duration(n) * time.Second }
