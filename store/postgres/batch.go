package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"go-leader-election/store"
	"go-leader-election/store/internal/coalesce"
)

// maxBatch is the most jobs one statement reads or writes.
const maxBatch = 500

// Every lease write, alone or for many jobs, is one transaction of two
// round trips:
//
//  1. BEGIN; the rows' creation where missing (INSERT ... ON CONFLICT DO
//     NOTHING, so that concurrent first claims queue on the new row's lock
//     like any other); their read with a row lock (SELECT ... FOR UPDATE),
//     in key order, so that two transactions over many jobs never wait for
//     each other in a cycle.
//  2. The rules applied in Go to each row as read; one UPDATE of the rows
//     they accept, and COMMIT; or ROLLBACK when they accept none.
//
// The calls made at the same moment (a node's claims at a shared tick, its
// followers' reads, its run records) go together, up to maxBatch jobs.

func (s *Store) initBatches() {
	s.gets = &coalesce.Coalescer[string, store.Lease]{Max: maxBatch, Key: func(job string) string { return job }, Do: s.getBatch}
	s.writes = &coalesce.Coalescer[*leaseOp, struct{}]{Max: maxBatch,
		Key: func(op *leaseOp) string { return op.job }, Do: s.writeBatch}
	s.appends = &coalesce.Coalescer[store.RunRecord, struct{}]{Max: maxBatch,
		Key: func(r store.RunRecord) string { return r.Job }, Do: s.appendBatch}
}

// leaseOp is one job's part of a lease transaction: the rules to apply, and
// what they gave (a refusal in err, with the record as it stands).
type leaseOp struct {
	job   string
	apply func(cur store.Lease, exists bool, log store.RunLog) (store.Lease, error)
	res   store.Lease
	err   error
}

// write submits a lease write of job, by the rules apply, to be made in one
// transaction with the writes of other jobs made at the same moment.
func (s *Store) write(ctx context.Context, op, job string, apply func(cur store.Lease, exists bool) (store.Lease, error)) (store.Lease, error) {
	if err := checkName(op, job); err != nil {
		return store.Lease{}, err
	}
	ctx, cancel := s.bound(ctx)
	defer cancel()
	one := &leaseOp{job: job, apply: func(cur store.Lease, exists bool, _ store.RunLog) (store.Lease, error) { return apply(cur, exists) }}
	if _, err := s.writes.Submit(ctx, one); err != nil {
		return store.Lease{}, wrap(ctx, op, job, err)
	}
	return one.res, one.err
}

// applyLeases runs ops, of distinct jobs, in one transaction on tx. Its
// error is the transaction's (nothing applied; or, matching
// ErrOutcomeUnknown, perhaps everything); each op's refusal is in op.err.
// withLog (a single op) also reads the job's history log, share-locked.
func (s *Store) applyLeases(ctx context.Context, tx *txConn, ops []*leaseOp, withLog bool) error {
	jobs := make([]string, len(ops))
	for i, op := range ops {
		jobs[i] = op.job
	}
	cur, created, log, err := s.lockLeases(ctx, tx, jobs, withLog)
	if err != nil {
		return err
	}
	var accepted []store.Lease
	for _, op := range ops {
		rec, ok := cur[op.job]
		if !ok {
			return fmt.Errorf("the row of %s is missing after its creation", op.job)
		}
		rec.Job = op.job
		op.res, op.err = op.apply(rec, !created[op.job], log)
		if op.err == nil {
			op.res.Tick, op.res.Expires = micros(op.res.Tick), micros(op.res.Expires)
			accepted = append(accepted, op.res)
		}
	}
	if len(accepted) == 0 {
		tx.rollback(ctx)
		return nil
	}
	return tx.commit(ctx, s.writeLeases(accepted))
}

// lockLeases is a transaction's first round trip over jobs' rows.
func (s *Store) lockLeases(ctx context.Context, tx *txConn, jobs []string, withLog bool) (cur map[string]store.Lease, created map[string]bool, log store.RunLog, err error) {
	b := &pgx.Batch{}
	b.Queue("BEGIN")
	b.Queue(s.leases.createMany, s.keyArgs(jobs)...)
	b.Queue(s.leases.lockMany, s.keyArgs(jobs)...)
	if withLog {
		b.Queue(s.sql.shareLog, jobs[0])
	}
	cur, created = make(map[string]store.Lease, len(jobs)), map[string]bool{}
	err = tx.send(ctx, "Lock", b, func(br pgx.BatchResults) error {
		if _, err := br.Exec(); err != nil {
			return err
		}
		if err := eachRow(br, func(row pgx.Rows) error {
			var job string
			err := row.Scan(&job)
			created[job] = true
			return err
		}); err != nil {
			return err
		}
		if err := eachRow(br, func(row pgx.Rows) error {
			job, l, err := scanNamedLease(row)
			cur[job] = l
			return err
		}); err != nil {
			return err
		}
		if withLog {
			if log, err = scanLog(br.QueryRow()); errors.Is(err, pgx.ErrNoRows) {
				return nil // no history yet
			}
		}
		return err
	})
	return cur, created, log, err
}

// eachRow reads the next result of br, row by row.
func eachRow(br pgx.BatchResults, fn func(pgx.Rows) error) error {
	rows, err := br.Query()
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := fn(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

// writeLeases is the UPDATE of recs' rows, for a commit.
func (s *Store) writeLeases(recs []store.Lease) write {
	n := len(recs)
	jobs, holders, nodes := make([]string, n), make([]string, n), make([]string, n)
	terms, ttls, versions := make([]int64, n), make([]int64, n), make([]int64, n)
	ticks, expires := make([]*time.Time, n), make([]*time.Time, n)
	paused := make([]bool, n)
	for i, l := range recs {
		jobs[i], holders[i], nodes[i] = l.Job, l.Holder, l.Node
		terms[i], ttls[i], versions[i] = l.Term, int64(l.TTL), l.Version
		ticks[i], expires[i], paused[i] = nullTime(l.Tick), nullTime(l.Expires), l.Paused
	}
	return write{sql: s.leases.writeMany, rows: int64(n),
		args: s.keyArgs(jobs, holders, nodes, terms, ticks, ttls, expires, versions, paused)}
}

// getBatch reads a batch of leases with one query.
func (s *Store) getBatch(batch []*coalesce.Call[string, store.Lease]) {
	ctx, cancel := context.WithTimeout(context.Background(), s.timeout)
	defer cancel()
	jobs := make([]string, len(batch))
	for i, cl := range batch {
		jobs[i] = cl.Req
	}
	found := make(map[string]store.Lease, len(batch))
	err := s.read(ctx, "Get", func() error {
		rows, err := s.pool.Query(ctx, s.leases.getMany, s.keyArgs(jobs)...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			job, l, err := scanNamedLease(rows)
			if err != nil {
				return err
			}
			l.Job = job
			found[job] = l
		}
		return rows.Err()
	})
	for _, cl := range batch {
		l, ok := found[cl.Req]
		switch {
		case err != nil:
			cl.Err = wrap(ctx, "get", cl.Req, err)
		case !ok:
			cl.Err = store.ErrNotFound
		default:
			cl.Res = l
		}
	}
}

// writeBatch makes a batch of lease writes (claims, renewals, releases,
// pauses) in one transaction, each judged on its row as the transaction
// read it, as a lone write is; the refused ones are left out of the UPDATE.
// Should the transaction fail for contention (a deadlock the server broke,
// a serialization failure), each write is tried again on its own.
func (s *Store) writeBatch(batch []*coalesce.Call[*leaseOp, struct{}]) {
	ctx, cancel := context.WithTimeout(context.Background(), s.timeout)
	defer cancel()
	ops := make([]*leaseOp, len(batch))
	for i, cl := range batch {
		ops[i] = cl.Req
	}
	err := s.inTx(ctx, func(tx *txConn) error { return s.applyLeases(ctx, tx, ops, false) })
	var pgErr *pgconn.PgError
	switch {
	case err == nil:
	case len(batch) > 1 && errors.As(err, &pgErr) && strings.HasPrefix(pgErr.Code, "40"):
		var wg sync.WaitGroup
		for _, cl := range batch {
			wg.Go(func() {
				cl.Err = s.inTx(ctx, func(tx *txConn) error { return s.applyLeases(ctx, tx, []*leaseOp{cl.Req}, false) })
			})
		}
		wg.Wait()
	default:
		for _, cl := range batch {
			cl.Err = err
		}
	}
}
