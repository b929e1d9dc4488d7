package storehealth

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"go-leader-election/store"
)

// TestHealthLogsAnOutageOnce: many failed calls of several jobs and
// operations make one "Store unavailable" event, and "Store recovered"
// comes once every failed call has succeeded again.
func TestHealthLogsAnOutageOnce(t *testing.T) {
	var buf bytes.Buffer
	log := zerolog.New(&buf)
	h := &Health{Log: &log, Store: "datastore at localhost:1"}
	down := errors.New("rpc error: code = Unavailable")
	events := func() []map[string]any {
		var out []map[string]any
		for _, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
			if line == "" {
				continue
			}
			var ev map[string]any
			if err := json.Unmarshal([]byte(line), &ev); err != nil {
				t.Fatal(err)
			}
			out = append(out, ev)
		}
		return out
	}

	h.ReportCall("a", "get", nil)
	h.ReportCall("a", "claim", store.ErrTickTaken) // an answer, not a failure
	if len(events()) != 0 || h.FailureLevel() != zerolog.WarnLevel || h.Err() != nil {
		t.Fatalf("healthy store: events %v, level %s, Err %v", events(), h.FailureLevel(), h.Err())
	}
	for range 3 {
		h.ReportCall("a", "get", down)
		h.ReportCall("b", "get", down)
	}
	h.ReportCall("a", "claim", down)
	evs := events()
	if len(evs) != 1 || evs[0]["message"] != "Store unavailable" || evs[0]["level"] != "warn" ||
		evs[0]["store"] != "datastore at localhost:1" || evs[0]["job"] != "a" || evs[0]["op"] != "get" ||
		!strings.Contains(evs[0]["error"].(string), "Unavailable") {
		t.Fatalf("after 7 failed calls: %v, want one Store unavailable naming the store, job, op and error", evs)
	}
	if h.FailureLevel() != zerolog.DebugLevel || h.Err() == nil {
		t.Errorf("during the outage: level %s, Err %v; want debug and the error", h.FailureLevel(), h.Err())
	}

	h.ReportCall("a", "get", nil)
	h.ReportCall("b", "get", nil) // a's claim has not succeeded yet
	if len(events()) != 1 {
		t.Fatalf("recovered while a claim still fails: %v", events())
	}
	h.ReportCall("a", "claim", nil)
	evs = events()
	if len(evs) != 2 || evs[1]["message"] != "Store recovered" || evs[1]["level"] != "info" ||
		evs[1]["failed_calls"] != 7.0 || evs[1]["store"] != "datastore at localhost:1" || evs[1]["down_for"] == nil {
		t.Fatalf("after every call succeeded: %v, want Store recovered with 7 failed calls", evs)
	}
	if h.FailureLevel() != zerolog.WarnLevel || h.Err() != nil {
		t.Errorf("after recovery: level %s, Err %v", h.FailureLevel(), h.Err())
	}

	// A second outage is logged again.
	h.ReportCall("b", "renew", down)
	if evs := events(); len(evs) != 3 || evs[2]["message"] != "Store unavailable" {
		t.Errorf("second outage: %v", evs)
	}
	var quiet *Health
	quiet.ReportCall("a", "get", down)
	if quiet.FailureLevel() != zerolog.WarnLevel || (&Health{}).FailureLevel() != zerolog.WarnLevel {
		t.Error("without a logger, failed calls must stay at warn")
	}
}

// TestHealthOneJobFailing: one job's calls failing while another's of the
// same operation succeed (an unreadable lease record) is one outage, not a
// flapping one.
func TestHealthOneJobFailing(t *testing.T) {
	var buf bytes.Buffer
	log := zerolog.New(&buf)
	h := &Health{Log: &log, Store: "s"}
	for range 5 {
		h.ReportCall("bad", "get", errors.New("datastore: cannot load field Term"))
		h.ReportCall("good", "get", nil)
	}
	if n := strings.Count(buf.String(), "\n"); n != 1 || !strings.Contains(buf.String(), "Store unavailable") {
		t.Errorf("events: %s, want one Store unavailable", buf.String())
	}
}
