package service

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"

	"go-leader-election/internal/tlsfiles"
)

// tlsOption returns the gRPC server option that makes serve speak TLS from
// files, read again when they change, and logs what happens to them; nil
// without TLS. Its errors name the variable and the file.
func tlsOption(f TLSFiles, log zerolog.Logger) (grpc.ServerOption, error) {
	if !f.On() {
		return nil, nil
	}
	w, err := tlsfiles.New(tlsfiles.Files{
		Cert: tlsfiles.File{Path: f.CertFile, Name: "TLS_CERT_FILE"},
		Key:  tlsfiles.File{Path: f.KeyFile, Name: "TLS_KEY_FILE"},
		CA:   tlsfiles.File{Path: f.ClientCAFile, Name: "TLS_CLIENT_CA_FILE"},
	}, tlsfiles.Options{
		OnReload: func(l *tlsfiles.Loaded) {
			log.Info().Str("certificate", l.Subject()).Msg("TLS files changed: new connections use the new certificate")
		},
		OnError: func(err error) {
			log.Warn().Err(err).Msg("TLS files changed but do not load: keeping the previous certificate")
		},
	})
	if err != nil {
		return nil, err
	}
	log.Info().Str("certificate", w.Current().Subject()).Bool("client_certificates", f.ClientCAFile != "").Msg("TLS on")
	return grpc.Creds(TLSCredentials(w.ServerConfig(), log)), nil
}

// TLSCredentials are a gRPC server's TLS credentials from cfg that log
// every failed handshake (the peer and the cause: no client certificate,
// an unknown CA, a plaintext client) and make sure the client learns why:
// see linger.
func TLSCredentials(cfg *tls.Config, log zerolog.Logger) credentials.TransportCredentials {
	return serverCreds{credentials.NewTLS(cfg), log}
}

type serverCreds struct {
	credentials.TransportCredentials
	log zerolog.Logger
}

func (c serverCreds) ServerHandshake(raw net.Conn) (net.Conn, credentials.AuthInfo, error) {
	lc := &lingerConn{Conn: raw}
	conn, info, err := c.TransportCredentials.ServerHandshake(lc)
	if err != nil {
		ev := c.log.Warn()
		if errors.Is(err, io.EOF) || errors.Is(err, context.Canceled) { // a TCP probe, a port scan
			ev = c.log.Debug()
		}
		ev.Str("peer", raw.RemoteAddr().String()).Err(err).Msg("TLS handshake failed")
		_ = lc.Close() // done already, as a rule
		return nil, nil, err
	}
	lc.shook.Store(true)
	return conn, info, nil
}

func (c serverCreds) Clone() credentials.TransportCredentials {
	return serverCreds{c.TransportCredentials.Clone(), c.log}
}

// lingerLimit bounds how long a refused connection is drained.
const lingerLimit = time.Second

// lingerConn lingers when it is closed before its handshake succeeded
// (the TLS credentials close a refused connection themselves).
type lingerConn struct {
	net.Conn
	shook atomic.Bool
	once  sync.Once
}

func (c *lingerConn) Close() error {
	if !c.shook.Load() {
		c.once.Do(func() { linger(c.Conn) })
	}
	return c.Conn.Close()
}

// linger ends a refused connection so that the client reads the TLS alert
// sent: in TLS 1.3 a client that sent a certificate the server refuses (or
// none) has already written its first request, and closing with those
// bytes unread would reset the connection, which discards the alert on
// the client's side. So the server closes its half, then reads what the
// client sent until it closes too (at most lingerLimit), and only then is
// the connection closed.
func linger(raw net.Conn) {
	if hc, ok := raw.(interface{ CloseWrite() error }); ok {
		_ = hc.CloseWrite()
	}
	_ = raw.SetReadDeadline(time.Now().Add(lingerLimit))
	_, _ = io.Copy(io.Discard, io.LimitReader(raw, 1<<20))
}
