// Package datastore is the lease store on Google Cloud Datastore (Firestore
// in Datastore mode), for a replicated service: every process that points at
// the same project, database, namespace and kind shares the leases.
//
// What it promises:
//
//   - Atomic claims. Claim, Renew and Release each run one Datastore
//     transaction: read the job's entity, apply the store package's rules
//     (store.ClaimRequest.Apply, store.RenewRequest.Apply, store.ReleaseRequest.Apply)
//     and write, so of any number of processes claiming the same tick exactly
//     one wins. A first claim writes with an insert mutation, which fails
//     rather than overwrites if another process created the entity first; that
//     case, like a transaction the server aborts for contention, is retried by
//     reading again, so the loser gets store.ErrTickTaken or store.ErrHeld.
//     When the rules refuse, the transaction is rolled back and the caller gets
//     the sentinel error together with the record as it stands.
//   - Cheap calls. Get is one non-transactional Lookup (strongly consistent,
//     as lookups by key are), shared with the Gets of other jobs made at the
//     same moment; concurrent Claims, and concurrent Renews, of distinct jobs
//     likewise share one transaction (up to 500 jobs, Datastore's limit of
//     mutations per Commit). Claim, Renew and Release are two RPCs each: the
//     Lookup that begins the transaction (no BeginTransaction call), then
//     Commit, or Rollback when the rules refuse. Contention costs more: the
//     client library retries an aborted transaction up to three times in all,
//     after which the error matches ErrContention. Calls counts the RPCs.
//   - Bounded calls. Every method returns within Config.Timeout (default 5s)
//     whatever the server does; the error then matches
//     context.DeadlineExceeded.
//   - Clear errors. Errors other than the store sentinels name the operation
//     and the job ("datastore: claim go_preacher: rpc error: ..."). An entity
//     whose properties have the wrong types gives an error matching
//     ErrBadEntity that names the property, and is never overwritten.
//
// What it does not promise: a call that timed out or failed at Commit may
// still have been applied (the next Get tells); leases are never deleted; the
// store judges no time (whether a lease has lapsed is the caller's judgement,
// see package store); and it creates no database: a named Config.Database must
// exist. Job names are Datastore key names, so they must be valid as such
// (non-empty, at most 1500 bytes, not of the reserved form __*__).
//
// # Entity
//
// One entity per job, of kind Config.Kind (default "Lease") in
// Config.Namespace, with the job's name as the key name. Properties:
//
//	Holder   string     indexed
//	Node     string     indexed
//	Term     integer    not indexed
//	Tick     timestamp  indexed
//	TTLNanos integer    not indexed; Lease.TTL in nanoseconds, exact
//	Expires  timestamp  indexed; zero time (0001-01-01) when not held
//	Version  integer    not indexed
//	Paused   boolean    indexed; the operator's pause (store.Control)
//
// Datastore keeps timestamps to the microsecond, so Tick and Expires are read
// back truncated to microseconds, and Claim and Renew return them so too.
// Properties this package does not know are kept and written back unchanged;
// a missing property reads as zero.
//
// The run history (store.History) lives in kinds of its own, "RunLog" and
// "Run" by default (Config.HistoryKind), so that followers' reads of leases
// do not grow; history.go describes them. An append costs a Lookup and a
// Commit, shared by the appends of every job made at the same moment; Runs
// is one Lookup. Of store.Control, SetPaused and ClaimManual are one
// transaction each (Lookup and Commit); ClaimManual's Lookup reads the
// job's history log with its lease.
package datastore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"cloud.google.com/go/datastore"
	"google.golang.org/api/option"
	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	"go-leader-election/store"
	"go-leader-election/store/internal/coalesce"
)

// Defaults for Config.
const (
	DefaultKind    = "Lease"
	DefaultTimeout = 5 * time.Second
)

// pingName is the key name Ping looks up. Its entity need not exist.
const pingName = "(ping)"

// ErrContention is matched (errors.Is) by the error of a Claim, Renew or
// Release whose transaction the server kept aborting because of concurrent
// transactions on the same job, after the client library's retries.
var ErrContention = errors.New("transaction contention")

// Config says where the leases live. Only Project is needed.
type Config struct {
	// Project is the Google Cloud project. Required.
	Project string
	// Database is a named database; "" is the default database.
	Database string
	// Namespace is the Datastore namespace; "" is the default namespace.
	Namespace string
	// Kind is the entities' kind; "" means DefaultKind ("Lease").
	Kind string
	// MemberKind is the member records' kind; "" means DefaultMemberKind
	// ("Member").
	MemberKind string
	// HistoryKind is the kind of the run history's records, and, with "Log"
	// appended, of each job's history log (history.go); "" means
	// DefaultHistoryKind ("Run").
	HistoryKind string
	// HistoryLimit is how many runs per job the history keeps: 0 means
	// store.DefaultHistoryLimit (50); at most store.MaxHistoryLimit.
	HistoryLimit int
	// Timeout bounds each store call (Get, Claim, Renew, Release, Ping),
	// retries included; 0 means DefaultTimeout (5s).
	Timeout time.Duration
	// EmulatorHost, if set, is the host:port of an emulator, dialled
	// without credentials or TLS.
	EmulatorHost string
	// ClientOptions are passed to the client after the package's own. When
	// $DATASTORE_EMULATOR_HOST is set the client library dials that emulator
	// without credentials. An option.WithGRPCConn bypasses the RPC counter.
	ClientOptions []option.ClientOption
}

// Store is a store.Store on Datastore. Create it with New; it is safe for
// concurrent use.
type Store struct {
	client    *datastore.Client
	calls     *Calls
	kind      string
	namespace string
	// memberKind and members serve store.Members (members.go).
	memberKind string
	members    memberVersions
	clock      clockSamples
	timeout    time.Duration
	// gets, claims and renews coalesce concurrent calls into multi-key RPCs.
	gets   *coalesce.Coalescer[string, store.Lease]
	claims *coalesce.Coalescer[store.ClaimRequest, store.Lease]
	renews *coalesce.Coalescer[store.RenewRequest, store.Lease]
	// history: kinds, limit, and the coalescer of appends (history.go).
	historyKind, logKind string
	historyLimit         int
	appends              *coalesce.Coalescer[store.RunRecord, struct{}]
}

var (
	_ store.Store   = (*Store)(nil)
	_ store.History = (*Store)(nil)
	_ store.Control = (*Store)(nil)
)

// New builds the Datastore client, with the RPC counter (see Calls)
// installed. It does not contact the server; call Ping for that.
func New(ctx context.Context, cfg Config) (*Store, error) {
	// The package reads no environment: the daemon's backend (backend.go)
	// reads DATASTORE_PROJECT_ID and GOOGLE_CLOUD_PROJECT into Config.
	project := cfg.Project
	if project == "" {
		return nil, errors.New("datastore: no project: set Config.Project")
	}
	if cfg.Timeout < 0 {
		return nil, fmt.Errorf("datastore: negative timeout %v", cfg.Timeout)
	}
	s := &Store{
		calls:     newCalls(),
		kind:      cfg.Kind,
		namespace: cfg.Namespace,
		timeout:   cfg.Timeout,
	}
	s.gets = &coalesce.Coalescer[string, store.Lease]{Max: maxLookupKeys, Par: batchesInFlight, Key: func(job string) string { return job }, Do: s.getBatch}
	s.claims = &coalesce.Coalescer[store.ClaimRequest, store.Lease]{Max: maxMutations, Par: batchesInFlight,
		Key: func(r store.ClaimRequest) string { return r.Job }, Do: s.claimBatch}
	s.renews = &coalesce.Coalescer[store.RenewRequest, store.Lease]{Max: maxMutations, Par: batchesInFlight,
		Key: func(r store.RenewRequest) string { return r.Job }, Do: s.renewBatch}
	if s.kind == "" {
		s.kind = DefaultKind
	}
	s.memberKind = cfg.MemberKind
	if s.memberKind == "" {
		s.memberKind = DefaultMemberKind
	}
	s.members.v = map[string]int64{}
	s.calls.clock = &s.clock
	if err := s.initHistory(cfg); err != nil {
		return nil, err
	}
	if s.timeout == 0 {
		s.timeout = DefaultTimeout
	}
	opts := append([]option.ClientOption{
		option.WithGRPCDialOption(grpc.WithChainUnaryInterceptor(s.calls.interceptor)),
		// The client's default OpenTelemetry instrumentation costs about a
		// tenth of a claim's time and allocations (BenchmarkDatastoreClaim);
		// the RPC counter above is what feeds our metrics.
		option.WithTelemetryDisabled(),
		// A store that was down comes back within seconds, not after gRPC's
		// default reconnect backoff of up to two minutes.
		option.WithGRPCDialOption(grpc.WithConnectParams(grpc.ConnectParams{
			Backoff:           backoff.Config{BaseDelay: 250 * time.Millisecond, Multiplier: 1.6, Jitter: 0.2, MaxDelay: 5 * time.Second},
			MinConnectTimeout: 5 * time.Second,
		})),
	}, cfg.ClientOptions...)
	if cfg.EmulatorHost != "" {
		opts = append(opts, option.WithEndpoint(cfg.EmulatorHost), option.WithoutAuthentication(),
			option.WithGRPCDialOption(grpc.WithTransportCredentials(insecure.NewCredentials())))
	}
	client, err := datastore.NewClientWithDatabase(ctx, project, cfg.Database, opts...)
	if err != nil {
		return nil, fmt.Errorf("datastore: new client for project %s: %w", project, err)
	}
	s.client = client
	return s, nil
}

// bound limits ctx to the store's timeout, unless its deadline is as near
// already: a timer per call is measurable when a thousand jobs tick at once.
func (s *Store) bound(ctx context.Context) (context.Context, context.CancelFunc) {
	if d, ok := ctx.Deadline(); ok && time.Until(d) <= s.timeout {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, s.timeout)
}

// Calls returns the counter of the RPCs this store's client makes.
func (s *Store) Calls() *Calls { return s.calls }

func (s *Store) key(job string) *datastore.Key {
	k := datastore.NameKey(s.kind, job, nil)
	k.Namespace = s.namespace
	return k
}

// Get implements store.Store with one Lookup, shared with the reads of
// other jobs made at the same moment.
func (s *Store) Get(ctx context.Context, job string) (store.Lease, error) {
	if job == "" {
		return store.Lease{}, errors.New("datastore: get: empty job name")
	}
	ctx, cancel := s.bound(ctx)
	defer cancel()
	l, err := s.gets.Submit(ctx, job)
	if err != nil && err == ctx.Err() { // gave up waiting for its batch
		return store.Lease{}, wrap(ctx, "get", job, err)
	}
	return l, err
}

// Claim implements store.Store in one transaction, shared with the claims
// of other jobs made at the same moment.
func (s *Store) Claim(ctx context.Context, req store.ClaimRequest) (store.Lease, error) {
	if req.Job == "" {
		return store.Lease{}, errors.New("datastore: claim: empty job name")
	}
	ctx, cancel := s.bound(ctx)
	defer cancel()
	l, err := s.claims.Submit(ctx, req)
	if err != nil && err == ctx.Err() { // gave up waiting for its batch
		return store.Lease{}, wrap(ctx, "claim", req.Job, err)
	}
	return l, err
}

// Renew implements store.Store in one transaction, shared with the
// renewals of other jobs made at the same moment.
func (s *Store) Renew(ctx context.Context, req store.RenewRequest) (store.Lease, error) {
	if req.Job == "" {
		return store.Lease{}, errors.New("datastore: renew: empty job name")
	}
	ctx, cancel := s.bound(ctx)
	defer cancel()
	l, err := s.renews.Submit(ctx, req)
	if err != nil && err == ctx.Err() { // gave up waiting for its batch
		return store.Lease{}, wrap(ctx, "renew", req.Job, err)
	}
	return l, err
}

// Release implements store.Store in one transaction.
func (s *Store) Release(ctx context.Context, req store.ReleaseRequest) error {
	_, err := s.update(ctx, "release", req.Job, req.Apply)
	return err
}

// Ping implements store.Store with one Lookup of a key that need not exist.
func (s *Store) Ping(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	var pl datastore.PropertyList
	err := s.client.Get(ctx, s.key(pingName), &pl)
	if err != nil && !errors.Is(err, datastore.ErrNoSuchEntity) {
		return wrap(ctx, "ping", "", err)
	}
	return nil
}

// Close implements store.Store; it closes the client.
func (s *Store) Close() error { return s.client.Close() }

// outcome is what a transaction attempt hands back to the caller.
type outcome struct {
	lease store.Lease
	err   error
}

// update runs read-apply-write on job's entity in a transaction begun by its
// Lookup (BeginLater), so that it costs a Lookup and a Commit (or Rollback).
func (s *Store) update(ctx context.Context, op, job string, apply func(cur store.Lease, exists bool) (store.Lease, error)) (store.Lease, error) {
	return s.transact(ctx, op, job, false, func(cur store.Lease, exists bool, _ store.RunLog) (store.Lease, error) {
		return apply(cur, exists)
	})
}

// transact is update that, withLog, also reads the job's history log in the
// same Lookup, for rules that depend on it (ClaimManual).
func (s *Store) transact(ctx context.Context, op, job string, withLog bool,
	apply func(cur store.Lease, exists bool, log store.RunLog) (store.Lease, error)) (store.Lease, error) {
	if job == "" {
		return store.Lease{}, fmt.Errorf("datastore: %s: empty job name", op)
	}
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	// The transaction runs in its own goroutine because the client library
	// rolls back a failed transaction under a context of its own (up to 5s,
	// not ours): the caller must not wait for that. Results travel only
	// through done.
	done := make(chan outcome, 1)
	go func() { done <- s.runUpdate(ctx, job, withLog, apply) }()
	return answer(ctx, op, job, awaitOutcome(ctx, done))
}

// runUpdate runs the read-apply-write transaction on job's entity, at most
// twice: an insert that lost the race to create the entity is retried
// once, which reads the winner's record.
func (s *Store) runUpdate(ctx context.Context, job string, withLog bool,
	apply func(cur store.Lease, exists bool, log store.RunLog) (store.Lease, error)) outcome {
	var out outcome
	body := s.updateBody(job, withLog, apply, &out)
	for attempt := 0; ; attempt++ {
		_, err := s.client.RunInTransaction(ctx, body, datastore.BeginLater)
		if err != nil && !store.IsRefusal(err) {
			out = outcome{err: err} // not the rules' answer in out
		}
		if err == nil || status.Code(err) != codes.AlreadyExists || attempt == 1 || ctx.Err() != nil {
			return out
		}
	}
}

// updateBody returns the transaction's body: read the entity (withLog, and
// the job's history log), apply the rules, and write what they return
// unless they refuse. Each attempt leaves its outcome in *out.
func (s *Store) updateBody(job string, withLog bool,
	apply func(cur store.Lease, exists bool, log store.RunLog) (store.Lease, error), out *outcome) func(tx *datastore.Transaction) error {
	key := s.key(job)
	return func(tx *datastore.Transaction) error {
		var e entity
		var log store.RunLog
		var err error
		if withLog {
			err = s.getWithLog(tx, key, job, &e, &log)
		} else {
			err = tx.Get(key, &e)
		}
		exists := err == nil
		if err != nil && !errors.Is(err, datastore.ErrNoSuchEntity) {
			*out = outcome{err: err}
			return err
		}
		e.lease.Job = job
		next, err := apply(e.lease, exists, log)
		if err != nil { // the rules refuse: roll back, report the record
			*out = outcome{lease: next, err: err}
			return err
		}
		write := &entity{lease: next, extra: e.extra}
		if exists {
			_, err = tx.Put(key, write)
		} else {
			// An insert fails with AlreadyExists, never overwrites, should
			// another process have created the entity meanwhile.
			_, err = tx.Mutate(datastore.NewInsert(key, write))
		}
		*out = outcome{lease: next, err: err}
		return err
	}
}

// awaitOutcome waits for the transaction's outcome until ctx ends; an
// outcome ready by then still wins.
func awaitOutcome(ctx context.Context, done <-chan outcome) outcome {
	select {
	case out := <-done:
		return out
	case <-ctx.Done():
		select {
		case out := <-done:
			return out
		default:
			return outcome{err: ctx.Err()}
		}
	}
}

// answer is transact's answer from the transaction's outcome: the record
// as stored, the rules' refusal with the record, or an error naming op and
// job.
func answer(ctx context.Context, op, job string, out outcome) (store.Lease, error) {
	switch err := out.err; {
	case err == nil:
		// Return the record as stored: Datastore keeps microseconds.
		out.lease.Tick = out.lease.Tick.Truncate(time.Microsecond)
		out.lease.Expires = out.lease.Expires.Truncate(time.Microsecond)
		return out.lease, nil
	case store.IsRefusal(err):
		return out.lease, err
	case errors.Is(err, datastore.ErrConcurrentTransaction), status.Code(err) == codes.Aborted:
		return store.Lease{}, fmt.Errorf("datastore: %s %s: %w, gave up after the client's retries: %w", op, job, ErrContention, err)
	default:
		return store.Lease{}, wrap(ctx, op, job, err)
	}
}

// wrap adds what was being done to err, and makes an error caused by the
// call's deadline match context.DeadlineExceeded (a gRPC DeadlineExceeded
// status does not by itself).
func wrap(ctx context.Context, op, job string, err error) error {
	what := op
	if job != "" {
		what += " " + job
	}
	cerr := ctx.Err()
	if cerr == nil && status.Code(err) == codes.DeadlineExceeded {
		// The server gave up first, on the deadline the call sent it.
		cerr = context.DeadlineExceeded
	}
	if cerr != nil && !errors.Is(err, cerr) {
		err = &deadlineError{err: err, ctxErr: cerr}
	}
	return fmt.Errorf("datastore: %s: %w", what, err)
}

// deadlineError is an RPC's error that the call's context ending caused: it
// reads as the RPC's error and matches both it and the context's error.
type deadlineError struct{ err, ctxErr error }

func (e *deadlineError) Error() string   { return e.err.Error() }
func (e *deadlineError) Unwrap() []error { return []error{e.err, e.ctxErr} }
