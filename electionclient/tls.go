package electionclient

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
)

// The causes of a call refused for TLS: retrying cannot mend them, so calls
// return them at once in a *CallError, naming the cause.
var (
	// ErrTLS is matched by every TLS cause below.
	ErrTLS = errors.New("electionclient: TLS")
	// ErrServerWantsTLS: the server speaks TLS and this client does not
	// (Config.TLS is nil).
	ErrServerWantsTLS = fmt.Errorf("%w: the server speaks TLS and this client does not", ErrTLS)
	// ErrServerNotTLS: Config.TLS is set and the server speaks plaintext.
	ErrServerNotTLS = fmt.Errorf("%w: the server does not speak TLS", ErrTLS)
	// ErrServerCertificate: this client does not trust the server's
	// certificate (an unknown authority, another name, expired).
	ErrServerCertificate = fmt.Errorf("%w: the server's certificate is not trusted", ErrTLS)
	// ErrClientCertificate: the server wants a client certificate and got
	// none, or refused the one sent.
	ErrClientCertificate = fmt.Errorf("%w: the server refused this client's certificate", ErrTLS)
)

// tlsError is a TLS refusal: why, for people, the sentinel it matches, the
// TLS error seen on the connection, and the call's gRPC status.
type tlsError struct {
	why    string
	kind   error
	cause  error
	status error
}

func (e *tlsError) Error() string {
	if e.cause == nil {
		return e.why
	}
	return e.why + " (" + e.cause.Error() + ")"
}

func (e *tlsError) Unwrap() []error { return []error{e.kind, e.status} }

func newConnWatch(addr string, c *tls.Config) *connWatch {
	return &connWatch{addr: addr, tls: c != nil, hasCert: c != nil && (len(c.Certificates) > 0 || c.GetClientCertificate != nil)}
}

// connWatch follows the connections to one server, to tell a TLS refusal
// (which retrying cannot mend) from a server that is down. It learns from
// the handshake and from each connection's first read, never later.
type connWatch struct {
	addr    string
	tls     bool
	hasCert bool // the TLS configuration has a client certificate

	mu      sync.Mutex
	refusal *tlsError // the last connection's TLS refusal; nil once one works
	suspect bool      // a plaintext connection was closed before a byte came back
}

// credentials wraps the transport credentials with the watch.
func (w *connWatch) credentials(c *tls.Config) credentials.TransportCredentials {
	inner := insecure.NewCredentials()
	if c != nil {
		inner = credentials.NewTLS(c)
	}
	return watchedCreds{inner, w}
}

// refused returns the TLS refusal behind a call's failure err, or nil when
// err may pass if tried again.
func (w *connWatch) refused(ctx context.Context, err error) error {
	if status.Code(err) != codes.Unavailable {
		return nil
	}
	w.mu.Lock()
	r, suspect := w.refusal, w.suspect
	w.suspect = false
	w.mu.Unlock()
	if r == nil && suspect && speaksTLS(ctx, w.addr) {
		r = &tlsError{why: "TLS: the server speaks TLS and this client does not", kind: ErrServerWantsTLS,
			cause: errors.New("it closed the plaintext connection at once, and answers a TLS handshake")}
		w.set(r)
	}
	if r == nil {
		return nil
	}
	e := *r
	e.status = err
	return &e
}

func (w *connWatch) set(r *tlsError) {
	w.mu.Lock()
	w.refusal = r
	w.mu.Unlock()
}

// handshakeFailed is told of a failed handshake.
func (w *connWatch) handshakeFailed(err error) {
	var header tls.RecordHeaderError
	var verify *tls.CertificateVerificationError
	var unknownCA x509.UnknownAuthorityError
	var hostname x509.HostnameError
	var invalid x509.CertificateInvalidError
	switch {
	case errors.As(err, &header):
		w.set(&tlsError{why: "TLS: the server does not speak TLS", kind: ErrServerNotTLS, cause: err})
	case errors.As(err, &verify), errors.As(err, &unknownCA), errors.As(err, &hostname), errors.As(err, &invalid):
		w.set(&tlsError{why: "TLS: this client does not trust the server's certificate", kind: ErrServerCertificate, cause: err})
	default:
		w.closedEarly(err)
	}
}

// closedEarly is told of a connection that failed before a byte came from
// the server: a refusal of this client's certificate, or (without TLS) maybe
// a TLS server.
func (w *connWatch) closedEarly(err error) {
	if alert, ok := remoteAlert(err); ok {
		switch alert {
		case "certificate required":
			why := "TLS: the server requires a client certificate, and this client has none"
			if w.hasCert { // crypto/tls sends none that the server's CAs did not sign
				why = "TLS: the server requires a client certificate signed by a CA it trusts, and this client has none such, so it sent none"
			}
			w.set(&tlsError{why: why, kind: ErrClientCertificate, cause: err})
		case "bad certificate", "unsupported certificate", "certificate revoked", "certificate expired", "certificate unknown", "unknown certificate authority", "access denied":
			w.set(&tlsError{why: "TLS: the server refused this client's certificate", kind: ErrClientCertificate, cause: err})
		}
		return
	}
	if !w.tls && (errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNRESET)) {
		w.mu.Lock()
		w.suspect = true
		w.mu.Unlock()
	}
}

// connected is told of a connection that works: the server answered.
func (w *connWatch) connected() {
	w.mu.Lock()
	w.refusal, w.suspect = nil, false
	w.mu.Unlock()
}

// remoteAlert returns the description of a TLS alert the server sent
// ("certificate required"): crypto/tls reports it as a *net.OpError of Op
// "remote error" around an unexported type whose text is "tls: " and the
// alert's description.
func remoteAlert(err error) (string, bool) {
	var op *net.OpError
	if !errors.As(err, &op) || op.Op != "remote error" || op.Err == nil {
		return "", false
	}
	return strings.TrimPrefix(op.Err.Error(), "tls: "), true
}

// speaksTLS reports whether addr answers a TLS handshake with a
// certificate. It sends nothing but the handshake, and trusts nothing it
// gets: the certificate only tells that TLS is spoken.
func speaksTLS(ctx context.Context, addr string) bool {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	var saw atomic.Bool
	d := tls.Dialer{Config: &tls.Config{
		InsecureSkipVerify: true, // a probe: no data crosses this connection
		VerifyPeerCertificate: func(raw [][]byte, _ [][]*x509.Certificate) error {
			saw.Store(len(raw) > 0)
			return nil
		},
	}}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err == nil {
		conn.Close()
	}
	return saw.Load()
}

// watchedCreds tells a connWatch how handshakes and first reads go.
type watchedCreds struct {
	credentials.TransportCredentials
	w *connWatch
}

func (c watchedCreds) ClientHandshake(ctx context.Context, authority string, raw net.Conn) (net.Conn, credentials.AuthInfo, error) {
	conn, info, err := c.TransportCredentials.ClientHandshake(ctx, authority, raw)
	if err != nil {
		c.w.handshakeFailed(err)
		return nil, nil, err
	}
	return &watchedConn{Conn: conn, w: c.w}, info, nil
}

func (c watchedCreds) Clone() credentials.TransportCredentials {
	return watchedCreds{c.TransportCredentials.Clone(), c.w}
}

// watchedConn reports its first read: bytes (the server answered) or an
// error before any.
type watchedConn struct {
	net.Conn
	w    *connWatch
	told atomic.Bool
}

func (c *watchedConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	if (n > 0 || err != nil) && !c.told.Load() {
		c.told.Store(true)
		if n > 0 {
			c.w.connected()
		} else {
			c.w.closedEarly(err)
		}
	}
	return n, err
}
