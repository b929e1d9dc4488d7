package emulator

import (
	"context"
	"testing"

	"cloud.google.com/go/datastore"
	pb "cloud.google.com/go/datastore/apiv1/datastorepb"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
)

const testProject = "test-project"

// start runs an in-process emulator for the test.
func start(t *testing.T, opts Options) *Server {
	t.Helper()
	s, err := Start("127.0.0.1:0", opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// client is a real datastore client on s's (default or named) database.
func client(t *testing.T, s *Server, database string) *datastore.Client {
	t.Helper()
	c, err := datastore.NewClientWithDatabase(t.Context(), testProject, database, s.ClientOptions()...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// setup starts an emulator and a client on its default database.
func setup(t *testing.T) (*Server, *datastore.Client, context.Context) {
	s := start(t, Options{})
	return s, client(t, s, ""), t.Context()
}

// raw is a bare gRPC client, for checking protocol details.
func raw(t *testing.T, s *Server) pb.DatastoreClient {
	t.Helper()
	conn, err := grpc.NewClient(s.Addr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return pb.NewDatastoreClient(conn)
}

func wantCode(t *testing.T, err error, want codes.Code) {
	t.Helper()
	if got := status.Code(err); got != want {
		t.Fatalf("got error %v (code %v), want code %v", err, got, want)
	}
}
