package metrics

import (
	"io"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"go-leader-election/internal/schedulers"
)

// TestBucketLabelsReadAsWritten: every histogram's le labels are short
// decimals, as the buckets are written in the code, not float products
// such as 0.0045000000000000005.
func TestBucketLabelsReadAsWritten(t *testing.T) {
	m := newTestMetrics(t, func() []schedulers.Status { return nil })
	m.AddJob("j")
	m.Started("j", time.Millisecond)
	m.Finished("j", time.Millisecond, nil)
	m.StoreCall("j", "claim", time.Millisecond, nil)
	rec := httptest.NewRecorder()
	m.handler.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body, _ := io.ReadAll(rec.Body)

	le := regexp.MustCompile(`^(\w+)_bucket\{.*le="([^"]+)"`)
	seen := map[string]int{}
	for _, line := range strings.Split(string(body), "\n") {
		m := le.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		seen[m[1]]++
		if v := m[2]; v != "+Inf" && len(strings.Trim(strings.NewReplacer(".", "", "-", "").Replace(v), "0")) > 6 {
			t.Errorf("%s: le=%q has more than 6 significant digits", m[1], v)
		}
	}
	for _, h := range []string{"scheduler_tick_lag_seconds", "scheduler_run_duration_seconds", "store_request_duration_seconds"} {
		if seen[h] == 0 {
			t.Errorf("no buckets of %s in /metrics", h)
		}
	}
}
