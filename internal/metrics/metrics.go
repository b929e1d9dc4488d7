// Package metrics exposes the daemon's Prometheus metrics: what the
// schedulers do (as a schedulers.Observer), what the store is asked (from
// the Datastore RPC counter, or the store calls themselves for the embedded
// store), who leads (read from the schedulers at scrape time), and the Go
// and process collectors. It records; it never changes behaviour.
package metrics

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"google.golang.org/grpc/codes"

	"go-leader-election/internal/balance"
	"go-leader-election/internal/schedulers"
	"go-leader-election/store"
)

// Metrics holds the scheduler's collectors, registered on the caller's
// registry.
type Metrics struct {
	reg          prometheus.Registerer
	runs         *prometheus.CounterVec
	skipped      *prometheus.CounterVec
	lag          *prometheus.HistogramVec
	duration     *prometheus.HistogramVec
	leaseLost    *prometheus.CounterVec
	storeCalls   *prometheus.CounterVec
	storeLatency *prometheus.HistogramVec
	historyDrops *prometheus.CounterVec
	lateRuns     *prometheus.CounterVec
	retries      *prometheus.CounterVec
	// countStoreCalls is false when an RPC counter feeds the store metrics.
	countStoreCalls bool
	jobs            func() []schedulers.Status
}

// New registers every collector on reg, or returns the registry's error (a
// collector registered twice). jobs is read at each scrape for the
// scheduler_leader gauge. The Go and process collectors are the caller's
// to register: a service that embeds the scheduler has its own.
func New(reg prometheus.Registerer, jobs func() []schedulers.Status) (*Metrics, error) {
	m := &Metrics{
		jobs: jobs,
		reg:  reg,
		runs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "scheduler_runs_total", Help: "Runs of a job on this node, by result (ok, error).",
		}, []string{"job", "result"}),
		skipped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "scheduler_skipped_total",
			Help: `Ticks this node did not run: "sat out" (another node has it), "overlap" (previous run still running), "missed" (no node ran it), "paused" (the job is paused).`,
		}, []string{"job", "reason"}),
		lag: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "scheduler_tick_lag_seconds", Help: "Run start minus its tick.",
			Buckets: []float64{.001, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"job"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "scheduler_run_duration_seconds", Help: "How long runs of a job took.",
			// x4 from 1ms; literals, so the le labels read as written.
			Buckets: []float64{.001, .004, .016, .064, .256, 1.024, 4.096, 16.384, 65.536, 262.144},
		}, []string{"job"}),
		leaseLost: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "scheduler_lease_lost_total", Help: "Runs given up because the lease could no longer be trusted.",
		}, []string{"job"}),
		storeCalls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "store_requests_total", Help: "Requests to the lease store, by method and status code.",
		}, []string{"method", "code"}),
		storeLatency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "store_request_duration_seconds", Help: "Latency of requests to the lease store.",
			// x3 from 0.5ms; literals, not ExponentialBuckets, whose products
			// carry float noise into the le labels (0.0045000000000000005).
			Buckets: []float64{.0005, .0015, .0045, .0135, .0405, .1215, .3645, 1.0935, 3.2805, 9.8415},
		}, []string{"method"}),
		historyDrops: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "scheduler_history_dropped_total",
			Help: `Run records this node did not write to the shared history: "queue full", "write failed".`,
		}, []string{"job", "reason"}),
		lateRuns: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "scheduler_late_runs_total",
			Help: `Ticks this node ran late, catching up a tick no node ran in its time ("Catching up").`,
		}, []string{"job"}),
		retries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "scheduler_retries_total", Help: `Retries of failed runs on this node ("Retrying").`,
		}, []string{"job"}),
		countStoreCalls: true,
	}
	leader := prometheus.NewDesc("scheduler_leader", "1 where this node holds the job's lease.", []string{"job"}, nil)
	for _, c := range []prometheus.Collector{m.runs, m.skipped, m.lag, m.duration, m.leaseLost, m.storeCalls,
		m.storeLatency, m.historyDrops, m.lateRuns, m.retries, leaderCollector{desc: leader, jobs: jobs}} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("metrics: %w", err)
		}
	}
	return m, nil
}

// NewRegistry returns a registry with the Go and process collectors, as the
// daemon serves it on GET /metrics, and its handler.
func NewRegistry() (*prometheus.Registry, http.Handler) {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return reg, promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg})
}

// AddJob exposes a job's counters at zero before anything happens, so that
// alerts and dashboards see every series from the start.
func (m *Metrics) AddJob(job string) {
	for _, r := range []string{"ok", "error"} {
		m.runs.WithLabelValues(job, r)
	}
	for _, r := range []string{schedulers.SkipSatOut, schedulers.SkipOverlap, schedulers.SkipMissed, schedulers.SkipPaused} {
		m.skipped.WithLabelValues(job, r)
	}
	for _, r := range []string{schedulers.DropQueueFull, schedulers.DropWriteFailed} {
		m.historyDrops.WithLabelValues(job, r)
	}
	m.leaseLost.WithLabelValues(job)
	m.lateRuns.WithLabelValues(job)
	m.retries.WithLabelValues(job)
}

// ObserveRPC records one store RPC; pass it to the Datastore RPC counter,
// after calling UseRPCCounter.
func (m *Metrics) ObserveRPC(method, code string, d time.Duration) {
	m.storeCalls.WithLabelValues(method, code).Inc()
	m.storeLatency.WithLabelValues(method).Observe(d.Seconds())
}

// UseRPCCounter stops counting scheduler store calls, so that no call is
// counted twice; call it before the schedulers start when ObserveRPC is
// wired to an RPC counter.
func (m *Metrics) UseRPCCounter() { m.countStoreCalls = false }

var _ schedulers.Observer = (*Metrics)(nil)

// Started implements schedulers.Observer.
func (m *Metrics) Started(job string, lag time.Duration) {
	m.lag.WithLabelValues(job).Observe(lag.Seconds())
}

// Finished implements schedulers.Observer.
func (m *Metrics) Finished(job string, d time.Duration, err error) {
	result := "ok"
	if err != nil {
		result = "error"
	}
	m.runs.WithLabelValues(job, result).Inc()
	m.duration.WithLabelValues(job).Observe(d.Seconds())
}

// Skipped implements schedulers.Observer.
func (m *Metrics) Skipped(job, reason string) { m.skipped.WithLabelValues(job, reason).Inc() }

// HistoryDropped implements schedulers.HistoryObserver.
func (m *Metrics) HistoryDropped(job, reason string) {
	m.historyDrops.WithLabelValues(job, reason).Inc()
}

var _ schedulers.HistoryObserver = (*Metrics)(nil)

var _ schedulers.PolicyObserver = (*Metrics)(nil)

// LateRun implements schedulers.PolicyObserver.
func (m *Metrics) LateRun(job string) { m.lateRuns.WithLabelValues(job).Inc() }

// Retried implements schedulers.PolicyObserver.
func (m *Metrics) Retried(job string) { m.retries.WithLabelValues(job).Inc() }

// LeaseLost implements schedulers.Observer.
func (m *Metrics) LeaseLost(job string) { m.leaseLost.WithLabelValues(job).Inc() }

// StoreCall implements schedulers.Observer: it counts store calls by
// operation, unless an RPC counter does it.
func (m *Metrics) StoreCall(_ string, op string, d time.Duration, err error) {
	if !m.countStoreCalls {
		return
	}
	m.storeCalls.WithLabelValues(op, code(err)).Inc()
	m.storeLatency.WithLabelValues(op).Observe(d.Seconds())
}

// code maps a store call's outcome to a gRPC-style code name, so both kinds
// of store report the same labels.
func code(err error) string {
	switch {
	case err == nil:
		return codes.OK.String()
	case errors.Is(err, store.ErrNotFound):
		return codes.NotFound.String()
	case store.IsRefusal(err):
		return codes.FailedPrecondition.String()
	default:
		return codes.Unknown.String()
	}
}

type leaderCollector struct {
	desc *prometheus.Desc
	jobs func() []schedulers.Status
}

func (c leaderCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c leaderCollector) Collect(ch chan<- prometheus.Metric) {
	for _, st := range c.jobs() {
		v := 0.0
		if st.Leading {
			v = 1
		}
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, v, st.Job)
	}
}

// UseMembers exposes the replicas balance sees: scheduler_members (how many
// are live), scheduler_jobs_led (how many jobs this node leads) and
// scheduler_clock_offset_seconds (each member's estimate of its clock
// minus the store's, by member node). members is read at each scrape.
func (m *Metrics) UseMembers(members func() []balance.MemberStatus) error {
	return m.reg.Register(memberCollector{
		members: members,
		count:   prometheus.NewDesc("scheduler_members", "Live replicas, as this node sees them.", nil, nil),
		led:     prometheus.NewDesc("scheduler_jobs_led", "Jobs whose lease this node holds.", nil, nil),
		offset: prometheus.NewDesc("scheduler_clock_offset_seconds",
			"A replica's clock minus the store's, estimated from commit timestamps.", []string{"member"}, nil),
		jobs: m.jobs,
	})
}

type memberCollector struct {
	members            func() []balance.MemberStatus
	jobs               func() []schedulers.Status
	count, led, offset *prometheus.Desc
}

func (c memberCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.count
	ch <- c.led
	ch <- c.offset
}

func (c memberCollector) Collect(ch chan<- prometheus.Metric) {
	ms := c.members()
	ch <- prometheus.MustNewConstMetric(c.count, prometheus.GaugeValue, float64(len(ms)))
	led := 0
	for _, st := range c.jobs() {
		if st.Leading {
			led++
		}
	}
	ch <- prometheus.MustNewConstMetric(c.led, prometheus.GaugeValue, float64(led))
	seen := map[string]bool{}
	for _, mb := range ms {
		if mb.ClockOffsetKnown && !seen[mb.Node] {
			seen[mb.Node] = true
			ch <- prometheus.MustNewConstMetric(c.offset, prometheus.GaugeValue, mb.ClockOffset.Seconds(), mb.Node)
		}
	}
}
