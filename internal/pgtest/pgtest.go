// Package pgtest gives tests a real PostgreSQL: the server named by
// POSTGRES_TEST_URL (start one with `eval "$(.ci/postgres.sh)"`), a schema
// of its own per test, and, for tests that stop or restart the server, a
// private throwaway cluster started by the same script.
//
// Without POSTGRES_TEST_URL the tests that need it skip, unless
// POSTGRES_REQUIRED=1 (CI sets it), when they fail. It is test support: it
// reads the environment and calls t.Fatal.
package pgtest

import (
	"context"
	"fmt"
	"os"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// The variables read.
const (
	URLVar      = "POSTGRES_TEST_URL"
	RequiredVar = "POSTGRES_REQUIRED"
)

// URL returns POSTGRES_TEST_URL, or skips t (fails it with
// POSTGRES_REQUIRED=1) when it is unset.
func URL(t testing.TB) string {
	t.Helper()
	u := os.Getenv(URLVar)
	if u == "" {
		missing(t, URLVar+" is unset: start PostgreSQL with `eval \"$(.ci/postgres.sh)\"`")
	}
	return u
}

func missing(t testing.TB, why string) {
	t.Helper()
	if os.Getenv(RequiredVar) == "1" {
		t.Fatalf("%s, and %s=1", why, RequiredVar)
	}
	t.Skip(why)
}

var seq atomic.Int64

var notName = regexp.MustCompile(`[^a-z0-9]+`)

// Schema creates a schema of t's own on url and drops it, with everything
// in it, when t ends (after the cleanups registered later, such as the
// closing of stores). The name is lowercase, valid for POSTGRES_SCHEMA.
func Schema(t testing.TB, url string) string {
	t.Helper()
	name := notName.ReplaceAllString(strings.ToLower(t.Name()), "_")
	if len(name) > 30 {
		name = name[len(name)-30:]
	}
	name = fmt.Sprintf("t%d_%d_%s", time.Now().UnixNano()%1e9, seq.Add(1), strings.Trim(name, "_"))
	Exec(t, url, "CREATE SCHEMA "+name)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := execSQL(ctx, url, "DROP SCHEMA "+name+" CASCADE"); err != nil {
			t.Logf("drop schema %s: %v", name, err)
		}
	})
	return name
}

// Exec runs statements on a connection of its own to url.
func Exec(t testing.TB, url, sql string, args ...any) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := execSQL(ctx, url, sql, args...); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

func execSQL(ctx context.Context, url, sql string, args ...any) error {
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	_, err = conn.Exec(ctx, sql, args...)
	return err
}

// Conn returns a connection of its own to url, closed when t ends.
func Conn(t testing.TB, url string) *pgx.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

// WithUser returns url with its user and password replaced.
func WithUser(t testing.TB, url, user, password string) string {
	t.Helper()
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("postgres://%s:%s@%s:%d/%s?sslmode=disable", user, password, cfg.Host, cfg.Port, cfg.Database)
}

// TerminateBackends ends every session of application on url's server but
// the caller's (pg_terminate_backend), and returns how many it ended.
func TerminateBackends(ctx context.Context, url, application string) (int, error) {
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return 0, err
	}
	defer conn.Close(context.Background())
	var n int
	err = conn.QueryRow(ctx, `SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity
		WHERE application_name = $1 AND pid <> pg_backend_pid()`, application).Scan(&n)
	return n, err
}
