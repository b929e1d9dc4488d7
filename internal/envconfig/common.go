package envconfig

import (
	"strings"
	"time"

	"go-leader-election/store"
)

// Defaults of the shared variables.
const (
	// DefaultPort is APP_PORT's default.
	DefaultPort = 3000
	// DefaultStoreTimeout is STORE_TIMEOUT's default: the daemon's lease
	// timing (schedulers.DefaultTiming) and serve use the same.
	DefaultStoreTimeout = 1500 * time.Millisecond
)

// Common is what every command reads: LoadCommon fills every field.
type Common struct {
	// Port is the HTTP port (APP_PORT). Default 3000; 0 picks a free port,
	// which is logged. Invariant: 0..65535.
	Port int
	// Stage is the deployment stage (APP_STAGE), logged with every event
	// as "environment" when set. "local" selects console logs. Default "".
	// Invariant: printable text (no control characters).
	Stage string
	// LogFormat is "json" or "console" (LOG_FORMAT). Default console when
	// Stage is "local", json otherwise.
	LogFormat string
	// LogLevel is the least severe level logged (LOG_LEVEL): debug, info,
	// warn or error. Default info.
	LogLevel string
	// NodeName names this process in logs and leases (NODE_NAME). Default
	// "": the caller picks a random Docker-style name, new at every start.
	// Invariant: empty, or 1 to MaxNodeName letters, digits, '.', '-' and
	// '_', so that every Kubernetes pod name passes and the lease holder
	// stays far below Datastore's 1,500-byte indexed-string limit.
	NodeName string

	// Store is the store's backend (STORE): a name registered with
	// store.Register (package store/backends lists them: memory, the
	// default, and datastore, implied when DATASTORE_EMULATOR_HOST or
	// DATASTORE_PROJECT_ID is set). StoreReason says which rule chose it
	// (store.ReasonStoreSet, "DATASTORE_EMULATOR_HOST is set", ...).
	Store       string
	StoreReason string
	// Backend is the chosen backend's validated settings: what it opens,
	// and how to name it in logs. The backend reads its own variables.
	Backend store.Settings
	// StoreTimeout bounds every store call (STORE_TIMEOUT). Default
	// DefaultStoreTimeout. Invariant: positive.
	StoreTimeout time.Duration
}

// LoadCommon reads the shared variables with p. When they are good, it
// configures the chosen backend (which reads its own variables) and checks
// every other backend's variables too, so that a bad value never goes
// unnoticed; an error is kept in p.
func LoadCommon(p *Parser) Common {
	c := Common{
		Port:     p.Int("APP_PORT", DefaultPort, 0, 65535),
		Stage:    p.Text("APP_STAGE"),
		NodeName: p.NodeName("NODE_NAME"),
	}
	c.LogLevel = p.OneOf("LOG_LEVEL", "info", "debug", "info", "warn", "error")
	c.LogFormat = p.OneOf("LOG_FORMAT", map[bool]string{true: "console", false: "json"}[c.Stage == "local"], "json", "console")
	c.StoreTimeout = p.Duration("STORE_TIMEOUT", DefaultStoreTimeout, false)
	if c.StoreTimeout == 0 {
		p.Fail("STORE_TIMEOUT", p.String("STORE_TIMEOUT"), "must be positive")
	}
	backend, reason, ok := chooseStore(p)
	c.Store, c.StoreReason = backend.Name, reason
	if !ok || p.Err() != nil {
		return c
	}
	for _, b := range store.Backends() {
		if b.Name != backend.Name && b.Check != nil {
			if err := b.Check(p.getenv); err != nil {
				p.FailWith(err)
				return c
			}
		}
	}
	settings, err := backend.Configure(p.getenv, reason)
	if err != nil {
		p.FailWith(err)
		return c
	}
	c.Backend = settings
	return c
}

// chooseStore returns the backend STORE names, else the one the
// environment implies, else the default; and why.
func chooseStore(p *Parser) (store.Backend, string, bool) {
	if v := p.String("STORE"); v != "" {
		if b, ok := store.Lookup(strings.ToLower(v)); ok {
			return b, store.ReasonStoreSet, true
		}
		var names []string
		for _, b := range store.Backends() {
			names = append(names, b.Name)
		}
		p.Fail("STORE", v, "want one of "+strings.Join(names, ", "))
	}
	b, why, ok := store.Choose(p.getenv)
	if !ok {
		p.Fail("STORE", "", "no store backend is registered (import go-leader-election/store/backends)")
	}
	return b, why, ok
}
