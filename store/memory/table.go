package memory

import (
	"math"
	"time"

	"go-leader-election/store"
)

// table keeps the lease records compactly, since the embedded store holds
// every election of a lease server in single-server mode: a record is a
// 40-byte row of numbers, its holder and node strings interned (the many
// elections of one session or node share one copy), its expiry as Unix
// nanoseconds. 100,000 elections take about 10 MB, where store.Lease values
// took about 25. A record with a tick (a scheduler's job), or an expiry
// outside Unix nanoseconds' range (years 1678 to 2262), keeps its times
// exactly in a map on the side.
//
// Records read back equal, field by field, to what was written, but for a
// row's expiry: the same instant, without monotonic reading, in UTC when
// written in UTC and in time.Local otherwise.
type table struct {
	rows  map[string]row
	times map[string][2]time.Time // tick and expiry of the rows flagged sideTimes
	strs  interned
}

// row is one record. The top bits of node carry flags.
type row struct {
	holder, node  uint32
	term, version int64
	ttl           int64 // time.Duration
	expires       int64 // Unix nanoseconds, or noTime
}

const (
	paused     = 1 << 31
	expiresUTC = 1 << 30
	sideTimes  = 1 << 29 // the times are in table.times
	idBits     = sideTimes - 1
)

// noTime stands for the zero time.Time.
const noTime = math.MinInt64

func newTable() *table {
	return &table{rows: map[string]row{}, times: map[string][2]time.Time{}, strs: newInterned()}
}

// get returns job's record.
func (t *table) get(job string) (store.Lease, bool) {
	r, ok := t.rows[job]
	if !ok {
		return store.Lease{}, false
	}
	l := store.Lease{
		Job: job, Holder: t.strs.at(r.holder), Node: t.strs.at(r.node & idBits),
		Term: r.term, Version: r.version, TTL: time.Duration(r.ttl), Paused: r.node&paused != 0,
		Expires: fromNanos(r.expires, r.node&expiresUTC != 0),
	}
	if r.node&sideTimes != 0 {
		ts := t.times[job]
		l.Tick, l.Expires = ts[0], ts[1]
	}
	return l, true
}

// put writes job's record.
func (t *table) put(job string, l store.Lease) {
	old, ok := t.rows[job]
	r := row{term: l.Term, version: l.Version, ttl: int64(l.TTL), expires: noTime}
	if ok {
		r.holder = t.strs.replace(old.holder, l.Holder)
		r.node = t.strs.replace(old.node&idBits, l.Node)
	} else {
		r.holder, r.node = t.strs.add(l.Holder), t.strs.add(l.Node)
	}
	switch {
	case !l.Tick.IsZero() || !inRange(l.Expires):
		r.node |= sideTimes
		t.times[job] = [2]time.Time{l.Tick, l.Expires}
	case ok && old.node&sideTimes != 0:
		delete(t.times, job)
		fallthrough
	default:
		r.expires = toNanos(l.Expires)
	}
	if l.Paused {
		r.node |= paused
	}
	if l.Expires.Location() == time.UTC {
		r.node |= expiresUTC
	}
	t.rows[job] = r
}

// inRange reports whether t is the zero time or fits Unix nanoseconds.
func inRange(t time.Time) bool {
	return t.IsZero() || t.Year() > 1678 && t.Year() < 2262
}

func toNanos(t time.Time) int64 {
	if t.IsZero() {
		return noTime
	}
	return t.UnixNano()
}

func fromNanos(n int64, utc bool) time.Time {
	if n == noTime {
		return time.Time{}
	}
	t := time.Unix(0, n)
	if utc {
		t = t.UTC()
	}
	return t
}

// interned keeps one copy of each holder and node string, counted by the
// rows that name it, and forgets it when none does. Id 0 is "".
type interned struct {
	ids  map[string]uint32
	strs []string
	refs []int32
	free []uint32
}

func newInterned() interned {
	return interned{ids: map[string]uint32{}, strs: []string{""}, refs: []int32{0}}
}

func (n *interned) at(id uint32) string { return n.strs[id] }

// add counts one more row naming s and returns its id.
func (n *interned) add(s string) uint32 {
	if s == "" {
		return 0
	}
	id, ok := n.ids[s]
	if !ok {
		if k := len(n.free); k > 0 {
			id, n.free = n.free[k-1], n.free[:k-1]
			n.strs[id] = s
		} else {
			id = uint32(len(n.strs))
			if id > idBits {
				panic("memory: more than 2^28 distinct holders and nodes")
			}
			n.strs, n.refs = append(n.strs, s), append(n.refs, 0)
		}
		n.ids[s] = id
	}
	n.refs[id]++
	return id
}

// drop counts one row fewer naming id.
func (n *interned) drop(id uint32) {
	if id == 0 {
		return
	}
	if n.refs[id]--; n.refs[id] == 0 {
		delete(n.ids, n.strs[id])
		n.strs[id] = ""
		n.free = append(n.free, id)
	}
}

// replace is add(s) and drop(old), for a row that named old and now names
// s: nothing changes when they are the same.
func (n *interned) replace(old uint32, s string) uint32 {
	if n.strs[old] == s {
		return old
	}
	id := n.add(s)
	n.drop(old)
	return id
}
