package service_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	rpb "google.golang.org/grpc/reflection/grpc_reflection_v1"

	pb "go-leader-election/api/leaderelection/v1"
	"go-leader-election/internal/service"
)

// TestServe runs serve as main would, on free ports, and checks what an
// operator sees: the ports logged, the HTTP probes and metrics, the API
// with the token, reflection, and a clean stop.
func TestServe(t *testing.T) {
	env := map[string]string{"GRPC_PORT": "0", "APP_PORT": "0", "LEASE_TOKEN": "s3cret", "NODE_NAME": "le-0"}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out, lines := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- service.Main(ctx, nil, func(k string) string { return env[k] }, lines, io.Discard)
		lines.Close()
	}()
	events := make(chan map[string]any, 100)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			var ev map[string]any
			if json.Unmarshal(sc.Bytes(), &ev) == nil {
				events <- ev
			}
		}
		close(events)
	}()
	var grpcPort, httpPort int
	for ev := range events {
		if ev["message"] == "Store selected" && ev["store"] != "memory" {
			t.Errorf("Store selected: %v; want memory", ev)
		}
		if p, ok := ev["grpc_port"].(float64); ok {
			grpcPort, httpPort = int(p), int(ev["port"].(float64))
			break
		}
	}
	if grpcPort == 0 || httpPort == 0 {
		t.Fatalf("no Listening event with both ports (%d, %d)", grpcPort, httpPort)
	}
	addr := fmt.Sprintf("127.0.0.1:%d", grpcPort)
	api := dial(t, addr, "s3cret")
	if r, err := api.TryBecomeLeader(ctx, &pb.TryBecomeLeaderRequest{Election: "e", NodeId: "a", Ttl: ttl(time.Minute)}); err != nil || !r.Leader {
		t.Fatalf("TryBecomeLeader: %v, %v", r, err)
	}
	get := func(path string) (int, string) {
		t.Helper()
		resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d%s", httpPort, path))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	for _, path := range []string{"/healthz", "/readyz"} {
		if code, body := get(path); code != 200 {
			t.Errorf("GET %s: %d %s", path, code, body)
		}
	}
	if code, body := get("/metrics"); code != 200 || !strings.Contains(body, `leaderelection_requests_total{code="OK",method="TryBecomeLeader"} 1`) ||
		!strings.Contains(body, `leaderelection_store_requests_total{op="claim",result="ok"} 1`) {
		t.Errorf("GET /metrics: %d, missing the request and store counters:\n%s", code, body)
	}
	// Reflection (grpcurl), with the token.
	cc, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()), grpc.WithPerRPCCredentials(bearer("s3cret")))
	if err != nil {
		t.Fatal(err)
	}
	defer cc.Close()
	rs, err := rpb.NewServerReflectionClient(cc).ServerReflectionInfo(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := rs.Send(&rpb.ServerReflectionRequest{MessageRequest: &rpb.ServerReflectionRequest_ListServices{}}); err != nil {
		t.Fatal(err)
	}
	resp, err := rs.Recv()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range resp.GetListServicesResponse().GetService() {
		names = append(names, s.GetName())
	}
	if got := strings.Join(names, " "); !strings.Contains(got, "leaderelection.v1.LeaderElection") || !strings.Contains(got, "grpc.health.v1.Health") {
		t.Errorf("reflection lists %q", got)
	}
	_ = rs.CloseSend()

	cancel() // SIGTERM
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Main: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Main did not return within 10s of the signal")
	}
	stopped := false
	for ev := range events {
		stopped = stopped || ev["message"] == "Stopped"
	}
	if !stopped {
		t.Error("no Stopped event")
	}
}

func TestServeConfigErrorsNameTheVariable(t *testing.T) {
	for _, c := range []struct {
		env  map[string]string
		args []string
		want string
	}{
		{map[string]string{"GRPC_PORT": "fifty"}, nil, `GRPC_PORT: bad value "fifty"`},
		{map[string]string{"GRPC_PORT": "70000"}, nil, `GRPC_PORT: bad value "70000"`},
		{map[string]string{"GRPC_PORT": "3000"}, nil, `GRPC_PORT: bad value "3000": APP_PORT is the same port`},
		{map[string]string{"ELECTION_KIND": "Lease"}, nil, `ELECTION_KIND: bad value "Lease": must differ from DATASTORE_KIND`},
		{map[string]string{"ELECTION_KIND": "__kind__"}, nil, `ELECTION_KIND: bad value "__kind__"`},
		{map[string]string{"DATASTORE_KIND": "Election"}, nil, `ELECTION_KIND: bad value "Election": must differ from DATASTORE_KIND`},
		{map[string]string{"STORE_TIMEOUT": "0s"}, nil, `STORE_TIMEOUT: bad value "0s": must be positive`},
		{map[string]string{"TLS_CERT_FILE": "/c.pem"}, nil, `TLS_CERT_FILE is set ("/c.pem") but TLS_KEY_FILE is not`},
		{map[string]string{"TLS_KEY_FILE": "/k.pem"}, nil, `TLS_KEY_FILE is set ("/k.pem") but TLS_CERT_FILE is not`},
		{map[string]string{"TLS_CLIENT_CA_FILE": "/ca.pem"}, nil, `TLS_CLIENT_CA_FILE is set ("/ca.pem") but TLS_CERT_FILE and TLS_KEY_FILE are not`},
		{map[string]string{"GRPC_PORT": "0", "APP_PORT": "0", "TLS_CERT_FILE": "/nonexistent/c.pem", "TLS_KEY_FILE": "/nonexistent/k.pem"}, nil, `TLS_CERT_FILE: stat /nonexistent/c.pem: no such file or directory`},
		{map[string]string{"STORE": "redis"}, nil, `STORE: bad value "redis"`},
		{map[string]string{"STORE": "datastore"}, nil, `STORE=datastore needs DATASTORE_PROJECT_ID`},
		{nil, []string{"extra"}, `serve: unexpected argument "extra"`},
	} {
		err := service.Main(context.Background(), c.args, func(k string) string { return c.env[k] }, io.Discard, io.Discard)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v %v: %v; want an error containing %q", c.env, c.args, err, c.want)
		}
	}
}

// serve reads its own variables and the store's, nothing of the daemon's:
// a bad job schedule or lease timing does not stop it.
func TestServeIgnoresTheDaemonsVariables(t *testing.T) {
	env := map[string]string{"GO_PREACHER_SCHEDULE": "every tuesday-ish", "LEASE_DURATION": "2s", "HISTORY_LIMIT": "-1",
		"ADMIN_TOKEN": "short", "BALANCE": "maybe", "CLOCK_OFFSET": "a while", "STORE_TIMEOUT": "3s"}
	c, err := service.LoadConfig(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if c.StoreTimeout != 3*time.Second || c.Kind != service.DefaultKind || c.GRPCPort != service.DefaultGRPCPort {
		t.Fatalf("config %+v", c)
	}
}

// serve -h states the defaults the code uses.
func TestServeHelpStatesTheDefaults(t *testing.T) {
	var help strings.Builder
	if err := service.Main(context.Background(), []string{"-h"}, func(string) string { return "" }, io.Discard, &help); err != nil {
		t.Fatal(err)
	}
	c, err := service.LoadConfig(func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		fmt.Sprintf("(default %s)", c.StoreTimeout), fmt.Sprintf("(default %d;", c.GRPCPort),
		fmt.Sprintf("(default %d)", c.Port), fmt.Sprintf("(default %s)", c.Kind),
	} {
		if !strings.Contains(help.String(), want) {
			t.Errorf("serve -h does not say %q:\n%s", want, help.String())
		}
	}
}
