// Package postgres is the lease store on PostgreSQL, for a replicated
// service: every process that points at the same database and schema shares
// the leases. It talks to PostgreSQL through pgx (github.com/jackc/pgx/v5)
// and a connection pool of its own.
//
// What it promises:
//
//   - Atomic claims. Claim, Renew, Release, SetPaused and ClaimManual each
//     run in a transaction that creates the job's row if it is missing,
//     reads it with a row lock (SELECT ... FOR UPDATE), applies the store
//     package's rules (store.ClaimRequest.Apply and the others) and writes,
//     so of any number of processes claiming the same tick exactly one wins.
//     When the rules refuse, nothing of that job is written and the caller
//     gets the sentinel error with the record as it stands.
//   - Cheap calls. A transaction is two round trips: BEGIN, the rows'
//     creation where missing and their locked read go together, then the
//     UPDATE and COMMIT (or a ROLLBACK when the rules refuse all). The writes
//     of many jobs made at the same moment (a node's claims at a shared
//     tick) share one transaction, each judged on its own row, and the reads
//     one query (Get), as do run records (AppendRun): batch.go. Rows are
//     locked in key order, so that two nodes' transactions never deadlock.
//     Calls counts the round trips.
//   - Bounded calls. Every method returns within Config.Timeout, waiting for
//     a pooled connection included; each session also has that timeout as
//     its statement_timeout, lock_timeout and
//     idle_in_transaction_session_timeout, so that a process frozen in the
//     middle of a transaction (SIGSTOP, a partition) holds its row locks for
//     no longer than that.
//   - Lost answers are reported, not guessed: a COMMIT whose answer never
//     came (the connection dropped after it was sent) fails with an error
//     matching ErrOutcomeUnknown. The write may have been applied; the
//     caller finds out by reading, as package lease does when it finds its
//     own claim on record. Nothing is retried once sent; a call whose
//     connection proved dead before anything was sent is retried once.
//   - Its own tables, created or upgraded by New (schema.go): idempotent,
//     versioned in gle_schema_version, under an advisory lock, so that many
//     replicas may start at once.
//
// What it does not promise: a call that failed or timed out may still have
// been applied (the next read tells); it judges no time (the database clock is never
// compared with a node's: lapse is the caller's judgement, see package
// store); a database restart or failover is an outage of the store, and it
// keeps the promise only as far as the database keeps acknowledged commits
// (a failover to an asynchronous replica can lose the latest claims, and a
// tick can then run twice); it creates no database, and a role without the
// right to create tables needs them made by hand (SQL).
//
// # Tables
//
// In Config.Schema (default "public"):
//
//	gle_leases          one row per job: the scheduler's leases (store.Store, store.Control)
//	gle_elections       one row per (kind, name): the lease service's elections (Config.Kind set)
//	gle_members         one row per process: the member records (store.Members)
//	gle_run_logs        one row per job: its run history's log (store.History)
//	gle_runs            up to the history limit of rows per job: its latest runs
//	gle_schema_version  the versions of these tables applied
//
// schema.go has their definitions; SQL returns the script to run by hand.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"go-leader-election/store"
	"go-leader-election/store/internal/coalesce"
)

// Defaults for Config.
const (
	DefaultSchema  = "public"
	DefaultTimeout = 5 * time.Second
)

// ErrOutcomeUnknown is matched (errors.Is) by the error of a write whose
// COMMIT was sent but not answered: it may have been applied.
var ErrOutcomeUnknown = errors.New("commit sent, answer lost: the write may have been applied")

// Config says where the leases live.
type Config struct {
	// URL is the connection string: a postgres:// URL or a key=value
	// string, as libpq takes it (pgx also reads the PG* variables and the
	// password file for what it leaves out). pool_max_conns sets the pool's
	// size (default: 4, or the number of CPUs if more). Required.
	URL string
	// Schema holds the tables; "" is DefaultSchema. It is created if
	// missing. Invariant: ValidSchema.
	Schema string
	// Kind, if set, makes this store's records elections of that kind
	// (table gle_elections), apart from the scheduler's leases
	// (gle_leases).
	Kind string
	// HistoryLimit is how many runs per job the history keeps: 0 means
	// store.DefaultHistoryLimit; at most store.MaxHistoryLimit.
	HistoryLimit int
	// Timeout bounds every store call, waiting for a connection included;
	// 0 means DefaultTimeout.
	Timeout time.Duration
}

// Store is a store.Store, store.Members, store.History and store.Control
// on PostgreSQL. Create it with New; it is safe for concurrent use.
type Store struct {
	pool    *pgxpool.Pool
	calls   *Calls
	timeout time.Duration
	schema  string
	// kind is Config.Kind: the elections' kind column, or "" for the
	// scheduler's leases.
	kind         string
	leases       leaseSQL
	sql          tableSQL
	historyLimit int
	// gets, writes (claims, renewals, releases, pauses) and appends
	// coalesce the calls made at the same moment into one round trip, or
	// one transaction, for many jobs (batch.go).
	gets    *coalesce.Coalescer[string, store.Lease]
	writes  *coalesce.Coalescer[*leaseOp, struct{}]
	appends *coalesce.Coalescer[store.RunRecord, struct{}]
}

var (
	_ store.Store        = (*Store)(nil)
	_ store.Members      = (*Store)(nil)
	_ store.History      = (*Store)(nil)
	_ store.Control      = (*Store)(nil)
	_ store.CallObserver = (*Store)(nil)
)

// New connects to the database, checks that it answers, and creates or
// upgrades the tables (Migrate). Its errors never show the password.
func New(ctx context.Context, cfg Config) (*Store, error) {
	if cfg.Schema == "" {
		cfg.Schema = DefaultSchema
	}
	if err := ValidSchema(cfg.Schema); err != nil {
		return nil, fmt.Errorf("postgres: schema %q: %w", cfg.Schema, err)
	}
	switch {
	case cfg.Timeout < 0:
		return nil, fmt.Errorf("postgres: negative timeout %v", cfg.Timeout)
	case cfg.Timeout == 0:
		cfg.Timeout = DefaultTimeout
	}
	limit := cfg.HistoryLimit
	switch {
	case limit == 0:
		limit = store.DefaultHistoryLimit
	case limit < 0 || limit > store.MaxHistoryLimit:
		return nil, fmt.Errorf("postgres: history limit %d: want 1 to %d", limit, store.MaxHistoryLimit)
	}
	pcfg, err := poolConfig(cfg.URL, cfg.Timeout)
	if err != nil {
		return nil, err
	}
	pool, err := pgxpool.NewWithConfig(ctx, pcfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	s := &Store{pool: pool, calls: newCalls(), timeout: cfg.Timeout, schema: cfg.Schema, kind: cfg.Kind,
		sql: newTableSQL(cfg.Schema), historyLimit: limit}
	if s.kind == "" {
		s.leases = newLeaseSQL(qualified(cfg.Schema, leasesTable), "job")
	} else {
		s.leases = newLeaseSQL(qualified(cfg.Schema, electionsTable), "name", "kind")
	}
	s.initBatches()
	if err := s.ping(ctx, "connect"); err != nil {
		pool.Close()
		return nil, err
	}
	if err := s.Migrate(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	return s, nil
}

// poolConfig parses url and sets what every session needs: the timeouts
// that free a frozen client's locks, and a name in pg_stat_activity.
func poolConfig(url string, timeout time.Duration) (*pgxpool.Config, error) {
	if url == "" {
		return nil, errors.New("postgres: no connection string")
	}
	pcfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		_, secrets := redact(url)
		return nil, fmt.Errorf("postgres: bad connection string: %s", parseProblem(err, secrets))
	}
	params := pcfg.ConnConfig.RuntimeParams
	ms := strconv.FormatInt(max(timeout.Milliseconds(), 1), 10)
	for _, p := range []string{"statement_timeout", "lock_timeout", "idle_in_transaction_session_timeout"} {
		if params[p] == "" {
			params[p] = ms
		}
	}
	if params["application_name"] == "" {
		params["application_name"] = ApplicationName
	}
	return pcfg, nil
}

// ApplicationName is the sessions' application_name, unless the connection
// string sets one: it names them in pg_stat_activity.
const ApplicationName = "go-leader-election"

// Calls returns the counter of this store's round trips.
func (s *Store) Calls() *Calls { return s.calls }

// ObserveCalls implements store.CallObserver: fn is told of every round
// trip.
func (s *Store) ObserveCalls(fn func(method, code string, d time.Duration)) { s.calls.SetObserver(fn) }

// bound limits ctx to the store's timeout, unless its deadline is as near.
func (s *Store) bound(ctx context.Context) (context.Context, context.CancelFunc) {
	if d, ok := ctx.Deadline(); ok && time.Until(d) <= s.timeout {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, s.timeout)
}

// keyArgs are the parameters of a lease statement before its own: the
// elections' kind, or none.
func (s *Store) keyArgs(args ...any) []any {
	if s.kind == "" {
		return args
	}
	return append([]any{s.kind}, args...)
}

// Get implements store.Store with one query, shared with the reads of
// other jobs made at the same moment.
func (s *Store) Get(ctx context.Context, job string) (store.Lease, error) {
	if err := checkName("get", job); err != nil {
		return store.Lease{}, err
	}
	ctx, cancel := s.bound(ctx)
	defer cancel()
	l, err := s.gets.Submit(ctx, job)
	if err != nil && err == ctx.Err() { // gave up waiting for its batch
		return store.Lease{}, wrap(ctx, "get", job, err)
	}
	return l, err
}

// Claim implements store.Store in one transaction, shared with the writes
// of other jobs made at the same moment.
func (s *Store) Claim(ctx context.Context, req store.ClaimRequest) (store.Lease, error) {
	return s.write(ctx, "claim", req.Job, req.Apply)
}

// Renew implements store.Store in one transaction, shared as Claim's.
func (s *Store) Renew(ctx context.Context, req store.RenewRequest) (store.Lease, error) {
	return s.write(ctx, "renew", req.Job, req.Apply)
}

// Release implements store.Store in one transaction, shared as Claim's.
func (s *Store) Release(ctx context.Context, req store.ReleaseRequest) error {
	_, err := s.write(ctx, "release", req.Job, req.Apply)
	return err
}

// Ping implements store.Store with one round trip on a pooled connection.
func (s *Store) Ping(ctx context.Context) error { return s.ping(ctx, "ping") }

func (s *Store) ping(ctx context.Context, op string) error {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	err := s.calls.do("Ping", func() error { return s.pool.Ping(ctx) })
	if errors.Is(err, context.DeadlineExceeded) {
		err = fmt.Errorf("no answer within %s: %w", s.timeout, err)
	}
	if err != nil {
		return wrap(ctx, op, "", err)
	}
	return nil
}

// Close implements store.Store; it closes the pool.
func (s *Store) Close() error {
	s.pool.Close()
	return nil
}

// transactWithLog is a lease write of its own that also reads the job's
// history log (with a share lock) in the same transaction, for the rules
// that depend on it (ClaimManual).
func (s *Store) transactWithLog(ctx context.Context, op, job string,
	apply func(cur store.Lease, exists bool, log store.RunLog) (store.Lease, error)) (store.Lease, error) {
	if err := checkName(op, job); err != nil {
		return store.Lease{}, err
	}
	ctx, cancel := s.bound(ctx)
	defer cancel()
	one := &leaseOp{job: job, apply: apply}
	if err := s.inTx(ctx, func(tx *txConn) error { return s.applyLeases(ctx, tx, []*leaseOp{one}, true) }); err != nil {
		return store.Lease{}, wrap(ctx, op, job, err)
	}
	return one.res, one.err
}

// ErrBadName is matched by the error of a call with a name (a job's, an
// election's, a member's) that PostgreSQL cannot store as text.
var ErrBadName = errors.New("want non-empty UTF-8 text without NUL")

// checkName refuses a name before it can fail a batch of other jobs' calls.
func checkName(op, name string) error {
	if name == "" || !utf8.ValidString(name) || strings.IndexByte(name, 0) >= 0 {
		return fmt.Errorf("postgres: %s: name %q: %w", op, name, ErrBadName)
	}
	return nil
}

// micros is t as PostgreSQL keeps it, to the microsecond.
func micros(t time.Time) time.Time { return t.Truncate(time.Microsecond) }

// wrap adds what was being done to err, and makes an error the call's
// deadline caused match context.DeadlineExceeded.
func wrap(ctx context.Context, op, job string, err error) error {
	what := op
	if job != "" {
		what += " " + job
	}
	if cerr := ctx.Err(); cerr != nil && !errors.Is(err, cerr) {
		err = &deadlineError{err: err, ctxErr: cerr}
	} else if cerr == nil && pgconn.Timeout(err) {
		err = &deadlineError{err: err, ctxErr: context.DeadlineExceeded}
	}
	return fmt.Errorf("postgres: %s: %w", what, err)
}

// deadlineError is an error that the call's context ending caused: it
// reads as the error and matches both it and the context's error.
type deadlineError struct{ err, ctxErr error }

func (e *deadlineError) Error() string   { return e.err.Error() }
func (e *deadlineError) Unwrap() []error { return []error{e.err, e.ctxErr} }
