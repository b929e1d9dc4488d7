package main

import (
	"bytes"
	"context"
	"errors"
	"maps"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"go-leader-election/internal/schedulers"
	"go-leader-election/jobs"
	"go-leader-election/store"
)

// runKey is one run: a job (by index) and the tick it ran, in Unix ns.
type runKey struct {
	job  int
	tick int64
}

// recorder counts the runs of every (job, tick), from the jobs themselves,
// and remembers which node ran each first.
type recorder struct {
	mu      sync.Mutex
	runs    map[runKey]int
	runner  map[runKey]int // node index of the first run
	noToken int
}

func newRecorder() *recorder { return &recorder{runs: map[runKey]int{}, runner: map[runKey]int{}} }

// job returns job j's Run on node n: record the run and return.
func (r *recorder) job(j, n int) func(ctx context.Context) error {
	return func(ctx context.Context) error {
		tok, ok := jobs.TokenFrom(ctx)
		r.mu.Lock()
		if ok {
			k := runKey{j, tok.Tick.UnixNano()}
			if r.runs[k]++; r.runs[k] == 1 {
				r.runner[k] = n
			}
		} else {
			r.noToken++
		}
		r.mu.Unlock()
		return nil
	}
}

// count is how many times job j ran tick t.
func (r *recorder) count(j int, t time.Time) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.runs[runKey{j, t.UnixNano()}]
}

// ranBy is the node that first ran job j's tick t, and whether any did.
func (r *recorder) ranBy(j int, t time.Time) (int, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	n, ok := r.runner[runKey{j, t.UnixNano()}]
	return n, ok
}

// lagRec is one run start: the job (-1 if unknown), the tick (Unix ns,
// inferred) and its lag.
type lagRec struct {
	job  int
	tick int64
	lag  time.Duration
}

// callRec is one store call: when it ended, its operation and duration.
type callRec struct {
	at  time.Time
	op  string
	d   time.Duration
	err bool // failed, other than with one of the protocol's answers
}

// observer implements schedulers.Observer for all the nodes of one size.
type observer struct {
	every int64          // ns
	index map[string]int // job name → index; read-only

	mu        sync.Mutex
	lags      []lagRec
	calls     []callRec
	skipped   map[string]int64
	leaseLost int64
	failed    int64 // Finished with an error
}

var _ schedulers.Observer = (*observer)(nil)

func newObserver(every time.Duration, names []string) *observer {
	o := &observer{every: int64(every), index: map[string]int{}, skipped: map[string]int64{}}
	for i, n := range names {
		o.index[n] = i
	}
	return o
}

// Started infers the tick from the lag: Started is called as the run starts,
// so now-lag is the tick, up to the microseconds the call takes.
func (o *observer) Started(job string, lag time.Duration) {
	n := time.Now().Add(-lag).UnixNano()
	tick := (n + o.every/2) / o.every * o.every
	j, ok := o.index[job]
	if !ok {
		j = -1
	}
	o.mu.Lock()
	o.lags = append(o.lags, lagRec{j, tick, lag})
	o.mu.Unlock()
}

func (o *observer) Finished(_ string, _ time.Duration, err error) {
	if err != nil {
		o.mu.Lock()
		o.failed++
		o.mu.Unlock()
	}
}

func (o *observer) Skipped(_, reason string) {
	o.mu.Lock()
	o.skipped[reason]++
	o.mu.Unlock()
}

func (o *observer) LeaseLost(string) {
	o.mu.Lock()
	o.leaseLost++
	o.mu.Unlock()
}

func (o *observer) StoreCall(_, op string, d time.Duration, err error) {
	failed := err != nil && !errors.Is(err, store.ErrNotFound) && !errors.Is(err, store.ErrTickTaken) &&
		!errors.Is(err, store.ErrHeld) && !errors.Is(err, store.ErrNotHolder)
	now := time.Now()
	o.mu.Lock()
	o.calls = append(o.calls, callRec{now, op, d, failed})
	o.mu.Unlock()
}

// lagsBetween returns the lags of the runs of ticks in [first, last], sorted.
func (o *observer) lagsBetween(first, last time.Time) []time.Duration {
	o.mu.Lock()
	defer o.mu.Unlock()
	var out []time.Duration
	for _, l := range o.lags {
		if l.tick >= first.UnixNano() && l.tick <= last.UnixNano() {
			out = append(out, l.lag)
		}
	}
	slices.Sort(out)
	return out
}

// lagsOf returns the lags of the runs in keys, sorted, and of the other
// runs of ticks in [first, last], sorted.
func (o *observer) lagsOf(keys map[runKey]bool, first, last time.Time) (in, out []time.Duration) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, l := range o.lags {
		switch {
		case keys[runKey{l.job, l.tick}]:
			in = append(in, l.lag)
		case l.tick >= first.UnixNano() && l.tick <= last.UnixNano():
			out = append(out, l.lag)
		}
	}
	slices.Sort(in)
	slices.Sort(out)
	return in, out
}

// callsBetween returns, by operation, the sorted durations of the store
// calls that ended in [from, to), and the number of failed calls.
func (o *observer) callsBetween(from, to time.Time) (map[string][]time.Duration, int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	out := map[string][]time.Duration{}
	failed := 0
	for _, c := range o.calls {
		if c.at.Before(from) || !c.at.Before(to) {
			continue
		}
		out[c.op] = append(out[c.op], c.d)
		if c.err {
			failed++
		}
	}
	for _, ds := range out {
		slices.Sort(ds)
	}
	return out, failed
}

// failedCalls is the number of failed store calls over the whole run.
func (o *observer) failedCalls() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	n := 0
	for _, c := range o.calls {
		if c.err {
			n++
		}
	}
	return n
}

func (o *observer) skips() map[string]int64 {
	o.mu.Lock()
	defer o.mu.Unlock()
	return maps.Clone(o.skipped)
}

// percentile is the nearest-rank p-th percentile (0 < p <= 1) of sorted.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(float64(len(sorted))*p+0.999999) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

// counted are the info events logCounter counts by message: balance's.
var counted = map[string]bool{"Handing over": true, "Member joined": true, "Member left": true}

// logCounter is the nodes' log output: it counts the events, the messages
// of those at warn level and above, and the counted messages.
type logCounter struct {
	total  atomic.Int64
	mu     sync.Mutex
	warns  map[string]int64
	events map[string]int64 // counted messages
}

func newLogCounter() *logCounter {
	return &logCounter{warns: map[string]int64{}, events: map[string]int64{}}
}

// event is how many events with message msg (one of counted) were logged.
func (c *logCounter) event(msg string) int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.events[msg]
}

func (c *logCounter) Write(p []byte) (int, error) {
	return c.WriteLevel(zerolog.NoLevel, p)
}

// WriteLevel implements zerolog.LevelWriter.
func (c *logCounter) WriteLevel(l zerolog.Level, p []byte) (int, error) {
	c.total.Add(1)
	msg := []byte("?")
	const field = `"message":"`
	if i := bytes.Index(p, []byte(field)); i >= 0 {
		rest := p[i+len(field):]
		if j := bytes.IndexByte(rest, '"'); j >= 0 {
			msg = rest[:j]
		}
	}
	warn := l >= zerolog.WarnLevel && l != zerolog.NoLevel
	if warn || counted[string(msg)] { // the conversion does not allocate
		c.mu.Lock()
		if warn {
			c.warns[string(msg)]++
		} else {
			c.events[string(msg)]++
		}
		c.mu.Unlock()
	}
	return len(p), nil
}

// warnings lists the warn-and-above messages with their counts.
func (c *logCounter) warnings() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return formatCounts(c.warns)
}

// formatCounts is "a ×3, b ×1", by decreasing count, or "none".
func formatCounts(m map[string]int64) string {
	if len(m) == 0 {
		return "none"
	}
	keys := slices.Collect(maps.Keys(m))
	sort.Slice(keys, func(i, j int) bool {
		if m[keys[i]] != m[keys[j]] {
			return m[keys[i]] > m[keys[j]]
		}
		return keys[i] < keys[j]
	})
	var b bytes.Buffer
	for i, k := range keys {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(k)
		b.WriteString(" ×")
		b.WriteString(itoa(m[k]))
	}
	return b.String()
}
