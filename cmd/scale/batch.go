package main

import (
	"context"
	"errors"
	"sync/atomic"
	"time"

	"cloud.google.com/go/datastore"
	"google.golang.org/api/option"
	"google.golang.org/grpc"

	"go-leader-election/store"
	sds "go-leader-election/store/datastore"
)

// This file is an experiment, enabled by -batch-gets, that measures a change
// proposed for package store/datastore: coalescing the plain reads (Get) that
// the schedulers of one node make at about the same time — every follower
// reads its job's lease FollowerDelay after each tick — into one multi-key
// Lookup. It is not how the daemon works.

// batchWindow is how long a batch waits for more reads after its first.
const batchWindow = 2 * time.Millisecond

// maxBatch is Datastore's limit of keys per Lookup.
const maxBatch = 1000

// batchedStore is a node's Store whose Get goes through a batcher.
type batchedStore struct {
	*sds.Store
	b *batcher
}

var _ store.Store = batchedStore{}

func (s batchedStore) Get(ctx context.Context, job string) (store.Lease, error) {
	return s.b.get(ctx, job)
}

func (s batchedStore) Close() error {
	s.b.close()
	return s.Store.Close()
}

type getReq struct {
	job  string
	resp chan getResp
}

type getResp struct {
	l   store.Lease
	err error
}

// batcher turns concurrent Gets into multi-key Lookups on its own client.
type batcher struct {
	client    *datastore.Client
	namespace string
	reqs      chan getReq
	done      chan struct{}
	rpcs      atomic.Int64 // Lookups made
	timeout   time.Duration
}

func newBatcher(ctx context.Context, host, namespace string, timeout time.Duration) (*batcher, error) {
	b := &batcher{namespace: namespace, reqs: make(chan getReq), done: make(chan struct{}), timeout: timeout}
	count := func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
		b.rpcs.Add(1)
		return invoker(ctx, method, req, reply, cc, opts...)
	}
	opts := append(clientOptions(host), option.WithGRPCDialOption(grpc.WithChainUnaryInterceptor(count)))
	c, err := datastore.NewClient(ctx, project, opts...)
	if err != nil {
		return nil, err
	}
	b.client = c
	go b.loop()
	return b, nil
}

func (b *batcher) close() {
	close(b.done)
	_ = b.client.Close()
}

func (b *batcher) get(ctx context.Context, job string) (store.Lease, error) {
	r := getReq{job: job, resp: make(chan getResp, 1)}
	select {
	case b.reqs <- r:
	case <-ctx.Done():
		return store.Lease{}, ctx.Err()
	}
	select {
	case out := <-r.resp:
		return out.l, out.err
	case <-ctx.Done():
		return store.Lease{}, ctx.Err()
	}
}

func (b *batcher) loop() {
	for {
		var batch []getReq
		select {
		case r := <-b.reqs:
			batch = append(batch, r)
		case <-b.done:
			return
		}
		timer := time.NewTimer(batchWindow)
	collect:
		for len(batch) < maxBatch {
			select {
			case r := <-b.reqs:
				batch = append(batch, r)
			case <-timer.C:
				break collect
			}
		}
		timer.Stop()
		go b.flush(batch)
	}
}

// flush reads the batch's records in one Lookup.
func (b *batcher) flush(batch []getReq) {
	ctx, cancel := context.WithTimeout(context.Background(), b.timeout)
	defer cancel()
	keys := make([]*datastore.Key, len(batch))
	for i, r := range batch {
		keys[i] = datastore.NameKey(sds.DefaultKind, r.job, nil)
		keys[i].Namespace = b.namespace
	}
	dst := make([]datastore.PropertyList, len(batch))
	err := b.client.GetMulti(ctx, keys, dst)
	var multi datastore.MultiError
	if !errors.As(err, &multi) {
		multi = nil
	}
	for i, r := range batch {
		var out getResp
		switch {
		case multi != nil && errors.Is(multi[i], datastore.ErrNoSuchEntity):
			out.err = store.ErrNotFound
		case multi != nil && multi[i] != nil:
			out.err = multi[i]
		case multi == nil && err != nil:
			out.err = err
		default:
			out.l = decodeLease(r.job, dst[i])
		}
		r.resp <- out
	}
}

// decodeLease reads a lease entity's properties as package store/datastore
// stores them (see its package doc), without its type checks.
func decodeLease(job string, props datastore.PropertyList) store.Lease {
	l := store.Lease{Job: job}
	for _, p := range props {
		switch v := p.Value.(type) {
		case string:
			switch p.Name {
			case "Holder":
				l.Holder = v
			case "Node":
				l.Node = v
			}
		case int64:
			switch p.Name {
			case "Term":
				l.Term = v
			case "TTLNanos":
				l.TTL = time.Duration(v)
			case "Version":
				l.Version = v
			}
		case time.Time:
			switch p.Name {
			case "Tick":
				l.Tick = v.UTC()
			case "Expires":
				l.Expires = v.UTC()
			}
		}
	}
	return l
}
