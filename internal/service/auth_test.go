package service_test

import (
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	pb "go-leader-election/api/leaderelection/v1"
	"go-leader-election/internal/service"
)

func TestTokenIsRequired(t *testing.T) {
	ctx := ctxT(t)
	ts := start(t, service.Options{Token: "s3cret"})
	req := &pb.TryBecomeLeaderRequest{Election: "e", NodeId: "a", Ttl: ttl(10 * time.Second)}
	for _, c := range []struct{ name, token, want string }{
		{"no token", "", "requires the metadata"},
		{"wrong token", "guess", "wrong bearer token"},
		{"a prefix of it", "s3cre", "wrong bearer token"},
	} {
		_, err := dial(t, ts.addr, c.token).TryBecomeLeader(ctx, req)
		if status.Code(err) != codes.Unauthenticated || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v; want Unauthenticated, %q", c.name, err, c.want)
		}
		if err != nil && strings.Contains(err.Error(), "s3cret") {
			t.Errorf("%s: the error shows the token: %v", c.name, err)
		}
	}
	// Streams too.
	s, err := dial(t, ts.addr, "").Watch(ctx, &pb.WatchRequest{Election: "e"})
	if err == nil {
		_, err = s.Recv()
	}
	if status.Code(err) != codes.Unauthenticated {
		t.Errorf("watch without a token: %v; want Unauthenticated", err)
	}
	// Another scheme is no token.
	api := dial(t, ts.addr, "")
	_, err = api.TryBecomeLeader(metadata.AppendToOutgoingContext(ctx, "authorization", "Basic s3cret"), req)
	if status.Code(err) != codes.Unauthenticated {
		t.Errorf("Basic scheme: %v; want Unauthenticated", err)
	}
	if r, err := dial(t, ts.addr, "s3cret").TryBecomeLeader(ctx, req); err != nil || !r.Leader {
		t.Fatalf("with the token: %v, %v", r, err)
	}
}

// TestHealthNeedsNoToken: probes carry no token.
func TestHealthNeedsNoToken(t *testing.T) {
	ctx := ctxT(t)
	ts := start(t, service.Options{Token: "s3cret"})
	cc := healthClient(t, ts.addr)
	for _, svc := range []string{"", "leaderelection.v1.LeaderElection"} {
		r, err := cc.Check(ctx, &healthpb.HealthCheckRequest{Service: svc})
		if err != nil || r.Status != healthpb.HealthCheckResponse_SERVING {
			t.Fatalf("health of %q: %v, %v; want SERVING", svc, r, err)
		}
	}
	ts.Close()
	if r, err := cc.Check(ctx, &healthpb.HealthCheckRequest{}); err != nil || r.Status != healthpb.HealthCheckResponse_NOT_SERVING {
		t.Fatalf("health after Close: %v, %v; want NOT_SERVING", r, err)
	}
}
