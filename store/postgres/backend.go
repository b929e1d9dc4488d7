package postgres

import (
	"context"
	"errors"
	"fmt"
	"net"
	neturl "net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"go-leader-election/store"
)

// The PostgreSQL store is selected by STORE=postgres, or when DATABASE_URL
// is set.
func init() {
	store.Register(store.Backend{
		Name: "postgres",
		Implied: func(getenv func(string) string) string {
			if strings.TrimSpace(getenv(urlVar)) != "" {
				return urlVar + " is set"
			}
			return ""
		},
		Configure: func(getenv func(string) string, reason string) (store.Settings, error) {
			return SettingsFromEnv(getenv)
		},
		Check: check,
	})
}

// The variables this backend reads.
const (
	urlVar    = "DATABASE_URL"
	schemaVar = "POSTGRES_SCHEMA"
)

// Settings configures the PostgreSQL store from the environment.
type Settings struct {
	// URL is DATABASE_URL: a postgres:// URL or a key=value string. It may
	// hold a password: it is never logged; Redacted is what is shown.
	URL string
	// Schema is POSTGRES_SCHEMA, default "public". Invariant: ValidSchema.
	Schema string

	redacted string
	secrets  []string
	// hosts are the host:port pairs dialled, in order; user and database
	// are the role and the database, as pgx resolved them.
	hosts          []string
	user, database string
}

// SettingsFromEnv reads and validates DATABASE_URL and POSTGRES_SCHEMA.
// Errors name the variable and the value, the password replaced by xxxxx.
func SettingsFromEnv(getenv func(string) string) (*Settings, error) {
	schema, err := schemaFromEnv(getenv)
	if err != nil {
		return nil, err
	}
	raw := strings.TrimSpace(getenv(urlVar))
	if raw == "" {
		return nil, errors.New("STORE=postgres needs DATABASE_URL: a postgres:// URL (postgres://user:password@host:5432/database) " +
			"or a key=value string (host=... dbname=... user=...)")
	}
	s := &Settings{URL: raw, Schema: schema}
	s.redacted, s.secrets = redact(raw)
	cfg, err := pgxpool.ParseConfig(raw)
	if err != nil {
		return nil, fmt.Errorf("%s: bad value %q: %s", urlVar, s.redacted, parseProblem(err, s.secrets))
	}
	cc := cfg.ConnConfig
	s.user, s.database = cc.User, cc.Database
	s.hosts = []string{hostPort(cc.Host, cc.Port)}
	for _, fb := range cc.Fallbacks {
		if hp := hostPort(fb.Host, fb.Port); !slices.Contains(s.hosts, hp) {
			s.hosts = append(s.hosts, hp)
		}
	}
	return s, nil
}

func schemaFromEnv(getenv func(string) string) (string, error) {
	v := strings.TrimSpace(getenv(schemaVar))
	if v == "" {
		return DefaultSchema, nil
	}
	if err := ValidSchema(v); err != nil {
		return "", fmt.Errorf("%s: bad value %q: %w (e.g. scheduler)", schemaVar, v, err)
	}
	return v, nil
}

// check validates POSTGRES_SCHEMA when another store is chosen, and
// refuses DATABASE_URL when STORE is unset and another store's variables
// chose that store: which one the user meant is not clear.
func check(getenv func(string) string) error {
	if _, err := schemaFromEnv(getenv); err != nil {
		return err
	}
	if strings.TrimSpace(getenv("STORE")) != "" || strings.TrimSpace(getenv(urlVar)) == "" {
		return nil
	}
	chosen, why, _ := store.Choose(getenv)
	return fmt.Errorf("%s is set, which selects STORE=postgres, but %s, which selects STORE=%s: set STORE to the store to use",
		urlVar, why, chosen.Name)
}

func hostPort(host string, port uint16) string {
	if strings.HasPrefix(host, "/") { // a unix socket's directory
		return host + "/.s.PGSQL." + strconv.Itoa(int(port))
	}
	return net.JoinHostPort(host, strconv.Itoa(int(port)))
}

// Address implements store.Settings: what is dialled, as a URL without the
// password: postgres://user@host:port/database.
func (s *Settings) Address() string {
	return "postgres://" + s.user + "@" + strings.Join(s.hosts, ",") + "/" + s.database
}

// Describe implements store.Settings.
func (s *Settings) Describe() string {
	return fmt.Sprintf("postgres at %s (database %s, user %s)", strings.Join(s.hosts, ","), s.database, s.user)
}

// Redacted is DATABASE_URL with its passwords replaced by xxxxx.
func (s *Settings) Redacted() string { return s.redacted }

// Open implements store.Settings: it connects, and creates or upgrades the
// tables. Its errors name DATABASE_URL, without the password.
func (s *Settings) Open(ctx context.Context, o store.OpenOptions) (store.Store, error) {
	st, err := New(ctx, Config{URL: s.URL, Schema: s.Schema, Kind: o.Kind, HistoryLimit: o.HistoryLimit, Timeout: o.Timeout})
	if err != nil {
		return nil, &scrubbed{msg: fmt.Sprintf("STORE=postgres, %s %q: %s", urlVar, s.redacted, scrub(err.Error(), s.secrets)), err: err}
	}
	return st, nil
}

// scrubbed is an error whose text has the secrets taken out; it still
// matches what it wraps.
type scrubbed struct {
	msg string
	err error
}

func (e *scrubbed) Error() string { return e.msg }
func (e *scrubbed) Unwrap() error { return e.err }

const mask = "xxxxx"

// The places a connection string holds a password: a URL's user
// information (up to the last @, so that a password with an unescaped @ is
// hidden whole), a password or sslpassword parameter of a URL, and a
// password or sslpassword key of a key=value string, quoted or not.
var (
	urlPasswordRE   = regexp.MustCompile(`^(postgres(?:ql)?://[^:@/?]*:)(.*)(@)`)
	paramPasswordRE = regexp.MustCompile(`([?&](?:ssl)?password=)([^&]*)()`)
	keyPasswordRE   = regexp.MustCompile(`((?:^|\s)(?:ssl)?password\s*=\s*)('(?:[^'\\]|\\.)*'|\S*)()`)
)

// redact returns s with every password replaced by xxxxx, and the
// passwords found (as written, and unescaped), to take out of other text.
func redact(s string) (string, []string) {
	var secrets []string
	for _, re := range []*regexp.Regexp{urlPasswordRE, paramPasswordRE, keyPasswordRE} {
		s = re.ReplaceAllStringFunc(s, func(m string) string {
			parts := re.FindStringSubmatch(m)
			if secret := parts[2]; secret != "" {
				secrets = append(secrets, secret, strings.Trim(secret, "'"))
				if u, err := neturl.PathUnescape(secret); err == nil {
					secrets = append(secrets, u)
				}
			}
			return parts[1] + mask + parts[3]
		})
	}
	return s, secrets
}

// scrub takes the secrets out of text, longest first.
func scrub(text string, secrets []string) string {
	sorted := slices.Clone(secrets)
	slices.SortFunc(sorted, func(a, b string) int { return len(b) - len(a) })
	for _, sec := range sorted {
		if len(sec) > 0 {
			text = strings.ReplaceAll(text, sec, mask)
		}
	}
	return text
}

// parseProblem is what pgx found wrong with a connection string, without
// the string (the caller shows it, redacted) or its passwords.
func parseProblem(err error, secrets []string) string {
	msg := err.Error()
	var pce *pgconn.ParseConfigError
	if errors.As(err, &pce) {
		msg = pce.Error()
		if i := strings.LastIndex(msg, "`: "); i >= 0 {
			msg = msg[i+len("`: "):]
		}
	}
	return scrub(msg, secrets)
}
