package main

import (
	"context"
	"io"
	"net"
	"net/http"
	"strconv"
	"testing"
	"time"
)

// daemon is run() started in-process for a test.
type daemon struct {
	out  *lines
	base string // http://127.0.0.1:port
	stop func() error
}

func startDaemon(t *testing.T, env map[string]string) *daemon {
	t.Helper()
	full := map[string]string{"APP_PORT": "0", "LOG_FORMAT": "json", "PREACHER_TIMES": "1"}
	for k, v := range env {
		full[k] = v
	}
	out := newLines()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"go-leader-election"}, func(k string) string { return full[k] }, out, io.Discard)
	}()
	stopped := false
	d := &daemon{out: out, stop: func() error {
		if stopped {
			return nil
		}
		stopped = true
		cancel()
		select {
		case err := <-done:
			return err
		case <-time.After(30 * time.Second):
			t.Fatal("run did not return within 30s of cancel")
			return nil
		}
	}}
	t.Cleanup(func() { _ = d.stop() })
	ev := out.waitFor(t, "Listening event", func(_ string, ev event) bool { return ev.Port != 0 })
	d.base = "http://127.0.0.1:" + strconv.Itoa(ev.Port)
	return d
}

// status returns the HTTP status of GET path.
func (d *daemon) status(t *testing.T, path string) int {
	t.Helper()
	resp, err := http.Get(d.base + path)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// freePort returns a port nothing listens on (for a store that is not there).
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
