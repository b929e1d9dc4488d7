package coalesce

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"testing"
)

// recorder is a coalescer whose batches wait for the test's go-ahead.
type recorder struct {
	c       *Coalescer[string, string]
	mu      sync.Mutex
	batches [][]string
	proceed chan struct{}
	started chan struct{}
}

func newRecorder(max int) *recorder {
	r := &recorder{proceed: make(chan struct{}), started: make(chan struct{}, 100)}
	r.c = &Coalescer[string, string]{Max: max, Key: func(s string) string { return s[:1] }, Do: func(batch []*Call[string, string]) {
		r.started <- struct{}{}
		<-r.proceed
		var reqs []string
		for _, cl := range batch {
			reqs = append(reqs, cl.Req)
			cl.Res = "done " + cl.Req
		}
		r.mu.Lock()
		r.batches = append(r.batches, reqs)
		r.mu.Unlock()
	}}
	return r
}

func TestCoalescerBatchesWhatArrivesMeanwhile(t *testing.T) {
	r := newRecorder(3)
	var wg sync.WaitGroup
	submit := func(ctx context.Context, req string) {
		wg.Go(func() {
			res, err := r.c.Submit(ctx, req)
			if err == nil && res != "done "+req {
				t.Errorf("%s got %q", req, res)
			}
		})
	}
	submit(context.Background(), "a1") // a lone call goes at once
	<-r.started
	cancelled, cancel := context.WithCancel(context.Background())
	for i, req := range []string{"b1", "c1", "a2", "d1", "e1"} { // a2: same key as a1
		ctx := context.Background()
		if i == 1 {
			ctx = cancelled
		}
		submit(ctx, req)
		for queued := 0; queued != i+1; { // in this order
			r.c.mu.Lock()
			queued = len(r.c.queue)
			r.c.mu.Unlock()
		}
	}
	cancel() // c1's caller gives up while queued
	close(r.proceed)
	wg.Wait()
	want := [][]string{{"a1"}, {"b1", "a2", "d1"}, {"e1"}}
	if !slices.EqualFunc(r.batches, want, slices.Equal) {
		t.Fatalf("batches = %v, want %v (max 3, c1 dropped)", r.batches, want)
	}
}

func TestCoalescerCallerTimesOut(t *testing.T) {
	r := newRecorder(10)
	go func() { _, _ = r.c.Submit(context.Background(), "a") }()
	<-r.started
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := r.c.Submit(ctx, "b"); !errors.Is(err, context.Canceled) {
		t.Fatalf("submit with a cancelled context: %v", err)
	}
	close(r.proceed)
	for i := range 3 { // the coalescer still serves later calls
		if res, err := r.c.Submit(context.Background(), "x"+strconv.Itoa(i)); err != nil || res != "done x"+strconv.Itoa(i) {
			t.Fatalf("later call: %q %v", res, err)
		}
	}
}

// TestCoalescerRunsAnotherBatchUnderLoad: with par 2, a full batch waiting
// behind the one in flight goes at once, without the key in flight; with
// less than a full batch waiting, it waits.
func TestCoalescerRunsAnotherBatchUnderLoad(t *testing.T) {
	r := newRecorder(2)
	r.c.Par = 2
	var wg sync.WaitGroup
	submit := func(req string, queued int) {
		wg.Go(func() {
			if res, err := r.c.Submit(context.Background(), req); err != nil || res != "done "+req {
				t.Errorf("%s got %q, %v", req, res, err)
			}
		})
		for n := -1; n != queued; { // until it is queued (or taken)
			r.c.mu.Lock()
			n = len(r.c.queue)
			r.c.mu.Unlock()
		}
	}
	submit("a1", 0)
	<-r.started
	submit("b1", 1)
	select {
	case <-r.started:
		t.Fatal("a second batch started with less than a full batch waiting")
	default:
	}
	submit("a2", 1) // a full batch waits: b1 goes at once, a2's key is in flight
	<-r.started
	r.c.mu.Lock()
	running, flying, waiting := r.c.running, fmt.Sprint(r.c.flying), r.c.queue[0].Req
	r.c.mu.Unlock()
	if running != 2 || flying != "map[a:true b:true]" || waiting != "a2" {
		t.Fatalf("%d batches in flight, keys %s, %s waiting; want a1's and b1's, a2 waiting", running, flying, waiting)
	}
	close(r.proceed)
	wg.Wait()
}
