//go:build linux

package target

import (
	"bufio"
	"context"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"slices"
	"testing"
	"time"
)

// reportLatency reports the median and 99th percentile of d.
func reportLatency(b *testing.B, d []time.Duration, what string) {
	b.Helper()
	if len(d) == 0 {
		return
	}
	slices.Sort(d)
	p := func(q float64) time.Duration { return d[min(len(d)-1, int(q*float64(len(d))))] }
	b.ReportMetric(float64(p(0.50).Microseconds()), "µs-p50-"+what)
	b.ReportMetric(float64(p(0.99).Microseconds()), "µs-p99-"+what)
}

// BenchmarkCommandStart measures the time from the call to the command's
// first output line (/bin/echo): the start of a process, its first write,
// and the pipe back. "exec" is plain os/exec for comparison: the difference
// is what the target adds (the supervisor: a second process start).
func BenchmarkCommandStart(b *testing.B) {
	argv := []string{"/bin/echo", "started"}
	for _, m := range modes {
		b.Run(m.name, func(b *testing.B) {
			c := m.command(Command{Argv: argv})
			lat := make([]time.Duration, 0, b.N)
			for b.Loop() {
				var first time.Duration
				start := time.Now()
				inv := Invocation{Job: "bench", Tick: start, Output: func(_, _ string) {
					if first == 0 {
						first = time.Since(start)
					}
				}}
				if _, err := c.Run(context.Background(), inv); err != nil {
					b.Fatal(err)
				}
				lat = append(lat, first)
			}
			reportLatency(b, lat, "to-output")
		})
	}
	b.Run("exec", func(b *testing.B) {
		lat := make([]time.Duration, 0, b.N)
		for b.Loop() {
			start := time.Now()
			cmd := exec.Command(argv[0], argv[1:]...)
			out, err := cmd.StdoutPipe()
			if err != nil {
				b.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				b.Fatal(err)
			}
			if _, err := bufio.NewReader(out).ReadString('\n'); err != nil {
				b.Fatal(err)
			}
			lat = append(lat, time.Since(start))
			if err := cmd.Wait(); err != nil {
				b.Fatal(err)
			}
		}
		reportLatency(b, lat, "to-output")
	})
}

// BenchmarkHTTPRequest measures the time from the call to the request's
// arrival in the target's handler (a local server, connections reused).
func BenchmarkHTTPRequest(b *testing.B) {
	arrived := make(chan time.Time, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived <- time.Now()
	}))
	defer srv.Close()
	h := HTTP{URL: srv.URL + "/hook", Headers: map[string]string{"Authorization": "Bearer x"}, Body: `{"a":1}`}
	lat := make([]time.Duration, 0, b.N)
	for b.Loop() {
		start := time.Now()
		if _, err := h.Run(context.Background(), Invocation{Job: "bench", Tick: start}); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, (<-arrived).Sub(start))
	}
	reportLatency(b, lat, "to-arrival")
}
