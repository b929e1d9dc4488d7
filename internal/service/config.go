package service

import (
	"fmt"
	"strconv"

	"go-leader-election/internal/envconfig"
	"go-leader-election/store"
)

// DefaultGRPCPort is GRPC_PORT's default.
const DefaultGRPCPort = 50051

// DefaultKind is ELECTION_KIND's default: elections never share the
// scheduler's kind (DATASTORE_KIND, "Lease").
const DefaultKind = "Election"

// Config is serve's configuration: the variables every command shares
// (envconfig.Common: APP_PORT, logging, NODE_NAME, STORE and the store's own
// variables, STORE_TIMEOUT), and the service's own. Nothing of the daemon's
// jobs or timing.
type Config struct {
	envconfig.Common
	// GRPCPort is GRPC_PORT: default 50051; 0 picks a free port (logged).
	GRPCPort int
	// Token is LEASE_TOKEN, spaces trimmed: when set, every call must carry
	// "authorization: Bearer <Token>".
	Token string
	// Kind is ELECTION_KIND, the kind of the election records in a store
	// that has kinds (Datastore): default "Election". Every backend checks
	// it (store.Backend.CheckKind): Datastore's must differ from
	// DATASTORE_KIND.
	Kind string
	// TLS names serve's certificate files (TLS_CERT_FILE, TLS_KEY_FILE,
	// TLS_CLIENT_CA_FILE); all empty: plaintext.
	TLS TLSFiles
}

// LoadConfig reads serve's configuration; errors name the variable and the
// value.
func LoadConfig(getenv func(string) string) (Config, error) {
	p := envconfig.NewParser(getenv)
	c := Config{
		Common:   envconfig.LoadCommon(p),
		GRPCPort: p.Int("GRPC_PORT", DefaultGRPCPort, 0, 65535),
		Token:    p.String("LEASE_TOKEN"),
		Kind:     p.String("ELECTION_KIND"),
		TLS:      readTLSFiles(p),
	}
	if c.Kind == "" {
		c.Kind = DefaultKind
	}
	for _, b := range store.Backends() {
		if b.CheckKind != nil {
			if err := b.CheckKind(getenv, c.Kind); err != nil {
				p.Fail("ELECTION_KIND", c.Kind, err.Error())
			}
		}
	}
	if c.GRPCPort != 0 && c.GRPCPort == c.Port {
		p.Fail("GRPC_PORT", strconv.Itoa(c.GRPCPort), "APP_PORT is the same port")
	}
	if err := p.Err(); err != nil {
		return Config{}, err
	}
	return c, nil
}

// TLSFiles are the PEM files serve's TLS is read from, each again whenever
// it changes.
type TLSFiles struct {
	// CertFile (TLS_CERT_FILE) and KeyFile (TLS_KEY_FILE): the server's
	// certificate chain and private key; both or neither.
	CertFile, KeyFile string
	// ClientCAFile (TLS_CLIENT_CA_FILE): when set, every client must
	// present a certificate signed by one of these CAs (mutual TLS). It
	// needs CertFile.
	ClientCAFile string
}

// On reports whether serve speaks TLS.
func (f TLSFiles) On() bool { return f.CertFile != "" }

func readTLSFiles(p *envconfig.Parser) TLSFiles {
	f := TLSFiles{CertFile: p.String("TLS_CERT_FILE"), KeyFile: p.String("TLS_KEY_FILE"), ClientCAFile: p.String("TLS_CLIENT_CA_FILE")}
	switch {
	case f.CertFile != "" && f.KeyFile == "":
		p.FailWith(fmt.Errorf("TLS_CERT_FILE is set (%q) but TLS_KEY_FILE is not: TLS needs both", f.CertFile))
	case f.KeyFile != "" && f.CertFile == "":
		p.FailWith(fmt.Errorf("TLS_KEY_FILE is set (%q) but TLS_CERT_FILE is not: TLS needs both", f.KeyFile))
	case f.ClientCAFile != "" && f.CertFile == "":
		p.FailWith(fmt.Errorf("TLS_CLIENT_CA_FILE is set (%q) but TLS_CERT_FILE and TLS_KEY_FILE are not: client certificates need TLS", f.ClientCAFile))
	}
	return f
}
