package service

import (
	"fmt"
	"strconv"
	"strings"

	"go-leader-election/internal/config"
)

// DefaultGRPCPort is GRPC_PORT's default.
const DefaultGRPCPort = 50051

// DefaultKind is ELECTION_KIND's default: elections never share the
// scheduler's kind (DATASTORE_KIND, "Lease").
const DefaultKind = "Election"

// Config is serve's configuration: the daemon's (config.Load: APP_PORT,
// logging, NODE_NAME, STORE, DATASTORE_*, STORE_TIMEOUT), and the service's
// own variables.
type Config struct {
	config.Config
	// GRPCPort is GRPC_PORT: default 50051; 0 picks a free port (logged).
	GRPCPort int
	// Token is LEASE_TOKEN, spaces trimmed: when set, every call must carry
	// "authorization: Bearer <Token>".
	Token string
	// Kind is ELECTION_KIND, the Datastore kind of the election records:
	// default "Election"; it must differ from DATASTORE_KIND.
	Kind string
}

// LoadConfig reads serve's configuration; errors name the variable and the
// value.
func LoadConfig(getenv func(string) string) (Config, error) {
	base, err := config.Load(getenv)
	if err != nil {
		return Config{}, err
	}
	c := Config{Config: base, GRPCPort: DefaultGRPCPort, Token: strings.TrimSpace(getenv("LEASE_TOKEN")), Kind: DefaultKind}
	if v := strings.TrimSpace(getenv("GRPC_PORT")); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > 65535 {
			return Config{}, fmt.Errorf("GRPC_PORT: bad value %q: want a whole number from 0 to 65535", v)
		}
		c.GRPCPort = n
	}
	if v := strings.TrimSpace(getenv("ELECTION_KIND")); v != "" {
		c.Kind = v
	}
	if c.Kind == firstNonEmpty(strings.TrimSpace(getenv("DATASTORE_KIND")), "Lease") {
		return Config{}, fmt.Errorf("ELECTION_KIND: bad value %q: must differ from DATASTORE_KIND, the scheduler's kind, so that elections and jobs never share a record", c.Kind)
	}
	if strings.HasPrefix(c.Kind, "__") && strings.HasSuffix(c.Kind, "__") {
		return Config{}, fmt.Errorf("ELECTION_KIND: bad value %q: kinds of the form __*__ are reserved by Datastore", c.Kind)
	}
	if c.GRPCPort != 0 && c.GRPCPort == c.Port {
		return Config{}, fmt.Errorf("GRPC_PORT: bad value %q: APP_PORT is the same port", strconv.Itoa(c.GRPCPort))
	}
	return c, nil
}

func firstNonEmpty(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}
