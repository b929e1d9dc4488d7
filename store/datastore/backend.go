package datastore

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"go-leader-election/internal/dsname"
	"go-leader-election/store"
)

// The Datastore store is selected by STORE=datastore, or when
// DATASTORE_EMULATOR_HOST or DATASTORE_PROJECT_ID is set.
func init() {
	store.Register(store.Backend{
		Name: "datastore",
		Implied: func(getenv func(string) string) string {
			for _, name := range []string{"DATASTORE_EMULATOR_HOST", "DATASTORE_PROJECT_ID"} {
				if getenv(name) != "" {
					return name + " is set"
				}
			}
			return ""
		},
		Configure: func(getenv func(string) string, reason string) (store.Settings, error) {
			return SettingsFromEnv(getenv, reason)
		},
		Check: func(getenv func(string) string) error {
			_, err := settingsFromEnv(getenv)
			return err
		},
		CheckKind: checkOtherKind,
	})
}

// checkOtherKind refuses a kind Datastore reserves, one it would refuse,
// and DATASTORE_KIND's (the scheduler's): records of two users must never
// mix.
func checkOtherKind(getenv func(string) string, kind string) error {
	switch {
	case dsname.Reserved(kind):
		return errors.New("kinds of the form __*__ are reserved by Datastore")
	case !validKind(kind):
		return errors.New("want a Datastore kind: at most 1,500 bytes of text without control characters")
	case kind == cmp.Or(strings.TrimSpace(getenv("DATASTORE_KIND")), DefaultKind):
		return errors.New("must differ from DATASTORE_KIND, the scheduler's kind, so that elections and jobs never share a record")
	}
	return nil
}

// validKind reports whether Datastore accepts k as a kind, __reserved__
// kinds aside.
func validKind(k string) bool {
	return utf8.ValidString(k) && len(k) <= 1500 && strings.IndexFunc(k, unicode.IsControl) < 0
}

// Settings configures the Datastore store from the environment. Every field
// is checked against what Datastore accepts, so that a value Datastore would
// refuse stops the daemon at start rather than failing every store call.
type Settings struct {
	// Project is DATASTORE_PROJECT_ID, else GOOGLE_CLOUD_PROJECT. Required.
	// Invariant: a project ID: lowercase letters, digits, '-', '.' and
	// ':', starting with a letter, at most 100 characters.
	Project string
	// Database is a named database (DATASTORE_DATABASE); "" is the default.
	// Invariant: "", "(default)", or a database ID: 4 to 63 lowercase
	// letters, digits and hyphens, starting with a letter, ending with a
	// letter or digit, not UUID-like.
	Database string
	// Namespace keeps one environment's leases apart (DATASTORE_NAMESPACE).
	// Default "", the default namespace. Invariant: at most 100 letters,
	// digits, '.', '-' and '_', not __reserved__.
	Namespace string
	// Kind is the lease entity kind (DATASTORE_KIND). Default "Lease".
	// Invariant: valid UTF-8 without control characters, at most 1,500
	// bytes, not __reserved__.
	Kind string
	// EmulatorHost is DATASTORE_EMULATOR_HOST: the host:port of an emulator
	// (no credentials are used), or "" for Google Cloud. Invariant: "" or
	// host:port with a host and a port from 1 to 65535, without a scheme.
	EmulatorHost string
}

// ProductionAddress is the address the Datastore client dials without an
// emulator.
const ProductionAddress = "datastore.googleapis.com:443"

var (
	projectRE   = regexp.MustCompile(`^[a-z][a-z0-9.:-]{0,99}$`)
	databaseRE  = regexp.MustCompile(`^[a-z][a-z0-9-]{2,61}[a-z0-9]$`)
	uuidLikeRE  = regexp.MustCompile(`^[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}$`)
	namespaceRE = regexp.MustCompile(`^[0-9A-Za-z._-]{0,100}$`)
)

// SettingsFromEnv reads and validates the DATASTORE_* variables. reason is
// why the Datastore store was chosen, for the error when no project is set.
// Errors name the variable and the bad value.
func SettingsFromEnv(getenv func(string) string, reason string) (*Settings, error) {
	s, err := settingsFromEnv(getenv)
	if err != nil {
		return nil, err
	}
	if s.Project == "" {
		if reason == "" || reason == store.ReasonStoreSet {
			return nil, errors.New("STORE=datastore needs DATASTORE_PROJECT_ID (or GOOGLE_CLOUD_PROJECT)")
		}
		// The user never set STORE: say what chose the Datastore store.
		return nil, fmt.Errorf("%s, so STORE=datastore, which needs DATASTORE_PROJECT_ID (or GOOGLE_CLOUD_PROJECT); "+
			"any id works with an emulator, e.g. DATASTORE_PROJECT_ID=demo (or set STORE=memory)", reason)
	}
	return s, nil
}

// settingsFromEnv reads the variables and checks each value, not whether
// the set is complete.
func settingsFromEnv(getenv func(string) string) (*Settings, error) {
	var first error
	fail := func(name, v, why string) {
		if first == nil {
			first = fmt.Errorf("%s: bad value %q: %s", name, v, why)
		}
	}
	get := func(name string) string { return strings.TrimSpace(getenv(name)) }
	projectVar := "DATASTORE_PROJECT_ID"
	if get(projectVar) == "" {
		projectVar = "GOOGLE_CLOUD_PROJECT"
	}
	s := &Settings{Project: get(projectVar), Database: get("DATASTORE_DATABASE"), Namespace: get("DATASTORE_NAMESPACE"),
		Kind: get("DATASTORE_KIND"), EmulatorHost: get("DATASTORE_EMULATOR_HOST")}
	if s.Project != "" && !projectRE.MatchString(s.Project) {
		fail(projectVar, s.Project, "want a Google Cloud project ID: lowercase letters, digits and hyphens, starting with a letter (my-project)")
	}
	if d := s.Database; d != "" && d != "(default)" && (!databaseRE.MatchString(d) || uuidLikeRE.MatchString(d)) {
		fail("DATASTORE_DATABASE", d, "want a database ID: 4 to 63 lowercase letters, digits and hyphens, starting with a letter and ending with a letter or digit")
	}
	if ns := s.Namespace; !namespaceRE.MatchString(ns) || dsname.Reserved(ns) {
		fail("DATASTORE_NAMESPACE", ns, "want at most 100 letters, digits, '.', '-' or '_', not __reserved__ (staging)")
	}
	if k := s.Kind; !validKind(k) || dsname.Reserved(k) {
		fail("DATASTORE_KIND", k, "want a Datastore kind: at most 1,500 bytes of text without control characters, not __reserved__ (Lease)")
	}
	if s.Kind == "" {
		s.Kind = DefaultKind
	}
	if h := s.EmulatorHost; h != "" {
		if why := checkHostPort(h); why != "" {
			fail("DATASTORE_EMULATOR_HOST", h, why)
		}
	}
	if first != nil {
		return nil, first
	}
	return s, nil
}

// checkHostPort says what is wrong with an emulator address, or "".
func checkHostPort(v string) string {
	if scheme, _, ok := strings.Cut(v, "://"); ok {
		return fmt.Sprintf("want host:port without %s:// (localhost:8081), as gcloud's env-init prints it", scheme)
	}
	host, port, err := net.SplitHostPort(v)
	if err != nil || host == "" {
		return "want host:port, such as localhost:8081"
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return fmt.Sprintf("port %q: want a number from 1 to 65535", port)
	}
	return ""
}

// Address is the address the store dials: EmulatorHost, or
// ProductionAddress.
func (s *Settings) Address() string {
	if s.EmulatorHost != "" {
		return s.EmulatorHost
	}
	return ProductionAddress
}

// Describe implements store.Settings.
func (s *Settings) Describe() string {
	if s.EmulatorHost != "" {
		return "datastore at " + s.EmulatorHost + " (DATASTORE_EMULATOR_HOST)"
	}
	return "datastore at " + ProductionAddress + " (project " + s.Project + ")"
}

// Open implements store.Settings. The emulator host is passed explicitly
// rather than left to the client library's own reading of the process
// environment, so that the daemon sees only its getenv.
func (s *Settings) Open(ctx context.Context, o store.OpenOptions) (store.Store, error) {
	kind := s.Kind
	if o.Kind != "" {
		kind = o.Kind
	}
	st, err := New(ctx, Config{
		Project: s.Project, Database: s.Database, Namespace: s.Namespace, Kind: kind,
		Timeout: o.Timeout, EmulatorHost: s.EmulatorHost, HistoryLimit: o.HistoryLimit,
	})
	if err != nil {
		return nil, fmt.Errorf("STORE=datastore: %w", err)
	}
	return st, nil
}

// ObserveCalls implements store.CallObserver: fn is told of every RPC.
func (s *Store) ObserveCalls(fn func(method, code string, d time.Duration)) { s.calls.SetObserver(fn) }

var (
	_ store.CallObserver = (*Store)(nil)
	_ store.ClockReader  = (*Store)(nil)
)
