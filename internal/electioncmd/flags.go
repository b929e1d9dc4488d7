package electioncmd

import (
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"google.golang.org/grpc/status"

	"go-leader-election/electionclient"
	"go-leader-election/internal/tlsfiles"
)

// DefaultServer is --server's default.
const DefaultServer = "localhost:50051"

// servers is a repeatable --server flag.
type servers []string

func (s *servers) String() string { return strings.Join(*s, ",") }

func (s *servers) Set(v string) error {
	for _, a := range strings.Split(v, ",") {
		if a = strings.TrimSpace(a); a == "" {
			return errors.New("empty server address")
		}
		*s = append(*s, a)
	}
	return nil
}

// common are the flags of lock and leader.
type common struct {
	servers servers
	token   string
	tls     tlsFlags
}

// tlsFlags are the TLS flags: any of them turns TLS on.
type tlsFlags struct {
	ca, cert, key, serverName string
}

func (c *common) register(fs *flag.FlagSet) {
	fs.Var(&c.servers, "server", "`host:port` of a lease server; repeat (or separate by commas) for several (default "+DefaultServer+")")
	fs.StringVar(&c.token, "token", "", "bearer `token` the servers require (default $LEASE_TOKEN)")
	fs.StringVar(&c.tls.ca, "tls-ca", "", "PEM `file` of the CA certificates that sign the servers' certificates; any --tls flag turns TLS on (default: the system's CAs)")
	fs.StringVar(&c.tls.cert, "tls-cert", "", "PEM `file` of this client's certificate, for servers that require one (with --tls-key; read again when it changes)")
	fs.StringVar(&c.tls.key, "tls-key", "", "PEM `file` of --tls-cert's private key")
	fs.StringVar(&c.tls.serverName, "tls-server-name", "", "`name` the servers' certificates must carry (default: the host of --server)")
}

// config returns the TLS configuration the flags ask for, nil for
// plaintext. Changed certificate files that do not load are told on stderr
// (the previous certificate stays in use).
func (f tlsFlags) config(cmd string, stderr io.Writer) (*tls.Config, error) {
	if f == (tlsFlags{}) {
		return nil, nil
	}
	if f.ca == "" && f.cert == "" && f.key == "" {
		return &tls.Config{MinVersion: tls.VersionTLS12, ServerName: f.serverName}, nil
	}
	w, err := tlsfiles.New(tlsfiles.Files{
		Cert: tlsfiles.File{Path: f.cert, Name: "--tls-cert"},
		Key:  tlsfiles.File{Path: f.key, Name: "--tls-key"},
		CA:   tlsfiles.File{Path: f.ca, Name: "--tls-ca"},
	}, tlsfiles.Options{OnError: func(err error) {
		fmt.Fprintf(stderr, "%s: the TLS files changed but do not load: %v; keeping the previous certificate\n", cmd, err)
	}})
	if err != nil {
		return nil, err
	}
	return w.ClientConfig(f.serverName), nil
}

// client returns a client of the servers; retries are told on stderr.
func (c *common) client(cmd string, getenv func(string) string, stderr io.Writer) (*electionclient.Client, error) {
	if len(c.servers) == 0 {
		c.servers = servers{DefaultServer}
	}
	if c.token == "" {
		c.token = strings.TrimSpace(getenv("LEASE_TOKEN"))
	}
	tlsConfig, err := c.tls.config(cmd, stderr)
	if err != nil {
		return nil, err
	}
	return electionclient.New(electionclient.Config{
		Servers: c.servers, Token: c.token, TLS: tlsConfig,
		OnRetry: func(r electionclient.Retry) {
			next := "trying the next server"
			if r.Wait > 0 {
				next = fmt.Sprintf("retrying in %s", r.Wait.Round(10e6))
			}
			st := status.Convert(r.Err)
			fmt.Fprintf(stderr, "%s: %s: server %s: %s (%s); %s\n", cmd, r.Op, r.Server, st.Code(), st.Message(), next)
		},
	})
}

// parse parses args, printing usage on -h (then returning flag.ErrHelp).
func parse(fs *flag.FlagSet, usage string, args []string, stderr io.Writer) error {
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, usage)
		fs.PrintDefaults()
	}
	return fs.Parse(args)
}
