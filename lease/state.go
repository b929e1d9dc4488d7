package lease

import (
	"time"

	"go-leader-election/store"
)

// Kind is who holds a lease, as this process sees it.
type Kind int

const (
	// Free: no holder on record (never claimed, or released).
	Free Kind = iota
	// Held: another process holds it, until State.Until unless its record
	// changes.
	Held
	// Mine: this process holds it; it may act on the hold until
	// State.TrustedUntil, and the hold is on record until State.Until.
	Mine
	// Stale: the record still names this process, but its hold has ended by
	// its own reckoning (expired, or given up): it may release the record,
	// and must not act on it.
	Stale
)

func (k Kind) String() string {
	switch k {
	case Free:
		return "free"
	case Held:
		return "held"
	case Mine:
		return "mine"
	case Stale:
		return "stale"
	}
	return "unknown"
}

// State is the answer to "who holds this lease, and until when", from one
// process's point of view at one instant.
type State struct {
	Kind Kind
	// Record is the record as last read or written.
	Record store.Lease
	// Until is, for Held, when the record lapses by this process's clock if
	// it does not change (its TTL after this process first saw its
	// Version); for Mine, when this process's latest write expires (its TTL
	// after it was sent). Zero otherwise.
	Until time.Time
	// TrustedUntil is, for Mine, when this process must stop acting on its
	// hold: the Trust fraction of the TTL after the write was sent. It may
	// be before now while Until is not: the hold is still on record, and
	// this process may claim with it, but not run anything new on it.
	TrustedUntil time.Time
}

// Lapsed reports whether another process's hold has lapsed at now: this
// process may take it over, naming Record.Version.
func (s State) Lapsed(now time.Time) bool {
	return s.Kind == Held && !now.Before(s.Until)
}

// Trusted reports whether this process may act on its hold at now.
func (s State) Trusted(now time.Time) bool {
	return s.Kind == Mine && now.Before(s.TrustedUntil)
}
