package postgres_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"

	"go-leader-election/internal/pgtest"
	"go-leader-election/store/postgres"
)

// TestREADMEHasTheSQL: the SQL README.md gives to run by hand is this
// package's, for the default schema.
func TestREADMEHasTheSQL(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	want := "```sql\n" + postgres.SQL(postgres.DefaultSchema) + "```\n"
	if !strings.Contains(string(readme), want) {
		t.Errorf("README.md does not give the tables' SQL of this version; its section \"PostgreSQL\" should have:\n%s", want)
	}
}

// TestManyStartAtOnce: replicas starting together on a schema that does
// not exist yet all start; the tables are made once.
func TestManyStartAtOnce(t *testing.T) {
	url := pgtest.URL(t)
	schema := pgtest.Schema(t, url)
	pgtest.Exec(t, url, "DROP SCHEMA "+schema) // New creates it
	const replicas = 8
	stores := make([]*postgres.Store, replicas)
	errs := make([]error, replicas)
	var wg sync.WaitGroup
	for i := range replicas {
		wg.Go(func() {
			stores[i], errs[i] = postgres.New(context.Background(), postgres.Config{URL: url, Schema: schema})
		})
	}
	wg.Wait()
	migrations := 0
	for i, err := range errs {
		if err != nil {
			t.Fatalf("replica %d: %v", i, err)
		}
		defer stores[i].Close()
		migrations += int(stores[i].Calls().Snapshot()["Migrate"])
	}
	var versions int
	conn := pgtest.Conn(t, url)
	if err := conn.QueryRow(context.Background(), "SELECT count(*) FROM "+schema+".gle_schema_version").Scan(&versions); err != nil {
		t.Fatal(err)
	}
	if versions != postgres.Version {
		t.Errorf("%d versions recorded, want %d", versions, postgres.Version)
	}
	if migrations < 1 {
		t.Errorf("no replica migrated")
	}
	t.Logf("%d replicas, %d took the migration lock", replicas, migrations)

	again := newStore(t, postgres.Config{URL: url, Schema: schema})
	if n := again.Calls().Snapshot()["Migrate"]; n != 0 {
		t.Errorf("a start on tables of this version migrated (%d)", n)
	}
}

// TestWithoutTheRightToCreate: a role that may not create tables gets an
// error saying what to grant, or to run the SQL by hand; after the SQL (run
// twice: it is idempotent) and the grants, it starts and claims.
func TestWithoutTheRightToCreate(t *testing.T) {
	url := pgtest.URL(t)
	role := fmt.Sprintf("gle_app_%d", jobSeq.Add(1))
	pgtest.Exec(t, url, fmt.Sprintf("CREATE ROLE %s LOGIN PASSWORD '%s'", role, secret))
	t.Cleanup(func() {
		pgtest.Exec(t, url, "DROP OWNED BY "+role)
		pgtest.Exec(t, url, "DROP ROLE "+role)
	})
	schema := pgtest.Schema(t, url)
	pgtest.Exec(t, url, fmt.Sprintf("GRANT USAGE ON SCHEMA %s TO %s", schema, role))
	asRole := pgtest.WithUser(t, url, role, secret)

	_, err := postgres.New(context.Background(), postgres.Config{URL: asRole, Schema: schema})
	if err == nil {
		t.Fatal("New without the right to create tables succeeded")
	}
	for _, want := range []string{"grant CREATE on schema " + schema + " to " + role, `README.md, section "PostgreSQL"`, "grant " + role + " SELECT, INSERT, UPDATE, DELETE", "SQLSTATE 42501"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q, want it to say %q", err, want)
		}
	}
	if strings.Contains(err.Error(), secret) {
		t.Errorf("error %q shows the password", err)
	}
	t.Logf("%v", err)

	for range 2 {
		pgtest.Exec(t, url, postgres.SQL(schema))
	}
	pgtest.Exec(t, url, fmt.Sprintf("GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA %s TO %s", schema, role))
	s := newStore(t, postgres.Config{URL: asRole, Schema: schema})
	if _, err := s.Claim(context.Background(), claimReq(jobName("granted"), "a", 1, 0)); err != nil {
		t.Fatalf("Claim on tables made by hand: %v", err)
	}
}
