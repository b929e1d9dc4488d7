package schedulers

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"go-leader-election/lease"
	"go-leader-election/store"
)

// History writes the records of a node's runs to the store's history, off
// the run path: Record queues a record and returns at once, a goroutine
// started on demand writes the queue, each write bounded by a timeout. A
// record that does not fit in the queue, or whose write fails, is dropped
// with a "History write failed" warning and HistoryObserver.HistoryDropped:
// nothing is retried, so a slow or absent store costs history, never a run
// or its timing, and never a claim.
type History struct {
	cfg HistoryConfig

	mu    sync.Mutex
	queue []store.RunRecord
	busy  bool          // a drain goroutine runs
	done  chan struct{} // closed when that drain goroutine ends
}

// HistoryConfig is what a History is built from.
type HistoryConfig struct {
	// Store keeps the history. Required.
	Store store.History
	// Queue is how many records may wait to be written; default 256.
	Queue int
	// Timeout bounds each write; default DefaultTiming's StoreTimeout (1.5s).
	Timeout time.Duration
	// Parallel is how many writes may be in flight at once (the Datastore
	// store batches those that are); default 32.
	Parallel int
	// Log receives "History write failed"; node is added by the caller.
	Log zerolog.Logger
	// Observer, if it implements HistoryObserver, is told of drops.
	Observer Observer
}

// HistoryObserver is told of history records dropped ("queue full",
// "write failed"), for metrics. An Observer may implement it.
type HistoryObserver interface {
	HistoryDropped(job, reason string)
}

// Reasons a record is dropped, as passed to HistoryObserver.HistoryDropped.
const (
	DropQueueFull   = "queue full"
	DropWriteFailed = "write failed"
)

// NewHistory returns a writer; it starts no goroutine until a record comes.
func NewHistory(cfg HistoryConfig) (*History, error) {
	if cfg.Store == nil {
		return nil, errors.New("schedulers: HistoryConfig.Store is required")
	}
	if cfg.Queue <= 0 {
		cfg.Queue = 256
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTiming().StoreTimeout
	}
	if cfg.Parallel <= 0 {
		cfg.Parallel = 32
	}
	return &History{cfg: cfg}, nil
}

// Record queues rec to be written. It never blocks.
func (h *History) Record(rec store.RunRecord) {
	rec.Error = store.TruncateError(rec.Error)
	h.mu.Lock()
	if len(h.queue) >= h.cfg.Queue {
		h.mu.Unlock()
		h.dropped(rec, DropQueueFull, nil)
		return
	}
	h.queue = append(h.queue, rec)
	if !h.busy {
		h.busy, h.done = true, make(chan struct{})
		go h.drain(h.done)
	}
	h.mu.Unlock()
}

// Flush waits until every queued record has been written or dropped, or ctx
// ends; it reports whether the queue emptied.
func (h *History) Flush(ctx context.Context) bool {
	for {
		h.mu.Lock()
		busy, done := h.busy, h.done
		h.mu.Unlock()
		if !busy {
			return true
		}
		select {
		case <-done:
		case <-ctx.Done():
			return false
		}
	}
}

// drain writes the queue, Parallel records at a time, until it is empty.
func (h *History) drain(done chan struct{}) {
	defer close(done)
	for {
		h.mu.Lock()
		n := min(len(h.queue), h.cfg.Parallel)
		if n == 0 {
			h.busy = false
			h.mu.Unlock()
			return
		}
		batch := append([]store.RunRecord(nil), h.queue[:n]...)
		h.queue = append(h.queue[:0], h.queue[n:]...)
		h.mu.Unlock()
		var wg sync.WaitGroup
		for _, rec := range batch {
			wg.Go(func() { h.write(rec) })
		}
		wg.Wait()
	}
}

func (h *History) write(rec store.RunRecord) {
	ctx, cancel := context.WithTimeout(context.Background(), h.cfg.Timeout)
	defer cancel()
	if err := h.cfg.Store.AppendRun(ctx, rec); err != nil {
		h.dropped(rec, DropWriteFailed, err)
	}
}

func (h *History) dropped(rec store.RunRecord, reason string, err error) {
	h.cfg.Log.Warn().Err(err).Str("job", rec.Job).Str("tick", formatTick(rec.Tick)).
		Str("result", rec.Result).Str("reason", reason).Msg("History write failed")
	if o, ok := h.cfg.Observer.(HistoryObserver); ok {
		o.HistoryDropped(rec.Job, reason)
	}
}

// resultOf names how a run ended, for its record.
func resultOf(err error) string {
	switch {
	case err == nil:
		return store.ResultOK
	case errors.Is(err, errLostLeadership):
		return store.ResultLost
	case errors.Is(err, errTimeout):
		return store.ResultTimeout
	case errors.Is(err, errShutdownTimeout), errors.Is(err, errReplaced), errors.Is(err, context.Canceled):
		return store.ResultCancelled
	default:
		return store.ResultError
	}
}

// recordRun queues the record of run r, which took d and ended with err.
func (s *Scheduler) recordRun(r *activeRun, d time.Duration, err error) {
	if s.cfg.History == nil {
		return
	}
	rec := store.RunRecord{
		Job: s.job.Name, Tick: r.tok.Tick, Term: r.tok.Term, Node: s.id.Node,
		Start: r.start, Duration: d, Result: resultOf(err), Manual: s.isManual(r.tok.Tick), Attempts: r.info.Attempt,
	}
	if err != nil {
		rec.Error = err.Error()
	}
	rec.Status, rec.Output = r.info.Reported()
	s.cfg.History.Record(rec)
}

// tookOver is called after this node's claim succeeded, with the lease as
// it stood before (from) and after (to). When the claim took over another
// holder's lapsed lease, that holder's latest claimed run may have been cut
// (kill -9, a frozen process): it is recorded as lost, unless its own record
// is already in the history (the store checks; see store.History).
func (s *Scheduler) tookOver(from, to lease.State) {
	prev := from.Record
	if s.cfg.History == nil || from.Kind != lease.Held || prev.Tick.IsZero() || to.Record.Term == prev.Term {
		return
	}
	s.log.Debug().Str("tick", formatTick(prev.Tick)).Int64("term", prev.Term).Str("leader", prev.Node).
		Msg("Took over a lapsed lease: its last run is recorded lost, unless it was recorded")
	s.cfg.History.Record(store.RunRecord{
		Job: s.job.Name, Tick: prev.Tick, Term: prev.Term, Node: prev.Node, Start: prev.Tick,
		Result: store.ResultLost,
		Error:  fmt.Sprintf("the lease of %s lapsed; recorded by %s, which took it over", prev.Node, s.id.Node),
	})
}
