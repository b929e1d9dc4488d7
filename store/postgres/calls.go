package postgres

import (
	"context"
	"errors"
	"maps"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Calls counts the round trips a Store makes to PostgreSQL, by what they do
// ("Get", "Lock": a transaction's BEGIN and locked read, "Commit": its
// writes and COMMIT, "Rollback", "Ping", "PutMember", "ListMembers",
// "DeleteMember", "Runs", "Migrate") and by outcome, named as gRPC codes so
// that the store metrics read alike whatever the backend: "OK",
// "DeadlineExceeded", "Unavailable" (no connection, or it broke),
// "PermissionDenied", "Aborted" (a conflict, a session timeout),
// "NotFound" (no row), "Unknown". A connection's own setup and the pool's
// health checks are not counted. It is safe for concurrent use.
type Calls struct {
	total    atomic.Int64
	observer atomic.Pointer[func(method, code string, d time.Duration)]

	mu     sync.Mutex
	counts map[string]int64
}

func newCalls() *Calls { return &Calls{counts: map[string]int64{}} }

// Snapshot returns the round trips made so far, by method.
func (c *Calls) Snapshot() map[string]int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return maps.Clone(c.counts)
}

// Total returns the number of round trips made so far.
func (c *Calls) Total() int64 { return c.total.Load() }

// SetObserver installs fn (nil removes it), called after every round trip
// from the calling goroutine. fn must be quick and safe for concurrent use.
func (c *Calls) SetObserver(fn func(method, code string, d time.Duration)) {
	if fn == nil {
		c.observer.Store(nil)
		return
	}
	c.observer.Store(&fn)
}

// do makes the round trip f and records it.
func (c *Calls) do(method string, f func() error) error {
	start := time.Now()
	err := f()
	d := time.Since(start)
	c.mu.Lock()
	c.counts[method]++
	c.mu.Unlock()
	c.total.Add(1)
	if fn := c.observer.Load(); fn != nil {
		(*fn)(method, code(err), d)
	}
	return err
}

// code names err's kind as a gRPC code.
func code(err error) string {
	var pgErr *pgconn.PgError
	var netErr net.Error
	switch {
	case err == nil:
		return "OK"
	case errors.Is(err, pgx.ErrNoRows):
		return "NotFound"
	case errors.Is(err, context.DeadlineExceeded) || pgconn.Timeout(err):
		return "DeadlineExceeded"
	case errors.Is(err, context.Canceled):
		return "Canceled"
	case errors.As(err, &pgErr):
		return sqlStateCode(pgErr.Code)
	case errors.As(err, &netErr), pgconn.SafeToRetry(err), errors.Is(err, ErrOutcomeUnknown):
		return "Unavailable"
	default:
		return "Unknown"
	}
}

// sqlStateCode maps a server's SQLSTATE to a gRPC code.
func sqlStateCode(state string) string {
	switch {
	case state == "42501" || strings.HasPrefix(state, "28"): // insufficient_privilege, invalid authorization
		return "PermissionDenied"
	case state == "57014" || state == "55P03": // statement_timeout, lock_timeout
		return "DeadlineExceeded"
	case strings.HasPrefix(state, "40") || state == "25P03": // rollbacks, idle_in_transaction_session_timeout
		return "Aborted"
	case strings.HasPrefix(state, "08") || strings.HasPrefix(state, "57P") || strings.HasPrefix(state, "53"):
		return "Unavailable" // connection, shutdown, terminated, out of resources
	default:
		return "Unknown"
	}
}
