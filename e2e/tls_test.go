package e2e

import (
	"crypto/tls"
	"crypto/x509"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go-leader-election/internal/testcert"
)

// TestServeTLS: serve with TLS_CERT_FILE, TLS_KEY_FILE and
// TLS_CLIENT_CA_FILE; lock with --tls-ca, --tls-cert and --tls-key runs its
// command; without a certificate, or in plaintext, lock exits non-zero at
// once naming the cause; the server's files replaced (a certificate of
// another CA), new connections get the new certificate without a restart.
func TestServeTLS(t *testing.T) {
	if testing.Short() {
		t.Skip("real processes")
	}
	dir := t.TempDir()
	ca := testcert.NewCA(t, "e2e CA")
	sf := ca.Issue(t, testcert.Localhost("first server certificate")).Write(t, dir, "server", ca)
	cf := ca.Issue(t, testcert.Options{Name: "lock", Client: true}).Write(t, dir, "client", ca)
	serve, addr := startServe(t, "le-tls", "TLS_CERT_FILE="+sf.Cert, "TLS_KEY_FILE="+sf.Key, "TLS_CLIENT_CA_FILE="+sf.CA)
	serve.waitLine("TLS on", time.Second, func(s string) bool { return strings.Contains(s, `"TLS on"`) })

	lock := func(name string, tlsArgs ...string) (*leProc, time.Duration) {
		t.Helper()
		args := append([]string{"lock", "--ttl", "2s", "--server", addr}, tlsArgs...)
		start := time.Now()
		p := startLE(t, name, nil, append(args, "production", "--", "sh", "-c", `echo "ran $LEADER_TERM"`)...)
		p.waitExit(10 * time.Second)
		return p, time.Since(start)
	}
	ok, _ := lock("lock mTLS", "--tls-ca", cf.CA, "--tls-cert", cf.Cert, "--tls-key", cf.Key)
	if code := ok.cmd.ProcessState.ExitCode(); code != 0 || !strings.Contains(ok.output(), "ran 1") {
		t.Fatalf("lock over mTLS exited %d:\n%s", code, ok.output())
	}
	for _, tc := range []struct {
		name string
		args []string
		says string
	}{
		{"lock without a certificate", []string{"--tls-ca", cf.CA}, "the server requires a client certificate, and this client has none"},
		{"lock in plaintext", nil, "the server speaks TLS and this client does not"},
	} {
		p, took := lock(tc.name, tc.args...)
		out := p.output()
		if code := p.cmd.ProcessState.ExitCode(); code == 0 || !strings.Contains(out, tc.says) || strings.Contains(out, "ran ") || strings.Contains(out, "retrying") {
			t.Fatalf("%s exited %d; want non-zero, at once, saying %q:\n%s", tc.name, code, tc.says, out)
		}
		t.Logf("%s: exit %d after %s: %s", tc.name, p.cmd.ProcessState.ExitCode(), took.Round(time.Millisecond), strings.TrimSpace(out[strings.LastIndex(strings.TrimSpace(out), "\n")+1:]))
	}

	// Rotation: the server's certificate and key replaced by a pair of
	// another CA, as cert-manager would (each file renamed into place).
	ca2 := testcert.NewCA(t, "e2e CA 2")
	second := ca2.Issue(t, testcert.Localhost("second server certificate"))
	testcert.WriteFile(t, sf.Key, second.KeyPEM)
	testcert.WriteFile(t, sf.Cert, second.CertPEM)
	ca2File := filepath.Join(dir, "ca2.crt")
	testcert.WriteFile(t, ca2File, ca2.PEM)
	if got := servedCertificate(t, addr, ca2, cf); got != "second server certificate" {
		t.Fatalf("after the rotation a new connection got %q", got)
	}
	serve.waitLine("the reload event", time.Second, func(s string) bool {
		return strings.Contains(s, "TLS files changed: new connections use the new certificate") && strings.Contains(s, "second server certificate")
	})
	rotated, _ := lock("lock after the rotation", "--tls-ca", ca2File, "--tls-cert", cf.Cert, "--tls-key", cf.Key)
	if code := rotated.cmd.ProcessState.ExitCode(); code != 0 || !strings.Contains(rotated.output(), "ran 2") {
		t.Fatalf("lock trusting only the new CA exited %d:\n%s", code, rotated.output())
	}
	stale, _ := lock("lock trusting the old CA", "--tls-ca", cf.CA, "--tls-cert", cf.Cert, "--tls-key", cf.Key)
	if code := stale.cmd.ProcessState.ExitCode(); code == 0 || !strings.Contains(stale.output(), "certificate signed by unknown authority") {
		t.Fatalf("lock trusting only the old CA exited %d:\n%s", code, stale.output())
	}
}

// servedCertificate handshakes with addr as a client of cf, trusting ca,
// and returns the common name of the certificate the server presented.
func servedCertificate(t *testing.T, addr string, ca *testcert.CA, cf testcert.Files) string {
	t.Helper()
	pair, err := tls.LoadX509KeyPair(cf.Cert, cf.Key)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(ca.Cert)
	c, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: roots, Certificates: []tls.Certificate{pair}, NextProtos: []string{"h2"}})
	if err != nil {
		t.Fatalf("TLS handshake with serve: %v", err)
	}
	defer c.Close()
	return c.ConnectionState().PeerCertificates[0].Subject.CommonName
}
