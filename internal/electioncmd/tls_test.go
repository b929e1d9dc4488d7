package electioncmd

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"

	"github.com/rs/zerolog"
	"google.golang.org/grpc"

	"go-leader-election/electionclient"
	"go-leader-election/internal/service"
	"go-leader-election/internal/testcert"
	"go-leader-election/internal/tlsfiles"
	"go-leader-election/store/memory"
)

// tlsServer serves the service with TLS from the files in dir, requiring
// client certificates signed by its CA, as serve does, until t ends. It
// returns the address and the files of a client certificate.
func tlsServer(t *testing.T) (addr string, client testcert.Files) {
	t.Helper()
	dir := t.TempDir()
	ca := testcert.NewCA(t, "test CA")
	sf := ca.Issue(t, testcert.Localhost("lease server")).Write(t, dir, "server", ca)
	w, err := tlsfiles.New(tlsfiles.Files{
		Cert: tlsfiles.File{Path: sf.Cert, Name: "TLS_CERT_FILE"}, Key: tlsfiles.File{Path: sf.Key, Name: "TLS_KEY_FILE"},
		CA: tlsfiles.File{Path: sf.CA, Name: "TLS_CLIENT_CA_FILE"},
	}, tlsfiles.Options{})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := service.New(service.Options{Store: memory.New(), Sessions: memory.New()})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	g := srv.GRPCServer(grpc.Creds(service.TLSCredentials(w.ServerConfig(), zerolog.Nop())))
	go func() { _ = g.Serve(ln) }()
	t.Cleanup(func() { srv.Close(); g.Stop() })
	return ln.Addr().String(), ca.Issue(t, testcert.Options{Name: "lock", Client: true}).Write(t, dir, "client", ca)
}

func TestLockAndLeaderOverMutualTLS(t *testing.T) {
	addr, cf := tlsServer(t)
	tlsArgs := []string{"--server", addr, "--tls-ca", cf.CA, "--tls-cert", cf.Cert, "--tls-key", cf.Key}
	var out, errs syncBuffer
	if err := Lock(context.Background(), append(tlsArgs, "prod", "--", "sh", "-c", "echo $LEADER_TERM"), noEnv, &out, &errs); err != nil {
		t.Fatalf("lock over mTLS: %v\n%s", err, errs.String())
	}
	if out.String() != "1\n" {
		t.Fatalf("the command printed %q, want term 1", out.String())
	}
	out = syncBuffer{}
	var exit *ExitError
	if err := Leader(context.Background(), append(tlsArgs, "prod"), noEnv, &out, &errs); !errors.As(err, &exit) || exit.Code != 3 ||
		out.String() != "election=prod leader= term=1\n" {
		t.Fatalf("leader over mTLS: %v, %q", err, out.String())
	}
}

// Each TLS refusal ends lock at once, without starting the command,
// naming the cause; bad TLS flags end it before it dials.
func TestLockTLSRefusalsExitAtOnce(t *testing.T) {
	addr, cf := tlsServer(t)
	for _, tc := range []struct {
		name string
		args []string
		want string
		is   error
	}{
		{"plaintext", nil, "the server speaks TLS and this client does not", electionclient.ErrServerWantsTLS},
		{"no client certificate", []string{"--tls-ca", cf.CA}, "the server requires a client certificate, and this client has none", electionclient.ErrClientCertificate},
		{"unknown CA", []string{"--tls-ca", cf.Cert /* the client's own certificate: not a CA */, "--tls-cert", cf.Cert, "--tls-key", cf.Key}, "certificate signed by unknown authority", electionclient.ErrServerCertificate},
		{"system CAs", []string{"--tls-server-name", "localhost"}, "certificate signed by unknown authority", electionclient.ErrServerCertificate},
		{"half a key pair", []string{"--tls-cert", cf.Cert}, "--tls-cert and --tls-key: give both", nil},
		{"no such CA file", []string{"--tls-ca", cf.CA + ".missing"}, "--tls-ca: stat " + cf.CA + ".missing", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out, errs syncBuffer
			err := Lock(context.Background(), append(append([]string{"--server", addr}, tc.args...), "prod", "--", "echo", "ran"), noEnv, &out, &errs)
			if err == nil || !strings.Contains(err.Error(), tc.want) || (tc.is != nil && !errors.Is(err, tc.is)) {
				t.Fatalf("lock: %v, want an error saying %q\n%s", err, tc.want, errs.String())
			}
			if out.String() != "" || strings.Contains(errs.String(), "retrying") {
				t.Fatalf("lock ran the command or retried: %q\n%s", out.String(), errs.String())
			}
		})
	}
}
