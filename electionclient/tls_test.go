package electionclient_test

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"go-leader-election/electionclient"
	"go-leader-election/internal/service"
	"go-leader-election/internal/testcert"
	"go-leader-election/store/memory"
)

// startTLSServer serves a lease server with cfg's TLS on a loopback port
// until t ends.
func startTLSServer(t *testing.T, cfg *tls.Config) string {
	t.Helper()
	srv, err := service.New(service.Options{Store: memory.New()})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	g := srv.GRPCServer(grpc.Creds(service.TLSCredentials(cfg, zerolog.Nop())))
	go func() { _ = g.Serve(ln) }()
	t.Cleanup(func() { srv.Close(); g.Stop() })
	return ln.Addr().String()
}

// pki is a CA, a server certificate for loopback and a client certificate
// it signed.
type pki struct {
	ca             *testcert.CA
	server, client testcert.Pair
}

func newPKI(t *testing.T) pki {
	ca := testcert.NewCA(t, "test CA")
	return pki{ca: ca, server: ca.Issue(t, testcert.Localhost("lease server")), client: ca.Issue(t, testcert.Options{Name: "lock", Client: true})}
}

func keyPair(t *testing.T, p testcert.Pair) tls.Certificate {
	c, err := tls.X509KeyPair(p.CertPEM, p.KeyPEM)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func pool(ca *testcert.CA) *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(ca.Cert)
	return p
}

// serverConfig requires client certificates signed by clientCA, if set.
func (p pki) serverConfig(t *testing.T, clientCA *testcert.CA) *tls.Config {
	c := &tls.Config{Certificates: []tls.Certificate{keyPair(t, p.server)}}
	if clientCA != nil {
		c.ClientCAs, c.ClientAuth = pool(clientCA), tls.RequireAndVerifyClientCert
	}
	return c
}

func TestMutualTLSCampaign(t *testing.T) {
	p := newPKI(t)
	addr := startTLSServer(t, p.serverConfig(t, p.ca))
	c := newClient(t, electionclient.Config{Servers: []string{addr}, TLS: &tls.Config{
		RootCAs: pool(p.ca), Certificates: []tls.Certificate{keyPair(t, p.client)},
	}})
	lead, err := election(t, c, "e", "a", 2*time.Second).Campaign(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := lead.Resign(ctxT(t)); err != nil {
		t.Fatal(err)
	}
}

// Each TLS refusal fails the first call at once, without a retry, with a
// *CallError matching its sentinel and naming the cause.
func TestTLSRefusalsFailAtOnce(t *testing.T) {
	p := newPKI(t)
	other := testcert.NewCA(t, "another CA")
	mtls := startTLSServer(t, p.serverConfig(t, p.ca))
	plain := startServer(t, nil, "", "").addr
	stranger := other.Issue(t, testcert.Options{Name: "stranger", Client: true})
	for _, tc := range []struct {
		name   string
		server string
		tls    *tls.Config
		want   error
		says   string
	}{
		{"plaintext client, TLS server", mtls, nil, electionclient.ErrServerWantsTLS, "the server speaks TLS and this client does not"},
		{"TLS client, plaintext server", plain, &tls.Config{RootCAs: pool(p.ca)}, electionclient.ErrServerNotTLS, "the server does not speak TLS"},
		{"unknown CA", mtls, &tls.Config{RootCAs: pool(other)}, electionclient.ErrServerCertificate, "certificate signed by unknown authority"},
		{"another name", mtls, &tls.Config{RootCAs: pool(p.ca), ServerName: "le.example.com"}, electionclient.ErrServerCertificate, "le.example.com"},
		{"no client certificate", mtls, &tls.Config{RootCAs: pool(p.ca)}, electionclient.ErrClientCertificate, "the server requires a client certificate, and this client has none"},
		// crypto/tls sends no certificate the server's CAs did not sign...
		{"client certificate of another CA", mtls, &tls.Config{RootCAs: pool(p.ca), Certificates: []tls.Certificate{keyPair(t, stranger)}},
			electionclient.ErrClientCertificate, "the server requires a client certificate signed by a CA it trusts, and this client has none such"},
		// ... unless the program chooses it.
		{"client certificate of another CA, chosen", mtls, &tls.Config{RootCAs: pool(p.ca),
			GetClientCertificate: func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { c := keyPair(t, stranger); return &c, nil }},
			electionclient.ErrClientCertificate, "the server refused this client's certificate"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var retries atomic.Int32
			c := newClient(t, electionclient.Config{Servers: []string{tc.server}, TLS: tc.tls,
				OnRetry: func(r electionclient.Retry) { retries.Add(1); t.Logf("retry: %v", r.Err) }})
			_, err := election(t, c, "e", "a", 2*time.Second).Campaign(ctxT(t))
			var ce *electionclient.CallError
			if !errors.As(err, &ce) || !errors.Is(err, tc.want) || !errors.Is(err, electionclient.ErrTLS) {
				t.Fatalf("Campaign: %v, want a *CallError matching %v", err, tc.want)
			}
			if !strings.Contains(err.Error(), tc.says) || !strings.Contains(err.Error(), tc.server) {
				t.Errorf("Campaign: %q, want it to name the server and say %q", err, tc.says)
			}
			if status.Code(err) != codes.Unavailable {
				t.Errorf("status.Code = %s, want the call's Unavailable", status.Code(err))
			}
			t.Log(err)
			if n := retries.Load(); n != 0 {
				t.Errorf("%d retries, want none", n)
			}
		})
	}
}

// A TLS server that is down is retried as a plaintext one is, and a
// refusal once mended (here: the server starts) is forgotten.
func TestTLSServerDownIsRetried(t *testing.T) {
	p := newPKI(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens: connection refused
	retried := make(chan struct{}, 1)
	c := newClient(t, electionclient.Config{Servers: []string{addr}, TLS: &tls.Config{RootCAs: pool(p.ca)},
		OnRetry: func(electionclient.Retry) {
			select {
			case retried <- struct{}{}:
			default:
			}
		}})
	won := make(chan error, 1)
	go func() {
		_, err := election(t, c, "e", "a", 2*time.Second).Campaign(ctxT(t))
		won <- err
	}()
	<-retried
	srv, err := service.New(service.Options{Store: memory.New()})
	if err != nil {
		t.Fatal(err)
	}
	ln, err = net.Listen("tcp", addr)
	if err != nil {
		t.Skipf("the port was taken meanwhile: %v", err)
	}
	g := srv.GRPCServer(grpc.Creds(service.TLSCredentials(p.serverConfig(t, nil), zerolog.Nop())))
	go func() { _ = g.Serve(ln) }()
	t.Cleanup(func() { srv.Close(); g.Stop() })
	if err := <-won; err != nil {
		t.Fatalf("Campaign after the server started: %v", err)
	}
}
