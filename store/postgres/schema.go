package postgres

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"regexp"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// The tables, in the configured schema.
const (
	leasesTable    = "gle_leases"
	electionsTable = "gle_elections"
	membersTable   = "gle_members"
	runLogsTable   = "gle_run_logs"
	runsTable      = "gle_runs"
	versionTable   = "gle_schema_version"
)

// schemaPlaceholder stands for the quoted schema name in the DDL.
const schemaPlaceholder = "{schema}"

// versionDDL is the table of applied versions, created before any
// migration.
const versionDDL = `CREATE TABLE IF NOT EXISTS {schema}.gle_schema_version (
    version    integer PRIMARY KEY,
    applied_at timestamptz NOT NULL DEFAULT now()
);`

// migrations are the DDL of each version, in order: migrations[0] is
// version 1. A migration only adds (tables, columns with defaults), so that
// a replica of the previous version still works on the upgraded tables
// during a rolling update.
var migrations = []string{
	`CREATE TABLE IF NOT EXISTS {schema}.gle_leases (
    job     text PRIMARY KEY,
    holder  text NOT NULL DEFAULT '',
    node    text NOT NULL DEFAULT '',
    term    bigint NOT NULL DEFAULT 0,
    tick    timestamptz,
    ttl_ns  bigint NOT NULL DEFAULT 0,
    expires timestamptz,
    version bigint NOT NULL DEFAULT 0,
    paused  boolean NOT NULL DEFAULT false
);
CREATE TABLE IF NOT EXISTS {schema}.gle_elections (
    kind    text NOT NULL,
    name    text NOT NULL,
    holder  text NOT NULL DEFAULT '',
    node    text NOT NULL DEFAULT '',
    term    bigint NOT NULL DEFAULT 0,
    tick    timestamptz,
    ttl_ns  bigint NOT NULL DEFAULT 0,
    expires timestamptz,
    version bigint NOT NULL DEFAULT 0,
    paused  boolean NOT NULL DEFAULT false,
    PRIMARY KEY (kind, name)
);
CREATE TABLE IF NOT EXISTS {schema}.gle_members (
    id              text PRIMARY KEY,
    node            text NOT NULL,
    started         timestamptz,
    renewed         timestamptz,
    ttl_ns          bigint NOT NULL,
    clock_offset_ns bigint NOT NULL DEFAULT 0,
    version         bigint NOT NULL
);
CREATE TABLE IF NOT EXISTS {schema}.gle_run_logs (
    job         text PRIMARY KEY,
    next        bigint NOT NULL DEFAULT 0,
    latest_tick timestamptz,
    latest_term bigint NOT NULL DEFAULT 0,
    latest_lost boolean NOT NULL DEFAULT false
);
CREATE TABLE IF NOT EXISTS {schema}.gle_runs (
    job         text NOT NULL,
    slot        integer NOT NULL,
    seq         bigint NOT NULL,
    tick        timestamptz NOT NULL,
    term        bigint NOT NULL,
    node        text NOT NULL,
    started     timestamptz,
    duration_ns bigint NOT NULL,
    result      text NOT NULL,
    error       text NOT NULL DEFAULT '',
    manual      boolean NOT NULL DEFAULT false,
    PRIMARY KEY (job, slot)
);`,
	// Version 2: a member's job set; a run's attempts, status and output.
	`ALTER TABLE {schema}.gle_members ADD COLUMN IF NOT EXISTS job_set text NOT NULL DEFAULT '';
ALTER TABLE {schema}.gle_members ADD COLUMN IF NOT EXISTS jobs text[] NOT NULL DEFAULT '{}';
ALTER TABLE {schema}.gle_runs ADD COLUMN IF NOT EXISTS attempts integer NOT NULL DEFAULT 0;
ALTER TABLE {schema}.gle_runs ADD COLUMN IF NOT EXISTS status text NOT NULL DEFAULT '';
ALTER TABLE {schema}.gle_runs ADD COLUMN IF NOT EXISTS output text NOT NULL DEFAULT '';`,
}

// Version is the version of the tables this build uses: the number of
// migrations.
const Version = 2

var schemaRE = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,62}$`)

// ErrBadSchema is matched by ValidSchema's errors.
var ErrBadSchema = errors.New("want a schema name: 1 to 63 lowercase letters, digits and '_', starting with a letter or '_', not pg_*")

// ValidSchema checks a schema name: lowercase, so that it is the same name
// quoted (as this package writes it) or not (as people type it in psql).
func ValidSchema(name string) error {
	if !schemaRE.MatchString(name) || strings.HasPrefix(name, "pg_") {
		return ErrBadSchema
	}
	return nil
}

func quoteSchema(schema string) string { return pgx.Identifier{schema}.Sanitize() }

func qualified(schema, table string) string { return quoteSchema(schema) + "." + table }

func inSchema(ddl, schema string) string {
	return strings.ReplaceAll(ddl, schemaPlaceholder, quoteSchema(schema))
}

// SQL returns the script that creates schema and the tables of this
// version by hand, as Migrate would: for a role that may not create tables.
// Run it as the schema's owner, then grant the role SELECT, INSERT, UPDATE
// and DELETE on the tables.
func SQL(schema string) string {
	var b strings.Builder
	if schema != DefaultSchema {
		fmt.Fprintf(&b, "CREATE SCHEMA IF NOT EXISTS %s;\n", quoteSchema(schema))
	}
	b.WriteString(inSchema(versionDDL, schema) + "\n")
	for _, m := range migrations {
		b.WriteString(inSchema(m, schema) + "\n")
	}
	fmt.Fprintf(&b, "INSERT INTO %s (version) SELECT generate_series(1, %d) ON CONFLICT DO NOTHING;\n",
		qualified(schema, versionTable), Version)
	return b.String()
}

// migrateLockKey is the advisory lock that serialises the migrations of
// schema: a hash of the schema's name, so that two schemas do not wait for
// each other.
func migrateLockKey(schema string) int64 {
	h := fnv.New64a()
	h.Write([]byte("go-leader-election schema " + schema))
	return int64(h.Sum64())
}

// migrateTimeout bounds a migration, waiting for another replica's
// included: DDL waits for locks that the store's calls hold only briefly.
const migrateTimeoutFactor = 10

// Migrate creates or upgrades the tables to Version. When they are at
// Version already it reads one row and changes nothing, so a role that may
// not create tables works on tables made by hand (SQL). Otherwise it
// applies the missing versions in one transaction under an advisory lock:
// replicas starting together wait for the first, then find the work done.
func (s *Store) Migrate(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, migrateTimeoutFactor*s.timeout)
	defer cancel()
	if v, err := s.schemaVersion(ctx, s.pool); err == nil && v >= Version {
		return nil
	}
	err := s.calls.do("Migrate", func() error {
		return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error { return s.migrate(ctx, tx) })
	})
	if err != nil {
		return s.migrateError(ctx, err)
	}
	return nil
}

// querier is what Migrate's statements run on: the pool or a transaction.
type querier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// schemaVersion returns the latest version applied, 0 when there are no
// tables yet (looked up first, so that a first start logs no error in the
// server's log).
func (s *Store) schemaVersion(ctx context.Context, q querier) (int, error) {
	table := qualified(s.schema, versionTable)
	var exists bool
	if err := q.QueryRow(ctx, "SELECT to_regclass($1) IS NOT NULL", table).Scan(&exists); err != nil || !exists {
		return 0, err
	}
	var v int
	err := q.QueryRow(ctx, "SELECT coalesce(max(version), 0) FROM "+table).Scan(&v)
	return v, err
}

// migrate applies the missing versions inside tx.
func (s *Store) migrate(ctx context.Context, tx pgx.Tx) error {
	timeout := fmt.Sprintf("%dms", (migrateTimeoutFactor * s.timeout).Milliseconds())
	for _, set := range []string{"statement_timeout", "lock_timeout"} {
		if _, err := tx.Exec(ctx, "SELECT set_config($1, $2, true)", set, timeout); err != nil {
			return err
		}
	}
	if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", migrateLockKey(s.schema)); err != nil {
		return err
	}
	var schemaExists bool
	if err := tx.QueryRow(ctx, "SELECT EXISTS (SELECT FROM pg_namespace WHERE nspname = $1)", s.schema).Scan(&schemaExists); err != nil {
		return err
	}
	if !schemaExists { // CREATE SCHEMA IF NOT EXISTS would need the right even when it exists
		if _, err := tx.Exec(ctx, "CREATE SCHEMA IF NOT EXISTS "+quoteSchema(s.schema)); err != nil {
			return err
		}
	}
	if _, err := tx.Exec(ctx, inSchema(versionDDL, s.schema)); err != nil {
		return err
	}
	applied, err := s.schemaVersion(ctx, tx)
	if err != nil {
		return err
	}
	for v := applied + 1; v <= Version; v++ {
		if _, err := tx.Exec(ctx, inSchema(migrations[v-1], s.schema)); err != nil {
			return fmt.Errorf("version %d: %w", v, err)
		}
		if _, err := tx.Exec(ctx, "INSERT INTO "+qualified(s.schema, versionTable)+" (version) VALUES ($1)", v); err != nil {
			return err
		}
	}
	return nil
}

// migrateError explains a failed migration; a missing right says what to
// grant, or to run the SQL by hand.
func (s *Store) migrateError(ctx context.Context, err error) error {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "42501" { // insufficient_privilege
		var user string
		_ = s.pool.QueryRow(ctx, "SELECT current_user").Scan(&user)
		role := user
		if ValidSchema(user) != nil { // not a plain name: quoted, as SQL needs it
			role = quoteSchema(user)
		}
		return fmt.Errorf("postgres: cannot create the tables (version %d) in schema %s: role %s may not: "+
			"grant CREATE on schema %s to %s (and CREATE on the database if the schema does not exist), "+
			"or run the SQL of README.md, section \"PostgreSQL\", as the schema's owner "+
			"and grant %s SELECT, INSERT, UPDATE, DELETE on the tables: %w",
			Version, s.schema, role, s.schema, role, role, err)
	}
	return wrap(ctx, "create the tables", "", err)
}

// leaseSQL is the SQL of a lease table, for many jobs at a time: the
// scheduler's (key job) or the elections' (key kind, name). The prefix of
// the key (the kind) is the first parameter, the jobs' names the next.
type leaseSQL struct {
	getMany, createMany, lockMany, writeMany string
}

// leaseColumns are a lease row's columns besides its key, in the order of
// scanNamedLease and writeLeases, with their types.
var leaseColumns = []struct{ name, typ string }{
	{"holder", "text"}, {"node", "text"}, {"term", "bigint"}, {"tick", "timestamptz"},
	{"ttl_ns", "bigint"}, {"expires", "timestamptz"}, {"version", "bigint"}, {"paused", "boolean"},
}

func newLeaseSQL(table, name string, prefix ...string) leaseSQL {
	var where, keyCols, keyVals []string
	for i, k := range prefix {
		where = append(where, fmt.Sprintf("t.%s = $%d", k, i+1))
		keyCols, keyVals = append(keyCols, k), append(keyVals, fmt.Sprintf("$%d::text", i+1))
	}
	n := len(prefix) + 1 // the names' parameter
	cols, set := []string{name}, []string{}
	vcols, arrays := []string{name}, []string{fmt.Sprintf("$%d::text[]", n)}
	for i, c := range leaseColumns {
		cols = append(cols, c.name)
		set = append(set, c.name+" = v."+c.name)
		vcols = append(vcols, c.name)
		arrays = append(arrays, fmt.Sprintf("$%d::%s[]", n+i+1, c.typ))
	}
	cond := strings.Join(append(where, fmt.Sprintf("t.%s = ANY($%d)", name, n)), " AND ")
	get := "SELECT t." + strings.Join(cols, ", t.") + " FROM " + table + " t WHERE " + cond
	return leaseSQL{
		getMany: get,
		createMany: "INSERT INTO " + table + " (" + strings.Join(append(keyCols, name), ", ") + ") SELECT " +
			strings.Join(append(keyVals, "n"), ", ") + fmt.Sprintf(" FROM unnest($%d::text[]) AS n ORDER BY n", n) +
			" ON CONFLICT DO NOTHING RETURNING " + name,
		lockMany: get + " ORDER BY t." + name + " FOR UPDATE",
		writeMany: "UPDATE " + table + " t SET " + strings.Join(set, ", ") + " FROM unnest(" + strings.Join(arrays, ", ") +
			") AS v(" + strings.Join(vcols, ", ") + ") WHERE " + strings.Join(append(where, "t."+name+" = v."+name), " AND "),
	}
}

// tableSQL is the SQL of the other tables (members.go, history.go).
type tableSQL struct {
	putMember, deleteMember, listMembers string
	createLogs, lockLogs, shareLog       string
	writeLogs, writeRuns, runs           string
}

func newTableSQL(schema string) tableSQL {
	members, logs, runs := qualified(schema, membersTable), qualified(schema, runLogsTable), qualified(schema, runsTable)
	const logCols = "next, latest_tick, latest_term, latest_lost"
	const runCols = "seq, tick, term, node, started, duration_ns, result, error, manual, attempts, status, output"
	return tableSQL{
		putMember: "INSERT INTO " + members + " AS m (id, node, started, renewed, ttl_ns, clock_offset_ns, job_set, jobs, version) " +
			"VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 1) ON CONFLICT (id) DO UPDATE SET node = EXCLUDED.node, " +
			"started = EXCLUDED.started, renewed = EXCLUDED.renewed, ttl_ns = EXCLUDED.ttl_ns, " +
			"clock_offset_ns = EXCLUDED.clock_offset_ns, job_set = EXCLUDED.job_set, jobs = EXCLUDED.jobs, " +
			"version = m.version + 1 RETURNING version",
		deleteMember: "DELETE FROM " + members + " WHERE id = $1",
		listMembers:  "SELECT id, node, started, renewed, ttl_ns, clock_offset_ns, job_set, jobs, version FROM " + members,
		createLogs:   "INSERT INTO " + logs + " (job) SELECT j FROM unnest($1::text[]) AS j ORDER BY j ON CONFLICT DO NOTHING",
		lockLogs:     "SELECT job, " + logCols + " FROM " + logs + " WHERE job = ANY($1) ORDER BY job FOR UPDATE",
		shareLog:     "SELECT " + logCols + " FROM " + logs + " WHERE job = $1 FOR SHARE",
		writeLogs: "UPDATE " + logs + " l SET next = v.next, latest_tick = v.latest_tick, latest_term = v.latest_term, " +
			"latest_lost = v.latest_lost FROM unnest($1::text[], $2::bigint[], $3::timestamptz[], $4::bigint[], $5::boolean[]) " +
			"AS v(job, next, latest_tick, latest_term, latest_lost) WHERE l.job = v.job",
		writeRuns: "INSERT INTO " + runs + " (job, slot, " + runCols + ") SELECT * FROM unnest($1::text[], $2::integer[], " +
			"$3::bigint[], $4::timestamptz[], $5::bigint[], $6::text[], $7::timestamptz[], $8::bigint[], $9::text[], $10::text[], " +
			"$11::boolean[], $12::integer[], $13::text[], $14::text[]) ON CONFLICT (job, slot) DO UPDATE SET (" + runCols + ") = " +
			"ROW(EXCLUDED.seq, EXCLUDED.tick, EXCLUDED.term, EXCLUDED.node, EXCLUDED.started, EXCLUDED.duration_ns, " +
			"EXCLUDED.result, EXCLUDED.error, EXCLUDED.manual, EXCLUDED.attempts, EXCLUDED.status, EXCLUDED.output)",
		runs: "SELECT l." + strings.ReplaceAll(logCols, ", ", ", l.") + ", r.seq, r.tick, r.term, r.node, r.started, " +
			"r.duration_ns, r.result, r.error, r.manual, r.attempts, r.status, r.output FROM " + logs + " l LEFT JOIN " + runs + " r ON r.job = l.job WHERE l.job = $1",
	}
}
