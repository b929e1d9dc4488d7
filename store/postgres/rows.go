package postgres

import (
	"time"

	"github.com/jackc/pgx/v5"

	"go-leader-election/store"
)

// A zero time is stored as NULL; times are kept to the microsecond, in UTC.

func nullTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	t = micros(t).UTC()
	return &t
}

func fromNull(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.UTC()
}

// scanNamedLease reads a row of the name column and leaseColumns.
func scanNamedLease(row pgx.Row) (string, store.Lease, error) {
	var name string
	var l store.Lease
	var tick, expires *time.Time
	var ttl int64
	err := row.Scan(&name, &l.Holder, &l.Node, &l.Term, &tick, &ttl, &expires, &l.Version, &l.Paused)
	l.Tick, l.Expires, l.TTL = fromNull(tick), fromNull(expires), time.Duration(ttl)
	return name, l, err
}

// scanLog reads a history log row (next, latest_tick, latest_term,
// latest_lost).
func scanLog(row pgx.Row) (store.RunLog, error) {
	var l store.RunLog
	var tick *time.Time
	err := row.Scan(&l.Next, &tick, &l.LatestTerm, &l.LatestLost)
	l.LatestTick = fromNull(tick)
	return l, err
}
