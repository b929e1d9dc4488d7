package tlsfiles_test

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"go-leader-election/internal/testcert"
	"go-leader-election/internal/tlsfiles"
)

// server serves TLS with cfg on loopback: each connection gets one byte
// once the handshake is done; the server side's handshake errors are sent
// on errs.
func server(t *testing.T, cfg *tls.Config) (addr string, errs <-chan error) {
	t.Helper()
	ln, err := tls.Listen("tcp", "127.0.0.1:0", cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	ch := make(chan error, 100)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				err := c.(*tls.Conn).Handshake()
				if err == nil {
					_, err = c.Write([]byte{1})
				}
				ch <- err
			}()
		}
	}()
	return ln.Addr().String(), ch
}

// dial handshakes with addr and reads the server's byte; it returns the
// server's certificate.
func dial(addr string, cfg *tls.Config) (*x509.Certificate, error) {
	c, err := tls.Dial("tcp", addr, cfg)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	if _, err := c.Read(make([]byte, 1)); err != nil {
		return nil, err
	}
	return c.ConnectionState().PeerCertificates[0], nil
}

func files(f testcert.Files, ca bool) tlsfiles.Files {
	out := tlsfiles.Files{Cert: tlsfiles.File{Path: f.Cert, Name: "CERT"}, Key: tlsfiles.File{Path: f.Key, Name: "KEY"}}
	if ca {
		out.CA = tlsfiles.File{Path: f.CA, Name: "CA"}
	}
	return out
}

// A server follows its files: a new pair is served to new connections, a
// half-written one is not (the last good pair stays, and the error is told
// once), and the CA's roots verify it throughout.
func TestServerFollowsRotation(t *testing.T) {
	dir := t.TempDir()
	ca := testcert.NewCA(t, "ca")
	first := ca.Issue(t, testcert.Localhost("first"))
	f := first.Write(t, dir, "server", ca)
	var mu sync.Mutex
	var reloaded []string
	var failures []error
	w, err := tlsfiles.New(files(f, false), tlsfiles.Options{
		OnReload: func(l *tlsfiles.Loaded) {
			mu.Lock()
			reloaded = append(reloaded, l.Cert.Leaf.Subject.CommonName)
			mu.Unlock()
		},
		OnError: func(err error) { mu.Lock(); failures = append(failures, err); mu.Unlock() },
	})
	if err != nil {
		t.Fatal(err)
	}
	addr, _ := server(t, w.ServerConfig())
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(ca.PEM)
	client := &tls.Config{RootCAs: roots}
	served := func() string {
		t.Helper()
		c, err := dial(addr, client)
		if err != nil {
			t.Fatal(err)
		}
		return c.Subject.CommonName
	}
	if got := served(); got != "first" {
		t.Fatalf("served %q, want first", got)
	}
	second := ca.Issue(t, testcert.Localhost("second"))
	testcert.WriteFile(t, f.Cert, second.CertPEM) // the key is still first's
	for range 3 {
		if got := served(); got != "first" {
			t.Fatalf("with a certificate and a key that do not match, served %q, want the last good pair", got)
		}
	}
	testcert.WriteFile(t, f.Key, second.KeyPEM)
	if got := served(); got != "second" {
		t.Fatalf("after the rotation, served %q, want second", got)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(failures) != 1 || !strings.Contains(failures[0].Error(), "CERT") || !strings.Contains(failures[0].Error(), "KEY") {
		t.Errorf("failures told: %v, want one naming CERT and KEY", failures)
	}
	if strings.Join(reloaded, ",") != "second" {
		t.Errorf("reloads told: %v, want [second]", reloaded)
	}
}

// With a CA, the server requires a client certificate it signed, and a
// client's own certificate follows its files too.
func TestMutualTLS(t *testing.T) {
	dir := t.TempDir()
	ca, other := testcert.NewCA(t, "ca"), testcert.NewCA(t, "other")
	sf := ca.Issue(t, testcert.Localhost("server")).Write(t, dir, "server", ca)
	sw, err := tlsfiles.New(files(sf, true), tlsfiles.Options{})
	if err != nil {
		t.Fatal(err)
	}
	addr, serverErrs := server(t, sw.ServerConfig())

	// No client certificate.
	anon, err := tlsfiles.New(tlsfiles.Files{CA: tlsfiles.File{Path: sf.CA, Name: "--tls-ca"}}, tlsfiles.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := dial(addr, anon.ClientConfig("")); err == nil || !strings.Contains(err.Error(), "certificate required") {
		t.Errorf("without a client certificate: %v, want the server's alert: certificate required", err)
	}
	if err := <-serverErrs; err == nil {
		t.Error("the server accepted a client without a certificate")
	}
	// A certificate from another CA, then (rotated in place) from the right one.
	cf := other.Issue(t, testcert.Options{Name: "client", Client: true}).Write(t, dir, "client", ca)
	cw, err := tlsfiles.New(files(cf, true), tlsfiles.Options{})
	if err != nil {
		t.Fatal(err)
	}
	cfg := cw.ClientConfig("localhost")
	if _, err := dial(addr, cfg); err == nil {
		t.Error("the server accepted a client certificate from an unknown CA")
	}
	<-serverErrs
	good := ca.Issue(t, testcert.Options{Name: "client", Client: true})
	testcert.WriteFile(t, cf.Key, good.KeyPEM)
	testcert.WriteFile(t, cf.Cert, good.CertPEM)
	if _, err := dial(addr, cfg); err != nil {
		t.Fatalf("with the rotated client certificate: %v", err)
	}
	if err := <-serverErrs; err != nil {
		t.Fatalf("server: %v", err)
	}
}

func TestNewNamesTheBadFile(t *testing.T) {
	dir := t.TempDir()
	ca := testcert.NewCA(t, "ca")
	f := ca.Issue(t, testcert.Localhost("s")).Write(t, dir, "s", ca)
	junk := filepath.Join(dir, "junk")
	if err := os.WriteFile(junk, []byte("not PEM"), 0o600); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "missing")
	for _, tc := range []struct {
		files tlsfiles.Files
		want  []string
	}{
		{tlsfiles.Files{}, []string{"no file named"}},
		{tlsfiles.Files{Cert: tlsfiles.File{Path: f.Cert, Name: "CERT"}, Key: tlsfiles.File{Name: "KEY"}}, []string{"CERT and KEY: give both"}},
		{tlsfiles.Files{Cert: tlsfiles.File{Path: missing, Name: "CERT"}, Key: tlsfiles.File{Path: f.Key, Name: "KEY"}}, []string{"CERT", missing, "no such file"}},
		{tlsfiles.Files{Cert: tlsfiles.File{Path: junk, Name: "CERT"}, Key: tlsfiles.File{Path: f.Key, Name: "KEY"}}, []string{"CERT (" + junk + ") and KEY"}},
		{tlsfiles.Files{Cert: tlsfiles.File{Path: f.Cert, Name: "CERT"}, Key: tlsfiles.File{Path: f.CA, Name: "KEY"}}, []string{"CERT (", "KEY (" + f.CA + ")"}},
		{tlsfiles.Files{CA: tlsfiles.File{Path: junk, Name: "CA"}}, []string{"CA: bad value", junk, "no PEM certificate"}},
	} {
		_, err := tlsfiles.New(tc.files, tlsfiles.Options{})
		if err == nil {
			t.Errorf("%+v: no error", tc.files)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%+v: %q, want it to say %q", tc.files, err, w)
			}
		}
	}
	if _, err := tlsfiles.New(tlsfiles.Files{}, tlsfiles.Options{}); !errors.Is(err, tlsfiles.ErrNoFiles) {
		t.Errorf("no files: %v, want ErrNoFiles", err)
	}
}
