package store

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"sync"
	"time"
)

// A Backend is one kind of store the daemon can be configured to use
// (STORE=name). Each backend package registers itself (Register, from an
// init function) and reads its own environment variables, so that adding a
// backend is one new package, passing storetest, and one import line in
// package store/backends: config, run and metrics do not change.
type Backend struct {
	// Name is the value of STORE that selects it.
	Name string
	// Default, if true, makes it the store when STORE is unset and no other
	// backend is implied. Exactly one backend is the default.
	Default bool
	// Implied, if set, returns why the environment selects this backend
	// when STORE is unset (e.g. "DATASTORE_EMULATOR_HOST is set"), or "".
	Implied func(getenv func(string) string) string
	// Configure reads and validates the backend's variables. reason is why
	// the backend was chosen, for its errors: ReasonStoreSet, an Implied
	// reason, or "" when the caller chose it without the environment. It
	// returns an error naming the variable and the bad value.
	Configure func(getenv func(string) string, reason string) (Settings, error)
	// Check, if set, validates the backend's variables even when another
	// backend is chosen, so that a bad value never goes unnoticed.
	Check func(getenv func(string) string) error
	// CheckKind, if set, validates kind as OpenOptions.Kind for a store
	// kept apart from the backend's own records (the lease service's
	// elections): a kind the backend refuses, or its own, configured by
	// its variables, is an error saying why, for the caller to prefix with
	// its variable and the value. Callers check it even when another
	// backend is chosen, as Check.
	CheckKind func(getenv func(string) string, kind string) error
}

// ReasonStoreSet is the reason given to Configure when the STORE variable
// named the backend.
const ReasonStoreSet = "STORE is set"

// Settings is a configured backend: what it opens and how to name it.
type Settings interface {
	// Open connects to the store. The store must be closed by the caller.
	Open(ctx context.Context, o OpenOptions) (Store, error)
	// Describe names the store and where it is, for logs and readiness
	// ("datastore at localhost:8081 (DATASTORE_EMULATOR_HOST)").
	Describe() string
	// Address is what the store dials, "" for an embedded store.
	Address() string
}

// OpenOptions are the caller's part of opening a store.
type OpenOptions struct {
	// Timeout bounds every store call.
	Timeout time.Duration
	// Kind, if set, keeps this store's records apart from others' in the
	// same backend (the lease service's elections, kind "Election" in
	// Datastore); "" is the backend's own setting.
	Kind string
	// HistoryLimit is how many runs per job the store's run history keeps
	// (store.History); 0 is DefaultHistoryLimit.
	HistoryLimit int
}

// CallObserver is implemented by stores that count their RPCs themselves
// (Datastore): the metrics then count those instead of the store calls.
type CallObserver interface {
	ObserveCalls(fn func(method, code string, d time.Duration))
}

// ClockReader is implemented by stores that can estimate this process's
// clock minus the store's (Datastore, from its commit timestamps).
type ClockReader interface {
	ClockOffset() (offset, uncertainty time.Duration, ok bool)
}

var (
	backendsMu sync.Mutex
	backends   = map[string]Backend{}
)

// Register makes a backend selectable by name. It panics on a duplicate
// name or a second default, which are programming errors.
func Register(b Backend) {
	backendsMu.Lock()
	defer backendsMu.Unlock()
	if _, dup := backends[b.Name]; dup || b.Name == "" || b.Configure == nil {
		panic(fmt.Sprintf("store: bad or duplicate backend %q", b.Name))
	}
	if b.Default {
		for _, o := range backends {
			if o.Default {
				panic(fmt.Sprintf("store: backends %q and %q are both the default", o.Name, b.Name))
			}
		}
	}
	backends[b.Name] = b
}

// Lookup returns the backend registered under name.
func Lookup(name string) (Backend, bool) {
	backendsMu.Lock()
	defer backendsMu.Unlock()
	b, ok := backends[name]
	return b, ok
}

// Backends returns every registered backend, by name.
func Backends() []Backend {
	backendsMu.Lock()
	defer backendsMu.Unlock()
	out := make([]Backend, 0, len(backends))
	for _, b := range backends {
		out = append(out, b)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Choose returns the backend the environment selects when STORE is unset:
// the first implied one (by name), else the default; and why.
func Choose(getenv func(string) string) (Backend, string, bool) {
	all := Backends()
	for _, b := range all {
		if b.Implied != nil {
			if why := b.Implied(getenv); why != "" {
				return b, why, true
			}
		}
	}
	i := slices.IndexFunc(all, func(b Backend) bool { return b.Default })
	if i < 0 {
		return Backend{}, "", false
	}
	return all[i], "the default: embedded, for a single replica", true
}
