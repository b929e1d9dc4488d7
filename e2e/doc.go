// Package e2e proves the scheduler's guarantees on real processes: it builds
// the binary, starts the project's Datastore emulator and several daemons as
// OS processes, injects faults (kill -9, SIGTERM, SIGSTOP of a leader while a
// same-name twin starts, SIGSTOP of the store, skewed clocks), and judges
// only from the daemons' JSON log events. The *Postgres tests do the same
// on PostgreSQL clusters of their own (internal/pgtest; they skip without
// POSTGRES_TEST_URL), adding its restart and killed sessions.
//
// go test ./e2e runs the short suite (about a minute). E2E_SOAK=10m (and
// optionally E2E_SEED, E2E_NODES) runs the long soak with random faults and
// prints the same table.
package e2e
