// Package tlsfiles keeps a TLS certificate, its key and a CA bundle read
// from PEM files, and reads them again when they change, so that a server
// (serve) or a long-running client (lock) follows certificate rotation
// without a restart.
//
// What it promises: New reads every file at once and returns an error
// naming the file (by the variable or flag given) and the cause. Afterwards
// every handshake first compares the files' size, modification time and
// identity (a rename or a Kubernetes secret's symlink swap changes it) with
// those last read, and reads them again if one differs; a set that does not
// load (a certificate written before its key) leaves the last good one in
// use and is tried again at the next handshake. Connections already open
// keep the certificate they were made with.
//
// What it does not: it never watches the files between handshakes, and it
// does not reload a client's CA bundle (crypto/tls has no per-handshake hook
// for a client's roots): a client reads its CA once, at New.
package tlsfiles

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"
)

// File is one PEM file and the name the user gave it by (a variable such as
// TLS_CERT_FILE, or a flag such as --tls-cert), for errors.
type File struct {
	Path string
	Name string
}

// Files are what a Watcher reads. Cert and Key are both set or both empty;
// CA may be set alone.
type Files struct {
	Cert, Key File
	// CA is a bundle of CA certificates: the clients' (a server's
	// ClientCAs) or the servers' (a client's RootCAs).
	CA File
}

// Loaded is one set of files as read.
type Loaded struct {
	// Cert is the key pair, nil without Files.Cert; Leaf is parsed.
	Cert *tls.Certificate
	// Pool holds Files.CA's certificates, nil without it.
	Pool *x509.CertPool

	stamps []stamp
}

// Subject describes the certificate for logs: its subject, names and
// expiry.
func (l *Loaded) Subject() string {
	if l == nil || l.Cert == nil || l.Cert.Leaf == nil {
		return ""
	}
	leaf := l.Cert.Leaf
	return fmt.Sprintf("%s (names %v, expires %s)", leaf.Subject, leaf.DNSNames, leaf.NotAfter.UTC().Format(time.RFC3339))
}

// Watcher keeps the latest good Loaded. Safe for concurrent use.
type Watcher struct {
	files Files
	// onReload and onError are told of a new set loaded, and of a changed
	// set that does not load (once per change).
	onReload func(*Loaded)
	onError  func(error)

	mu     sync.Mutex
	cur    *Loaded
	failed string // the last bad state told to onError
}

// Options are a Watcher's optional callbacks, for logs.
type Options struct {
	// OnReload is told of every set loaded after the first.
	OnReload func(*Loaded)
	// OnError is told when changed files do not load; the previous set
	// stays in use.
	OnError func(error)
}

// ErrNoFiles is returned by New when no file is named.
var ErrNoFiles = errors.New("tlsfiles: no file named")

// New reads the files once, and returns an error naming the first that is
// missing or bad.
func New(files Files, o Options) (*Watcher, error) {
	switch {
	case files.Cert.Path == "" && files.Key.Path == "" && files.CA.Path == "":
		return nil, ErrNoFiles
	case (files.Cert.Path == "") != (files.Key.Path == ""):
		return nil, fmt.Errorf("%s and %s: give both, or neither", files.Cert.Name, files.Key.Name)
	}
	w := &Watcher{files: files, onReload: o.OnReload, onError: o.OnError}
	st, err := w.stat()
	if err != nil {
		return nil, err
	}
	if w.cur, err = w.load(st); err != nil {
		return nil, err
	}
	return w, nil
}

// Current returns the latest good set, reading the files again first if
// they changed.
func (w *Watcher) Current() *Loaded {
	w.mu.Lock()
	defer w.mu.Unlock()
	st, err := w.stat()
	if err == nil && sameStamps(st, w.cur.stamps) {
		return w.cur
	}
	var l *Loaded
	if err == nil {
		l, err = w.load(st)
	}
	if err != nil {
		// Tell each bad state once, not at every handshake.
		if key := fmt.Sprint(st, err); key != w.failed {
			w.failed = key
			if w.onError != nil {
				w.onError(err)
			}
		}
		return w.cur
	}
	w.cur, w.failed = l, ""
	if w.onReload != nil {
		w.onReload(l)
	}
	return w.cur
}

// ServerConfig returns a server's TLS configuration: the current
// certificate at every handshake and, with a CA, a client certificate
// signed by it required of every client.
func (w *Watcher) ServerConfig() *tls.Config {
	return &tls.Config{
		MinVersion: tls.VersionTLS12,
		GetConfigForClient: func(*tls.ClientHelloInfo) (*tls.Config, error) {
			l := w.Current()
			c := &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{*l.Cert}}
			if l.Pool != nil {
				c.ClientCAs, c.ClientAuth = l.Pool, tls.RequireAndVerifyClientCert
			}
			return c, nil
		},
	}
}

// ClientConfig returns a client's TLS configuration: the CA read at New as
// its roots (the system's without one), and the current certificate, if
// any, when a server asks for one. serverName, if set, is the name the
// server's certificate must carry (default: the host dialled).
func (w *Watcher) ClientConfig(serverName string) *tls.Config {
	c := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: serverName, RootCAs: w.cur.Pool}
	if w.files.Cert.Path != "" {
		c.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
			return w.Current().Cert, nil
		}
	}
	return c
}

// stamp is what tells a file's change: its identity, size and time.
type stamp struct {
	info os.FileInfo
}

func (s stamp) String() string {
	return fmt.Sprintf("%s:%d:%d", s.info.Name(), s.info.Size(), s.info.ModTime().UnixNano())
}

func sameStamps(a, b []stamp) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		x, y := a[i].info, b[i].info
		if !os.SameFile(x, y) || x.Size() != y.Size() || !x.ModTime().Equal(y.ModTime()) {
			return false
		}
	}
	return true
}

// named lists the files set, in a fixed order: cert, key, CA.
func (w *Watcher) named() []File {
	var out []File
	for _, f := range []File{w.files.Cert, w.files.Key, w.files.CA} {
		if f.Path != "" {
			out = append(out, f)
		}
	}
	return out
}

// stat stamps every file set (following symbolic links).
func (w *Watcher) stat() ([]stamp, error) {
	var out []stamp
	for _, f := range w.named() {
		fi, err := os.Stat(f.Path)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f.Name, err)
		}
		out = append(out, stamp{fi})
	}
	return out, nil
}

// load reads and parses the files; st are their stamps, taken before.
func (w *Watcher) load(st []stamp) (*Loaded, error) {
	l := &Loaded{stamps: st}
	read := func(f File) ([]byte, error) {
		b, err := os.ReadFile(f.Path)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f.Name, err)
		}
		return b, nil
	}
	if c, k := w.files.Cert, w.files.Key; c.Path != "" {
		certPEM, err := read(c)
		if err != nil {
			return nil, err
		}
		keyPEM, err := read(k)
		if err != nil {
			return nil, err
		}
		pair, err := tls.X509KeyPair(certPEM, keyPEM)
		if err != nil {
			return nil, fmt.Errorf("%s (%s) and %s (%s): %w", c.Name, c.Path, k.Name, k.Path, err)
		}
		l.Cert = &pair
	}
	if ca := w.files.CA; ca.Path != "" {
		b, err := read(ca)
		if err != nil {
			return nil, err
		}
		l.Pool = x509.NewCertPool()
		if !l.Pool.AppendCertsFromPEM(b) {
			return nil, fmt.Errorf("%s: bad value %q: no PEM certificate in it", ca.Name, ca.Path)
		}
	}
	return l, nil
}
