package lease

import (
	"context"
	"time"
)

// Token is a fencing token: the hold of lease Name under Term, for Tick when
// the lease is claimed per tick. Terms only grow, so a system that remembers
// the highest term it accepted can refuse a write from a deposed holder.
type Token struct {
	// Name is the lease's name (a job, an election).
	Name string
	// Tick is the tick claimed, zero for a lease without ticks.
	Tick time.Time
	// Term grows by one whenever the lease changes holder.
	Term int64
}

type tokenKey struct{}

// WithToken returns ctx carrying t.
func WithToken(ctx context.Context, t Token) context.Context {
	return context.WithValue(ctx, tokenKey{}, t)
}

// TokenFrom returns the fencing token ctx carries.
func TokenFrom(ctx context.Context) (Token, bool) {
	t, ok := ctx.Value(tokenKey{}).(Token)
	return t, ok
}
