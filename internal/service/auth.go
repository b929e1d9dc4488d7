package service

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"strings"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// auth requires "authorization: Bearer <token>" on every call but the
// health service's (probes carry no token), when a token is set.
type auth struct{ token string }

// healthPrefix is the gRPC health service's method prefix.
var healthPrefix = "/" + healthpb.Health_ServiceDesc.ServiceName + "/"

func (a auth) check(ctx context.Context, method string) error {
	if a.token == "" || strings.HasPrefix(method, healthPrefix) {
		return nil
	}
	md, _ := metadata.FromIncomingContext(ctx)
	for _, v := range md.Get("authorization") {
		scheme, got, ok := strings.Cut(v, " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") {
			continue
		}
		// Hashes first, so that the comparison takes the same time whatever
		// the lengths.
		g, w := sha256.Sum256([]byte(strings.TrimSpace(got))), sha256.Sum256([]byte(a.token))
		if subtle.ConstantTimeCompare(g[:], w[:]) == 1 {
			return nil
		}
		return status.Error(codes.Unauthenticated, "wrong bearer token (the server's LEASE_TOKEN)")
	}
	return status.Error(codes.Unauthenticated, `this server requires the metadata "authorization: Bearer <token>" (its LEASE_TOKEN)`)
}

func (a auth) unary(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
	if err := a.check(ctx, info.FullMethod); err != nil {
		return nil, err
	}
	return h(ctx, req)
}

func (a auth) stream(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, h grpc.StreamHandler) error {
	if err := a.check(ss.Context(), info.FullMethod); err != nil {
		return err
	}
	return h(srv, ss)
}
