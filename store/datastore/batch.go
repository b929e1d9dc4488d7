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
	"go-leader-election/store/internal/coalesce"
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
func (s *Store) getBatch(batch []*coalesce.Call[string, store.Lease]) {
	ctx, cancel := context.WithTimeout(context.Background(), s.timeout)
	defer cancel()
	keys := make([]*datastore.Key, len(batch))
	for i, cl := range batch {
		keys[i] = s.key(cl.Req)
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
			ents[i].lease.Job = cl.Req
			cl.Res = ents[i].lease
		case errors.Is(e, datastore.ErrNoSuchEntity):
			cl.Err = store.ErrNotFound
		default:
			cl.Err = wrap(ctx, "get", cl.Req, e)
		}
	}
}

// claimBatch claims a batch of jobs in one transaction (writeBatch).
func (s *Store) claimBatch(batch []*coalesce.Call[store.ClaimRequest, store.Lease]) {
	writeBatch(s, "claim", batch, func(r store.ClaimRequest) string { return r.Job }, store.ClaimRequest.Apply)
}

// renewBatch renews a batch of jobs in one transaction (writeBatch): the
// renewals of many sessions' keepalives, in the lease service.
func (s *Store) renewBatch(batch []*coalesce.Call[store.RenewRequest, store.Lease]) {
	writeBatch(s, "renew", batch, func(r store.RenewRequest) string { return r.Job }, store.RenewRequest.Apply)
}

// writeBatch applies a batch of writes, each of a job of its own, in one
// transaction: one Lookup of every key, then one Commit of the writes the
// rules accept (at most maxMutations: the coalescer's batch limit). Each
// write is judged on the record as the transaction read it, exactly as a
// lone one is; the refused ones are simply left out of the commit. A lone
// write takes the ordinary path.
func writeBatch[Req any](s *Store, op string, batch []*coalesce.Call[Req, store.Lease], job func(Req) string,
	apply func(Req, store.Lease, bool) (store.Lease, error)) {
	alone := func(cl *coalesce.Call[Req, store.Lease]) {
		cl.Res, cl.Err = s.update(context.Background(), op, job(cl.Req), func(cur store.Lease, exists bool) (store.Lease, error) {
			return apply(cl.Req, cur, exists)
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
		keys[i] = s.key(job(cl.Req))
	}
	results := make([]outcome, len(batch))
	err := readThenWrite(ctx, s.client, keys, func(ents []entity, keyErr func(int) error) ([]*datastore.Mutation, error) {
		var muts []*datastore.Mutation
		for i, cl := range batch {
			kerr := keyErr(i)
			exists := kerr == nil
			if kerr != nil && !errors.Is(kerr, datastore.ErrNoSuchEntity) {
				results[i] = outcome{err: wrap(ctx, op, job(cl.Req), kerr)}
				continue
			}
			ents[i].lease.Job = job(cl.Req)
			next, err := apply(cl.Req, ents[i].lease, exists)
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
		return muts, nil
	})
	switch {
	case err == nil:
		for i, cl := range batch {
			cl.Res, cl.Err = results[i].lease, results[i].err
			if cl.Err == nil {
				cl.Res.Tick = cl.Res.Tick.Truncate(time.Microsecond)
				cl.Res.Expires = cl.Res.Expires.Truncate(time.Microsecond)
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
			cl.Err = wrap(ctx, op, job(cl.Req), err)
		}
	}
}

// readThenWrite runs one transaction, begun by its Lookup (BeginLater): it
// reads keys into a fresh []E, one per key, then commits the mutations
// write returns from what it read, if any. keyErr(i) is the error of
// reading keys[i]: nil when read, datastore.ErrNoSuchEntity when absent. An
// error of the read as a whole, or from write, rolls the transaction back.
func readThenWrite[E any](ctx context.Context, client *datastore.Client, keys []*datastore.Key,
	write func(ents []E, keyErr func(i int) error) ([]*datastore.Mutation, error)) error {
	_, err := client.RunInTransaction(ctx, func(tx *datastore.Transaction) error {
		ents := make([]E, len(keys)) // fresh at each attempt of the client's
		err := tx.GetMulti(keys, ents)
		var perKey datastore.MultiError
		if err != nil && !errors.As(err, &perKey) {
			return err
		}
		muts, err := write(ents, func(i int) error {
			if perKey == nil {
				return nil
			}
			return perKey[i]
		})
		if err != nil || len(muts) == 0 {
			return err
		}
		_, err = tx.Mutate(muts...)
		return err
	}, datastore.BeginLater)
	return err
}
