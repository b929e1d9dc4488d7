package metrics

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"go-leader-election/internal/schedulers"
	"go-leader-election/store"
)

// testMetrics is a Metrics on a registry of its own, and that registry's
// handler, as the daemon serves it.
type testMetrics struct {
	*Metrics
	handler http.Handler
}

func newTestMetrics(t *testing.T, jobs func() []schedulers.Status) testMetrics {
	t.Helper()
	reg, h := NewRegistry()
	m, err := New(reg, jobs)
	if err != nil {
		t.Fatal(err)
	}
	return testMetrics{m, h}
}

func scrape(t *testing.T, m testMetrics) string {
	t.Helper()
	rec := httptest.NewRecorder()
	m.handler.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	b, _ := io.ReadAll(rec.Body)
	return string(b)
}

// TestWhatTheSchedulersDoIsCounted drives the Observer as a scheduler does
// and reads the series an operator's alerts use.
func TestWhatTheSchedulersDoIsCounted(t *testing.T) {
	m := newTestMetrics(t, func() []schedulers.Status {
		return []schedulers.Status{{Job: "a", Leading: true}, {Job: "b"}}
	})
	m.AddJob("a")
	m.AddJob("b")
	m.Started("a", 20*time.Millisecond)
	m.Finished("a", time.Second, nil)
	m.Finished("a", time.Second, errors.New("boom"))
	m.Skipped("b", schedulers.SkipSatOut)
	m.LeaseLost("a")
	m.LateRun("a")
	m.Retried("a")
	m.Retried("a")
	m.StoreCall("a", "claim", time.Millisecond, nil)
	m.StoreCall("b", "claim", time.Millisecond, fmt.Errorf("wrapped: %w", store.ErrTickTaken))
	m.StoreCall("b", "get", time.Millisecond, store.ErrNotFound)
	m.StoreCall("b", "get", time.Millisecond, errors.New("unreachable"))
	out := scrape(t, m)
	for _, want := range []string{
		`scheduler_runs_total{job="a",result="ok"} 1`,
		`scheduler_runs_total{job="a",result="error"} 1`,
		`scheduler_runs_total{job="b",result="ok"} 0`,
		`scheduler_skipped_total{job="b",reason="sat out"} 1`,
		`scheduler_skipped_total{job="a",reason="missed"} 0`,
		`scheduler_lease_lost_total{job="a"} 1`,
		`scheduler_late_runs_total{job="a"} 1`,
		`scheduler_late_runs_total{job="b"} 0`,
		`scheduler_retries_total{job="a"} 2`,
		`scheduler_retries_total{job="b"} 0`,
		`scheduler_leader{job="a"} 1`,
		`scheduler_leader{job="b"} 0`,
		`scheduler_tick_lag_seconds_count{job="a"} 1`,
		`store_requests_total{code="OK",method="claim"} 1`,
		`store_requests_total{code="FailedPrecondition",method="claim"} 1`,
		`store_requests_total{code="NotFound",method="get"} 1`,
		`store_requests_total{code="Unknown",method="get"} 1`,
	} {
		if !strings.Contains(out, want+"\n") {
			t.Errorf("metrics lack %s", want)
		}
	}
}

// TestRPCCounterReplacesStoreCalls: with an RPC counter wired, store calls
// are counted once, by the counter.
func TestRPCCounterReplacesStoreCalls(t *testing.T) {
	m := newTestMetrics(t, func() []schedulers.Status { return nil })
	m.UseRPCCounter()
	m.StoreCall("a", "claim", time.Millisecond, nil)
	m.ObserveRPC("Commit", "OK", time.Millisecond)
	out := scrape(t, m)
	if strings.Contains(out, `method="claim"`) || !strings.Contains(out, `store_requests_total{code="OK",method="Commit"} 1`+"\n") {
		t.Fatalf("with an RPC counter, want only the RPC counted:\n%s", out)
	}
}
