package service

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/status"

	"go-leader-election/store"
)

// Metrics holds the service's Prometheus collectors, in a registry of its
// own. A nil *Metrics records nothing.
type Metrics struct {
	reg           *prometheus.Registry
	requests      *prometheus.CounterVec
	latency       *prometheus.HistogramVec
	storeCalls    *prometheus.CounterVec
	storeLatency  *prometheus.HistogramVec
	watches       prometheus.Gauge
	elections     prometheus.Gauge
	sessions      prometheus.Gauge
	leaderChanges prometheus.Counter
	keepAlives    [keepAliveResults]prometheus.Counter
	sessionEnds   *prometheus.CounterVec
}

// The results of one keepalive, a label of leaderelection_keepalives_total.
const (
	keepAliveWritten = iota // renewed by a write
	keepAliveRecent         // answered from a recent write
	keepAliveGone           // the session has ended
	keepAliveFailed         // the store failed
	keepAliveResults
)

var keepAliveResultNames = [keepAliveResults]string{"written", "recent", "gone", "error"}

// NewMetrics registers the service's collectors and the Go and process
// collectors.
func NewMetrics() *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "leaderelection_requests_total", Help: "gRPC requests served, by method and status code.",
		}, []string{"method", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "leaderelection_request_duration_seconds", Help: "Latency of unary gRPC requests.",
			Buckets: prometheus.ExponentialBuckets(0.0001, 3, 12),
		}, []string{"method"}),
		storeCalls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "leaderelection_store_requests_total", Help: `Calls to the lease store, by operation and result ("ok"; "refused": the store answered no; "error"; "timeout").`,
		}, []string{"op", "result"}),
		storeLatency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "leaderelection_store_request_duration_seconds", Help: "Latency of calls to the lease store.",
			Buckets: prometheus.ExponentialBuckets(0.0001, 3, 12),
		}, []string{"op"}),
		watches: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "leaderelection_watch_streams", Help: "Watch streams open on this server.",
		}),
		elections: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "leaderelection_tracked_elections", Help: "Elections this server keeps an observation of (updated every minute).",
		}),
		sessions: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "leaderelection_tracked_sessions", Help: "Sessions this server keeps an observation of (updated every minute).",
		}),
		sessionEnds: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "leaderelection_sessions_ended_total", Help: `Sessions ended through this server, by reason ("closed"; "lapsed": judged lapsed by this server).`,
		}, []string{"reason"}),
		leaderChanges: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "leaderelection_leader_changes_total", Help: "Grants through this server that changed an election's leader.",
		}),
	}
	keepAlives := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "leaderelection_keepalives_total", Help: `Session keepalives answered, by result ("written": renewed by a write; "recent": answered from a write less than the write gap old; "gone"; "error": the store failed).`,
	}, []string{"result"})
	for i, name := range keepAliveResultNames {
		m.keepAlives[i] = keepAlives.WithLabelValues(name)
	}
	m.reg.MustRegister(m.requests, m.latency, m.storeCalls, m.storeLatency, m.watches, m.elections, m.sessions,
		m.leaderChanges, keepAlives, m.sessionEnds, collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Handler serves the metrics in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

// method is a full gRPC method's last part ("/pkg.Service/Method" ->
// "Method"), with its service for methods not of this API.
func method(full string) string {
	if rest, ok := strings.CutPrefix(full, "/leaderelection.v1.LeaderElection/"); ok {
		return rest
	}
	return strings.TrimPrefix(full, "/")
}

func (m *Metrics) unary(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
	if m == nil {
		return h(ctx, req)
	}
	start := time.Now()
	resp, err := h(ctx, req)
	name := method(info.FullMethod)
	m.latency.WithLabelValues(name).Observe(time.Since(start).Seconds())
	m.requests.WithLabelValues(name, status.Code(err).String()).Inc()
	return resp, err
}

func (m *Metrics) stream(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, h grpc.StreamHandler) error {
	if m == nil {
		return h(srv, ss)
	}
	err := h(srv, ss)
	m.requests.WithLabelValues(method(info.FullMethod), status.Code(err).String()).Inc()
	return err
}

func (m *Metrics) storeCall(op string, d time.Duration, err error) {
	if m == nil {
		return
	}
	result := "ok"
	switch {
	case err == nil:
	case store.IsRefusal(err):
		result = "refused"
	default:
		result = "error"
		if errors.Is(err, context.DeadlineExceeded) {
			result = "timeout"
		}
	}
	m.storeCalls.WithLabelValues(op, result).Inc()
	m.storeLatency.WithLabelValues(op).Observe(d.Seconds())
}

func (m *Metrics) watchStarted() {
	if m != nil {
		m.watches.Inc()
	}
}

func (m *Metrics) watchEnded() {
	if m != nil {
		m.watches.Dec()
	}
}

func (m *Metrics) leaderChanged() {
	if m != nil {
		m.leaderChanges.Inc()
	}
}

func (m *Metrics) setTracked(elections, sessions int) {
	if m != nil {
		m.elections.Set(float64(elections))
		m.sessions.Set(float64(sessions))
	}
}

func (m *Metrics) keepAlive(result int) {
	if m != nil {
		m.keepAlives[result].Inc()
	}
}

func (m *Metrics) sessionEnded(reason string) {
	if m != nil {
		m.sessionEnds.WithLabelValues(reason).Inc()
	}
}
