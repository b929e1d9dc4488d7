package schedule

import "time"

// searchBack is how far back Latest looks for a tick: past robfig/cron's
// five-year horizon, so that any schedule with a tick every five years has
// one in reach.
const searchBack = 6 * 366 * 24 * time.Hour

// Latest returns the latest tick of s at or before t; ok is false when there
// is none within six years. It needs only Next, which must be monotonic
// (every Schedule of this package's is): it steps back, doubling, until a
// tick lies at or before t (28 steps reach six years), then bisects down
// to the nanosecond: under 150 calls of Next, a few dozen in practice.
func Latest(s Schedule, t time.Time) (tick time.Time, ok bool) {
	if e, isEvery := s.(Every); isEvery {
		return e.latest(t), true
	}
	var p time.Time
	for back := time.Second; ; back *= 2 {
		if back > searchBack {
			return time.Time{}, false
		}
		if p = s.Next(t.Add(-back)); !p.IsZero() && !p.After(t) {
			break
		}
	}
	// p is a tick at or before t, and none lies in (hi, t]: bisect (p, hi]
	// until no tick lies after p in it.
	hi := t
	for {
		q := s.Next(p)
		if q.IsZero() || q.After(hi) {
			return p, true
		}
		mid := p.Add(hi.Sub(p) / 2)
		if q = s.Next(mid); !q.IsZero() && !q.After(hi) {
			p = q
		} else {
			hi = mid
		}
	}
}

// Interval returns the time from the tick at or before t to the next one:
// the length of the tick period t falls in. ok is false when either tick is
// missing (see Latest and Schedule.Next).
func Interval(s Schedule, t time.Time) (d time.Duration, ok bool) {
	p, ok := Latest(s, t)
	if !ok {
		return 0, false
	}
	n := s.Next(t)
	if n.IsZero() {
		return 0, false
	}
	return n.Sub(p), true
}
