package datastore

import (
	"context"
	"errors"
	"sync"
	"time"

	"cloud.google.com/go/datastore"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"go-leader-election/store"
)

// Datastore's limits: keys per Lookup, mutations per Commit.
const (
	maxLookupKeys = 1000
	maxMutations  = 500
)

// batchesInFlight bounds the batches of one kind of call in flight at once,
// under load (coalescer.par).
const batchesInFlight = 4

// getBatch reads a batch of leases with one Lookup.
func (s *Store) getBatch(batch []*call[string, store.Lease]) {
	ctx, cancel := context.WithTimeout(context.Background(), s.timeout)
	defer cancel()
	keys := make([]*datastore.Key, len(batch))
	for i, cl := range batch {
		keys[i] = s.key(cl.req)
	}
	ents := make([]entity, len(batch))
	err := s.client.GetMulti(ctx, keys, ents)
	var perKey datastore.MultiError
	errors.As(err, &perKey)
	for i, cl := range batch {
		e := err
		if perKey != nil {
			e = perKey[i]
		}
		switch {
		case e == nil:
			ents[i].lease.Job = cl.req
			cl.res = ents[i].lease
		case errors.Is(e, datastore.ErrNoSuchEntity):
			cl.err = store.ErrNotFound
		default:
			cl.err = wrap(ctx, "get", cl.req, e)
		}
	}
}

// claimBatch claims a batch of jobs in one transaction (writeBatch).
func (s *Store) claimBatch(batch []*call[store.ClaimRequest, store.Lease]) {
	writeBatch(s, "claim", batch, func(r store.ClaimRequest) string { return r.Job }, store.ClaimRequest.Apply)
}

// renewBatch renews a batch of jobs in one transaction (writeBatch): the
// renewals of many sessions' keepalives, in the lease service.
func (s *Store) renewBatch(batch []*call[store.RenewRequest, store.Lease]) {
	writeBatch(s, "renew", batch, func(r store.RenewRequest) string { return r.Job }, store.RenewRequest.Apply)
}

// writeBatch applies a batch of writes, each of a job of its own, in one
// transaction: one Lookup of every key, then one Commit of the writes the
// rules accept (at most maxMutations: the coalescer's batch limit). Each
// write is judged on the record as the transaction read it, exactly as a
// lone one is; the refused ones are simply left out of the commit. A lone
// write takes the ordinary path.
func writeBatch[Req any](s *Store, op string, batch []*call[Req, store.Lease], job func(Req) string,
	apply func(Req, store.Lease, bool) (store.Lease, error)) {
	alone := func(cl *call[Req, store.Lease]) {
		cl.res, cl.err = s.update(context.Background(), op, job(cl.req), func(cur store.Lease, exists bool) (store.Lease, error) {
			return apply(cl.req, cur, exists)
		})
	}
	if len(batch) == 1 {
		alone(batch[0])
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), s.timeout)
	defer cancel()
	keys := make([]*datastore.Key, len(batch))
	for i, cl := range batch {
		keys[i] = s.key(job(cl.req))
	}
	results := make([]outcome, len(batch))
	body := func(tx *datastore.Transaction) error {
		ents := make([]entity, len(batch))
		err := tx.GetMulti(keys, ents)
		var perKey datastore.MultiError
		if err != nil && !errors.As(err, &perKey) {
			return err
		}
		var muts []*datastore.Mutation
		for i, cl := range batch {
			var kerr error
			if perKey != nil {
				kerr = perKey[i]
			}
			exists := kerr == nil
			if kerr != nil && !errors.Is(kerr, datastore.ErrNoSuchEntity) {
				results[i] = outcome{err: wrap(ctx, op, job(cl.req), kerr)}
				continue
			}
			ents[i].lease.Job = job(cl.req)
			next, err := apply(cl.req, ents[i].lease, exists)
			results[i] = outcome{lease: next, err: err}
			if err != nil {
				continue
			}
			w := &entity{lease: next, extra: ents[i].extra}
			if exists {
				muts = append(muts, datastore.NewUpsert(keys[i], w))
			} else {
				muts = append(muts, datastore.NewInsert(keys[i], w)) // never overwrites a racing creation
			}
		}
		if len(muts) == 0 {
			return nil
		}
		_, err = tx.Mutate(muts...)
		return err
	}
	_, err := s.client.RunInTransaction(ctx, body, datastore.BeginLater)
	switch {
	case err == nil:
		for i, cl := range batch {
			cl.res, cl.err = results[i].lease, results[i].err
			if cl.err == nil {
				cl.res.Tick = cl.res.Tick.Truncate(time.Microsecond)
				cl.res.Expires = cl.res.Expires.Truncate(time.Microsecond)
			}
		}
	case errors.Is(err, datastore.ErrConcurrentTransaction) || status.Code(err) == codes.Aborted ||
		status.Code(err) == codes.AlreadyExists:
		// Contention on one job, or a creation race, sinks the whole batch:
		// each write tries again on its own.
		var wg sync.WaitGroup
		for _, cl := range batch {
			wg.Go(func() { alone(cl) })
		}
		wg.Wait()
	default:
		for _, cl := range batch {
			cl.err = wrap(ctx, op, job(cl.req), err)
		}
	}
}
