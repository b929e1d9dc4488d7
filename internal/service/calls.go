package service

import (
	"context"
	"errors"
	"time"

	"go-leader-election/store"
)

// call runs one store call under the store timeout, detached from ctx's
// cancellation (a write abandoned halfway is a write whose outcome is
// unknown), and reports it to readiness and metrics as op.
func (s *Server) call(ctx context.Context, op string, f func(ctx context.Context) error) error {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	start := time.Now()
	err := f(ctx)
	s.onCall(op, time.Since(start), err)
	return err
}

// bounded is a context detached from its caller's cancellation and bounded
// by the store timeout (bound): the calls made under it share that bound.
type bounded struct{ context.Context }

// bound returns ctx detached from its cancellation and bounded by the store
// timeout, unless it is so already: a caller that makes many store calls at
// once (a keepalive request) bounds them all with one timer.
func (s *Server) bound(ctx context.Context) (context.Context, context.CancelFunc) {
	if b, ok := ctx.(bounded); ok {
		return b, func() {}
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.opts.StoreTimeout)
	return bounded{ctx}, cancel
}

// records is one of the server's stores (elections or sessions), its calls
// named for metrics with prefix ("" or "session_").
type records struct {
	s      *Server
	st     store.Store
	prefix string
}

// get reads name's record; a record never written is the zero record.
func (r records) get(ctx context.Context, name string) (rec store.Lease, err error) {
	err = r.s.call(ctx, r.prefix+"get", func(ctx context.Context) (err error) {
		rec, err = r.st.Get(ctx, name)
		return err
	})
	if errors.Is(err, store.ErrNotFound) {
		return store.Lease{Job: name}, nil
	}
	return rec, err
}

func (r records) claim(ctx context.Context, req store.ClaimRequest) (rec store.Lease, err error) {
	err = r.s.call(ctx, r.prefix+"claim", func(ctx context.Context) (err error) {
		rec, err = r.st.Claim(ctx, req)
		return err
	})
	return rec, err
}

func (r records) renew(ctx context.Context, req store.RenewRequest) (rec store.Lease, err error) {
	err = r.s.call(ctx, r.prefix+"renew", func(ctx context.Context) (err error) {
		rec, err = r.st.Renew(ctx, req)
		return err
	})
	return rec, err
}

func (r records) release(ctx context.Context, req store.ReleaseRequest) error {
	return r.s.call(ctx, r.prefix+"release", func(ctx context.Context) error {
		return r.st.Release(ctx, req)
	})
}
