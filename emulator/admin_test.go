package emulator

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"cloud.google.com/go/datastore"
	"google.golang.org/grpc/codes"
)

func httpDo(t *testing.T, method, url, body string) string {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s %s: %s %s", method, url, resp.Status, b)
	}
	return string(b)
}

// TestMainCommand runs the subcommand: it prints gcloud's env lines, serves the
// real client through DATASTORE_EMULATOR_HOST and the admin API, and
// returns on POST /shutdown.
func TestMainCommand(t *testing.T) {
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- Main(context.Background(), []string{"--host-port=127.0.0.1:0", "--project", "p1"}, pw, io.Discard)
		pw.Close()
	}()
	env := map[string]string{}
	sc := bufio.NewScanner(pr)
	for len(env) < 5 && sc.Scan() {
		k, v, ok := strings.Cut(strings.TrimPrefix(sc.Text(), "export "), "=")
		if !ok {
			t.Fatalf("unexpected line %q", sc.Text())
		}
		env[k] = v
	}
	go io.Copy(io.Discard, pr)
	host := env["DATASTORE_EMULATOR_HOST"]
	if env["DATASTORE_PROJECT_ID"] != "p1" || env["DATASTORE_DATASET"] != "p1" ||
		env["DATASTORE_HOST"] != "http://"+host || env["DATASTORE_EMULATOR_HOST_PATH"] != host+"/datastore" ||
		strings.HasSuffix(host, ":0") {
		t.Fatalf("env lines %v", env)
	}
	base := "http://" + host

	if got := httpDo(t, "GET", base+"/", ""); strings.TrimSpace(got) != "Ok" {
		t.Errorf("GET / = %q", got)
	}
	// The printed REST endpoints serve the REST API.
	for _, url := range []string{env["DATASTORE_HOST"], "http://" + env["DATASTORE_EMULATOR_HOST_PATH"]} {
		got := httpDo(t, "POST", url+"/v1/projects/p1:lookup", `{"keys":[{"path":[{"kind":"K","name":"a"}]}]}`)
		if !strings.Contains(got, `"missing"`) {
			t.Errorf("REST lookup at %s: %s", url, got)
		}
	}

	t.Setenv("DATASTORE_EMULATOR_HOST", host)
	c, err := datastore.NewClient(t.Context(), "p1")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	k := datastore.NameKey("K", "a", nil)
	if _, err := c.Put(t.Context(), k, &counter{N: 1}); err != nil {
		t.Fatal(err)
	}
	httpDo(t, "POST", base+"/reset", "")
	if err := c.Get(t.Context(), k, &counter{}); err != datastore.ErrNoSuchEntity {
		t.Errorf("after /reset: %v", err)
	}

	httpDo(t, "POST", base+"/shutdown", "")
	if err := <-done; err != nil {
		t.Errorf("Main returned %v", err)
	}
}

func TestMainBadFlags(t *testing.T) {
	for _, args := range [][]string{{"--nope"}, {"--fault=Bogus:latency=1s"}, {"--fault=Commit:error=WAT"}, {"extra"}} {
		if err := Main(t.Context(), args, io.Discard, io.Discard); err == nil {
			t.Errorf("Main(%q) succeeded", args)
		}
	}
}

func TestMainContextStops(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- Main(ctx, []string{"--host-port", "127.0.0.1:0", "--fault=*:latency=1ms"}, pw, io.Discard)
		pw.Close()
	}()
	if !bufio.NewScanner(pr).Scan() {
		t.Fatal("no output")
	}
	go io.Copy(io.Discard, pr)
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Main returned %v", err)
	}
}

func TestFaults(t *testing.T) {
	s, c, ctx := setup(t)
	k := datastore.NameKey("K", "a", nil)
	// A code the client does not retry reaches it as injected.
	s.Faults().Set(Fault{Method: "Commit", Code: codes.PermissionDenied, Count: 1})
	_, err := c.Put(ctx, k, &counter{N: 1})
	wantCode(t, err, codes.PermissionDenied)
	if _, err := c.Put(ctx, k, &counter{N: 1}); err != nil {
		t.Errorf("after the fault's count ran out: %v", err)
	}
	if err := c.Delete(ctx, k); err != nil {
		t.Fatal(err)
	}
	// Lookup is retried on UNAVAILABLE by the client: a single fault is
	// absorbed, and the server saw both calls.
	before := s.Calls()["Lookup"]
	s.Faults().Set(Fault{Method: "Lookup", Code: codes.Unavailable, Count: 1})
	if err := c.Get(ctx, k, &counter{}); err != datastore.ErrNoSuchEntity {
		t.Errorf("Get with one UNAVAILABLE, retried: %v", err)
	}
	if got := s.Calls()["Lookup"] - before; got != 2 {
		t.Errorf("%d Lookup calls, want 2 (the fault, then the retry)", got)
	}

	s.Faults().Set(Fault{Method: "*", Latency: 50 * time.Millisecond, Count: 1})
	begin := time.Now()
	if err := c.Get(ctx, k, &counter{}); err != datastore.ErrNoSuchEntity {
		t.Fatal(err)
	}
	if d := time.Since(begin); d < 50*time.Millisecond {
		t.Errorf("a 50ms latency fault took %v", d)
	}
	if calls := s.Calls(); calls["Lookup"] != 3 {
		t.Errorf("calls = %v", calls)
	}

	// The admin API.
	base := "http://" + s.Addr()
	httpDo(t, "POST", base+"/faults", `{"method":"Commit","latency":"1ms","error":"ABORTED","rate":1,"count":3}`)
	var rules []Fault
	if err := json.Unmarshal([]byte(httpDo(t, "GET", base+"/faults", "")), &rules); err != nil {
		t.Fatal(err)
	}
	want := Fault{Method: "Commit", Latency: time.Millisecond, Code: codes.Aborted, Rate: 1, Count: 3}
	if len(rules) != 1 || rules[0] != want {
		t.Fatalf("rules = %+v", rules)
	}
	_, err = c.Put(ctx, k, &counter{})
	wantCode(t, err, codes.Aborted)
	httpDo(t, "DELETE", base+"/faults", "")
	if _, err := c.Put(ctx, k, &counter{}); err != nil {
		t.Errorf("after DELETE /faults: %v", err)
	}
}

func TestParseFault(t *testing.T) {
	got, err := ParseFault("Lookup:error=deadline_exceeded,rate=0.5,latency=2s,count=4")
	want := Fault{Method: "Lookup", Code: codes.DeadlineExceeded, Rate: 0.5, Latency: 2 * time.Second, Count: 4}
	if err != nil || got != want {
		t.Errorf("ParseFault = %+v, %v", got, err)
	}
	b, _ := json.Marshal(want)
	if string(b) != `{"method":"Lookup","latency":"2s","error":"DEADLINE_EXCEEDED","rate":0.5,"count":4}` {
		t.Errorf("JSON %s", b)
	}
	for _, bad := range []string{"Lookup:rate=2", "Lookup:when=now", "Nope:latency=1s", "Commit:latency=x"} {
		if _, err := ParseFault(bad); err == nil {
			t.Errorf("ParseFault(%q) succeeded", bad)
		}
	}
}

func TestPersistence(t *testing.T) {
	dir := t.TempDir()
	s := start(t, Options{DataDir: dir})
	c := client(t, s, "db2")
	k := datastore.NameKey("K", "a", nil)
	k.Namespace = "ns"
	tick := time.Date(2024, 1, 1, 0, 0, 0, 5000, time.UTC)
	if _, err := c.Put(t.Context(), k, &lease{Holder: "h", Tick: tick}); err != nil {
		t.Fatal(err)
	}
	inc, err := c.Put(t.Context(), datastore.IncompleteKey("K", nil), &lease{})
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	s.Close()

	s2 := start(t, Options{DataDir: dir})
	c2 := client(t, s2, "db2")
	var got lease
	if err := c2.Get(t.Context(), k, &got); err != nil || got.Holder != "h" || !got.Tick.Equal(tick) {
		t.Fatalf("after restart: %+v, %v", got, err)
	}
	next, err := c2.Put(t.Context(), datastore.IncompleteKey("K", nil), &lease{})
	if err != nil || next.ID == inc.ID {
		t.Errorf("id reused after restart: %v, %v", next, err)
	}
}

// TestFaultsRefuseUnknownFields: a misspelt key in POST /faults is a 400
// naming it, and installs nothing, rather than a rule that does nothing.
func TestFaultsRefuseUnknownFields(t *testing.T) {
	s := start(t, Options{})
	base := "http://" + s.Addr()
	for body, want := range map[string]string{
		`{"method":"Commit","errr":"UNAVAILABLE"}`:   `"errr"`,
		`{"method":"Commit","latncy":"1s"}`:          `"latncy"`,
		`{"method":"Commit","error":"UNAVAILABLE"}x`: "", // trailing garbage is ignored, as before
	} {
		resp, err := http.Post(base+"/faults", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if want == "" {
			if resp.StatusCode != http.StatusOK {
				t.Errorf("POST /faults %s: %s %s, want 200", body, resp.Status, b)
			}
			continue
		}
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(b), want) {
			t.Errorf("POST /faults %s: %s %q, want 400 naming %s", body, resp.Status, b, want)
		}
	}
	if rules := s.Faults().Rules(); len(rules) != 1 || rules[0].Code != codes.Unavailable {
		t.Errorf("rules after the refused bodies: %+v, want only the valid one", rules)
	}
	var f Fault
	if err := json.Unmarshal([]byte(`{"method":"Commit","rte":0.5}`), &f); err == nil || !strings.Contains(err.Error(), `"rte"`) {
		t.Errorf("Fault.UnmarshalJSON with an unknown field: %v, want an error naming it", err)
	}
}

// TestMainBadHostPortNamesTheFlag: a bad --host-port is refused naming the
// flag and its value.
func TestMainBadHostPortNamesTheFlag(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	for _, hp := range []string{"bad", "localhost:99999", l.Addr().String()} {
		err := Main(t.Context(), []string{"--host-port=" + hp}, io.Discard, io.Discard)
		if err == nil || !strings.Contains(err.Error(), "--host-port="+hp) {
			t.Errorf("--host-port=%s: %v, want an error naming the flag and value", hp, err)
		}
	}
}
