// Package emulator is a small, Go-native Google Cloud Datastore emulator.
//
// It serves the real google.datastore.v1.Datastore gRPC API (the generated
// datastorepb service shipped with cloud.google.com/go/datastore), so the
// unmodified Go client works against it, either through
// DATASTORE_EMULATOR_HOST or with the options returned by
// [Server.ClientOptions]. gRPC (HTTP/2 without TLS) and a small HTTP/1 admin
// API share one listener, like gcloud's emulator:
//
//	GET    /         "Ok"
//	POST   /reset    clear all data
//	POST   /shutdown make Main return
//	GET    /faults   list fault rules (JSON)
//	POST   /faults   add or replace a rule, e.g. {"method":"Commit","error":"ABORTED","count":3}
//	DELETE /faults   clear all rules
//	GET    /calls    RPC calls received, per method (JSON)
//
// # What it promises
//
//   - Lookup, Commit (transactional and not; insert, update, upsert, delete,
//     base_version conflict detection), BeginTransaction (read-write and
//     read-only), Rollback, RunQuery, RunAggregationQuery (COUNT, SUM, AVG),
//     AllocateIds and ReserveIds.
//   - Data is partitioned by (project, database, namespace); any project and
//     database id is accepted and created on first use.
//   - Entities are stored as protobuf and every value type round-trips;
//     timestamps are truncated to microseconds like the real service.
//   - Read-write transactions are serializable, with optimistic concurrency:
//     a transaction records the version of every entity it read (absence
//     included) and the exact result of every query it ran; its commit fails
//     with ABORTED if any of them changed, and otherwise applies all its
//     mutations atomically. Open transactions expire after a minute idle.
//     A transaction id that is unknown, closed or expired is INVALID_ARGUMENT
//     in Lookup, RunQuery and Commit; Rollback always succeeds.
//   - Queries: one kind (or kindless), property filters with every operator
//     (=, !=, <, <=, >, >=, IN, NOT_IN, HAS_ANCESTOR, and __key__), AND / OR
//     composites, orders, offset, limit, keys-only projection and positional
//     cursors. Properties that are excluded from indexes, or missing, never
//     match a filter or an order, like the real indexes.
//   - Fault injection (latency and gRPC errors per method), see [Faults].
//   - Optional persistence to one file in Options.DataDir, rewritten
//     atomically after every commit.
//
// # What it does not promise
//
// It is for tests and local clusters, not production. Reads are always of
// the latest committed state: read_time is ignored, read-only transactions
// do not see a snapshot, and a read-write transaction may observe data that
// changed between two of its reads (its commit is then ABORTED). There are
// no indexes, no composite-index requirements and no size limits: queries
// scan the partition, and persistence rewrites the whole file on each
// commit. Not implemented (UNIMPLEMENTED): GQL, projections other than
// __key__, DISTINCT ON, find_nearest, explain options, property masks,
// property transforms and update_time preconditions. Cursors are positions
// in the current result list, not stable across writes. Queries on
// nested-entity sub-properties and metadata kinds (__kind__, __namespace__)
// match nothing.
package emulator
