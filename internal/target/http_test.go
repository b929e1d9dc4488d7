package target

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// request is what the test server saw of one request.
type request struct {
	method, path, body string
	header             http.Header
}

// recorder serves status and body, and records every request.
func recorder(t *testing.T, status int, body string) (*httptest.Server, <-chan request) {
	t.Helper()
	seen := make(chan request, 16)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		seen <- request{r.Method, r.URL.RequestURI(), string(b), r.Header.Clone()}
		w.WriteHeader(status)
		io.WriteString(w, body)
	}))
	t.Cleanup(srv.Close)
	return srv, seen
}

func httpInvocation() Invocation {
	return Invocation{Job: "report", Tick: time.Date(2026, 11, 1, 5, 30, 0, 250e6, time.UTC), Term: 7, Node: "n2", RunID: "r1"}
}

func TestHTTPRequestCarriesTheRun(t *testing.T) {
	srv, seen := recorder(t, http.StatusAccepted, "queued")
	h := HTTP{URL: srv.URL + "/hooks/report?token=abc", Headers: map[string]string{"Authorization": "Bearer s3cret", "Content-Type": "application/json"}, Body: `{"full":true}`}
	res, err := h.Run(context.Background(), httpInvocation())
	if err != nil || res.Status != "HTTP 202" || res.Tail != "queued" {
		t.Fatalf("%+v, %v", res, err)
	}
	r := <-seen
	want := map[string]string{
		"X-Job-Name": "report", "X-Job-Tick": "2026-11-01T05:30:00.25Z", "X-Job-Term": "7", "X-Job-Node": "n2",
		"Idempotency-Key": "report/2026-11-01T05:30:00.25Z", "Authorization": "Bearer s3cret", "Content-Type": "application/json",
	}
	for k, v := range want {
		if got := r.header.Get(k); got != v {
			t.Errorf("header %s: %q, want %q", k, got, v)
		}
	}
	if r.method != "POST" || r.path != "/hooks/report?token=abc" || r.body != `{"full":true}` {
		t.Errorf("request %s %s %q", r.method, r.path, r.body)
	}
}

func TestHTTPStatuses(t *testing.T) {
	for _, c := range []struct {
		status  int
		success []int
		method  string
		ok      bool
	}{
		{200, nil, "", true},
		{299, nil, "GET", true},
		{503, nil, "", false},
		{302, nil, "", false}, // redirects are not followed
		{409, []int{200, 409}, "PUT", true},
		{200, []int{204}, "", false},
	} {
		srv, seen := recorder(t, c.status, strings.Repeat("b", 5000)+"end")
		h := HTTP{URL: srv.URL, Method: c.method, Success: c.success}
		res, err := h.Run(context.Background(), httpInvocation())
		r := <-seen
		if want := cmp.Or(c.method, "POST"); r.method != want {
			t.Errorf("method %q sent as %s, want %s", c.method, r.method, want)
		}
		if res.Status != fmt.Sprintf("HTTP %d", c.status) || len(res.Tail) != TailBytes || !strings.HasSuffix(res.Tail, "bend") {
			t.Errorf("%d: status %q, tail of %d bytes", c.status, res.Status, len(res.Tail))
		}
		switch {
		case c.ok && err != nil:
			t.Errorf("%d with success %v: %v", c.status, c.success, err)
		case !c.ok && (!errors.Is(err, ErrFailed) || !strings.Contains(err.Error(), fmt.Sprintf("failed: HTTP %d", c.status))):
			t.Errorf("%d with success %v: %v; want a failure naming the status", c.status, c.success, err)
		}
	}
}

func TestHTTPUnreachable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	res, err := HTTP{URL: "http://user:pw@" + addr + "/hook?token=s3cret"}.Run(context.Background(), httpInvocation())
	if res.Status != StatusUnreachable || !errors.Is(err, ErrUnreachable) {
		t.Fatalf("%+v, %v; want unreachable", res, err)
	}
	msg := err.Error()
	if !strings.Contains(msg, "POST http://user:xxxxx@"+addr+"/hook unreachable") || !strings.Contains(msg, "connection refused") || strings.Contains(msg, "s3cret") || strings.Contains(msg, ":pw@") {
		t.Fatalf("error %q: want the method, the URL without query or password, and the cause", msg)
	}
}

// TestHTTPCancelled: the request ends when the run's context does.
func TestHTTPCancelled(t *testing.T) {
	arrived := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(arrived)
		<-r.Context().Done() // answers only when the client goes away
	}))
	defer srv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { _, err := HTTP{URL: srv.URL}.Run(ctx, httpInvocation()); done <- err }()
	<-arrived
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) || errors.Is(err, ErrUnreachable) || !strings.Contains(err.Error(), "stopped before an answer") {
		t.Fatalf("%v; want the cancel", err)
	}
}

func TestHTTPInvalid(t *testing.T) {
	for _, u := range []string{"", "ftp://host/x", "http:///path", "://x"} {
		res, err := HTTP{URL: u}.Run(context.Background(), httpInvocation())
		if !errors.Is(err, ErrInvalid) || res.Status != StatusNotStarted {
			t.Errorf("URL %q: %+v, %v; want invalid", u, res, err)
		}
	}
}

// TestStringsHideSecrets: env and header values, queries and passwords
// never show, whatever the verb.
func TestStringsHideSecrets(t *testing.T) {
	c := Command{Argv: []string{"pg_dump", "--password=argsecret"}, Env: map[string]string{"PGPASSWORD": "envsecret"}, Dir: "/data"}
	h := HTTP{URL: "https://u:pwsecret@example.com/hook?token=querysecret", Headers: map[string]string{"Authorization": "Bearer headersecret"}, Body: "bodysecret"}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
		for _, v := range []any{c, h, &c, &h} {
			s := fmt.Sprintf(verb, v)
			for _, secret := range []string{"argsecret", "envsecret", "pwsecret", "querysecret", "headersecret", "bodysecret"} {
				if strings.Contains(s, secret) {
					t.Errorf("%s of %T shows %s: %s", verb, v, secret, s)
				}
			}
		}
	}
	if s := c.String(); !strings.Contains(s, `"pg_dump"`) || !strings.Contains(s, "PGPASSWORD") || !strings.Contains(s, "/data") {
		t.Errorf("command: %s", s)
	}
	if s := h.String(); !strings.Contains(s, "POST https://u:xxxxx@example.com/hook") || !strings.Contains(s, "Authorization") {
		t.Errorf("http: %s", s)
	}
}
