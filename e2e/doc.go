// Package e2e proves the scheduler's guarantees on real processes: it builds
// the binary, starts the project's Datastore emulator and several daemons as
// OS processes, injects faults (kill -9, SIGTERM, SIGSTOP of a leader while a
// same-name twin starts, SIGSTOP of the store, one daemon cut off from the
// store by a proxy, skewed clocks), and judges from the daemons' JSON log
// events and, for a jobs file's commands and HTTP targets, from what the
// targets saw and from /proc. The *Postgres tests do the same on PostgreSQL
// clusters of their own (internal/pgtest; they skip without
// POSTGRES_TEST_URL), adding its restart and killed sessions.
//
// go test ./e2e runs the short suite (about a minute). E2E_SOAK=10m (and
// optionally E2E_SEED, E2E_NODES) runs the long soak with random faults and
// prints the same table.
package e2e
