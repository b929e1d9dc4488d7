package postgres_test

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"go-leader-election/internal/pgtest"
	"go-leader-election/store"
	"go-leader-election/store/postgres"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

const secret = "s3cr3t-Pa55"

func TestSettingsFromEnv(t *testing.T) {
	cases := []struct {
		name, url, schema string
		address, describe string
	}{
		{"url", "postgres://app:" + secret + "@db.internal:6432/jobs?sslmode=require", "",
			"postgres://app@db.internal:6432/jobs", "postgres at db.internal:6432 (database jobs, user app)"},
		{"key=value", "host=10.0.0.7 port=5433 dbname=jobs user=sched password='" + secret + "' sslmode=disable", "scheduler",
			"postgres://sched@10.0.0.7:5433/jobs", "postgres at 10.0.0.7:5433 (database jobs, user sched)"},
		{"two hosts", "postgres://app:" + secret + "@a:5432,b:5433/jobs?sslmode=disable", "",
			"postgres://app@a:5432,b:5433/jobs", "postgres at a:5432,b:5433 (database jobs, user app)"},
		{"unix socket", "host=/var/run/postgresql dbname=jobs user=app", "",
			"postgres://app@/var/run/postgresql/.s.PGSQL.5432/jobs", "postgres at /var/run/postgresql/.s.PGSQL.5432 (database jobs, user app)"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, err := postgres.SettingsFromEnv(env(map[string]string{"DATABASE_URL": tc.url, "POSTGRES_SCHEMA": tc.schema}))
			if err != nil {
				t.Fatal(err)
			}
			if s.Address() != tc.address || s.Describe() != tc.describe {
				t.Errorf("Address %q, Describe %q; want %q, %q", s.Address(), s.Describe(), tc.address, tc.describe)
			}
			want := tc.schema
			if want == "" {
				want = "public"
			}
			if s.Schema != want {
				t.Errorf("Schema %q, want %q", s.Schema, want)
			}
			for _, shown := range []string{s.Address(), s.Describe(), s.Redacted()} {
				if strings.Contains(shown, secret) {
					t.Errorf("%q shows the password", shown)
				}
			}
		})
	}
}

func TestBadSettingsNameTheVariableNotThePassword(t *testing.T) {
	cases := []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"STORE": "postgres"}, "STORE=postgres needs DATABASE_URL"},
		{map[string]string{"DATABASE_URL": "postgres://app:" + secret + "@db:99999/jobs"}, `DATABASE_URL: bad value "postgres://app:xxxxx@db:99999/jobs"`},
		{map[string]string{"DATABASE_URL": "postgres://app:" + secret + "@db/jobs?pool_max_conns=lots"}, `DATABASE_URL: bad value "postgres://app:xxxxx@db/jobs?pool_max_conns=lots"`},
		{map[string]string{"DATABASE_URL": "host=db password=" + secret + " sslmode=sometimes"}, `DATABASE_URL: bad value "host=db password=xxxxx sslmode=sometimes"`},
		{map[string]string{"DATABASE_URL": "postgres://app:" + secret + "@db/jobs?sslmode=disable&sslpassword=" + secret + "&connect_timeout=x"}, "DATABASE_URL: bad value"},
		{map[string]string{"DATABASE_URL": "postgres://db/jobs", "POSTGRES_SCHEMA": "Jobs"}, `POSTGRES_SCHEMA: bad value "Jobs"`},
		{map[string]string{"DATABASE_URL": "postgres://db/jobs", "POSTGRES_SCHEMA": "pg_jobs"}, `POSTGRES_SCHEMA: bad value "pg_jobs"`},
		{map[string]string{"DATABASE_URL": "postgres://db/jobs", "POSTGRES_SCHEMA": "a-b"}, `POSTGRES_SCHEMA: bad value "a-b"`},
	}
	for _, tc := range cases {
		_, err := postgres.SettingsFromEnv(env(tc.env))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: error %v, want one containing %q", tc.env, err, tc.want)
			continue
		}
		if strings.Contains(err.Error(), secret) {
			t.Errorf("%v: the error %q shows the password", tc.env, err)
		}
		t.Logf("%v", err)
	}
}

// TestImpliedAndChecked: DATABASE_URL selects the backend when STORE is
// unset; set together with another store's variables and no STORE, the
// daemon refuses to guess.
func TestImpliedAndChecked(t *testing.T) {
	b, ok := store.Lookup("postgres")
	if !ok {
		t.Fatal("postgres is not registered")
	}
	if why := b.Implied(env(map[string]string{"DATABASE_URL": "postgres://db/jobs"})); why != "DATABASE_URL is set" {
		t.Errorf("Implied = %q", why)
	}
	if why := b.Implied(env(nil)); why != "" {
		t.Errorf("Implied without DATABASE_URL = %q", why)
	}
	both := map[string]string{"DATABASE_URL": "postgres://db/jobs", "DATASTORE_PROJECT_ID": "p"}
	err := b.Check(env(both))
	if err == nil || !strings.Contains(err.Error(), "set STORE") {
		t.Errorf("Check with DATABASE_URL and DATASTORE_PROJECT_ID: %v, want an error asking for STORE", err)
	}
	both["STORE"] = "datastore"
	if err := b.Check(env(both)); err != nil {
		t.Errorf("Check with STORE=datastore and DATABASE_URL (the application's own database): %v", err)
	}
	if err := b.Check(env(map[string]string{"STORE": "memory", "POSTGRES_SCHEMA": "Bad"})); err == nil {
		t.Error("Check accepted POSTGRES_SCHEMA=Bad")
	}
}

// TestOpenErrors: a wrong password and an unreachable server fail Open
// with an error naming DATABASE_URL, without the password.
func TestOpenErrors(t *testing.T) {
	url := pgtest.URL(t)
	wrong := pgtest.WithUser(t, url, "postgres", secret)
	silent, err := net.Listen("tcp", "127.0.0.1:0") // accepts, never answers
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	go func() {
		for {
			c, err := silent.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	cases := map[string]string{
		"wrong password":          wrong,
		"nobody listens":          "postgres://app:" + secret + "@127.0.0.1:1/jobs?sslmode=disable",
		"a server that is silent": "postgres://app:" + secret + "@" + silent.Addr().String() + "/jobs?sslmode=disable",
	}
	for name, u := range cases {
		s, err := postgres.SettingsFromEnv(env(map[string]string{"DATABASE_URL": u}))
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		st, err := s.Open(context.Background(), store.OpenOptions{Timeout: 2 * time.Second})
		if err == nil {
			st.Close()
			t.Fatalf("%s: Open succeeded", name)
		}
		msg := err.Error()
		if !strings.HasPrefix(msg, `STORE=postgres, DATABASE_URL "`+s.Redacted()+`": `) || strings.Contains(msg, secret) {
			t.Errorf("%s: error %q, want it to name DATABASE_URL without the password", name, msg)
		}
		if d := time.Since(start); d > 3*time.Second {
			t.Errorf("%s: Open took %s with a 2s timeout", name, d)
		}
		t.Logf("%s: %v", name, err)
	}
}
