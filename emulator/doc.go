// Package emulator is a small, Go-native Google Cloud Datastore emulator.
//
// It serves the real google.datastore.v1.Datastore gRPC API (the generated
// datastorepb service shipped with cloud.google.com/go/datastore), so the
// unmodified Go client works against it, either through
// DATASTORE_EMULATOR_HOST or with the options returned by
// [Server.ClientOptions], and so do other languages' clients (Google's
// Node.js client is tested, see nodeclient_test.go). gRPC (HTTP/2 without
// TLS), the Datastore REST API and a small admin API share one listener,
// like gcloud's emulator:
//
//	POST   /v1/projects/{project}:{method}  the REST API (rest.go); also
//	       under /datastore/v1/, as DATASTORE_EMULATOR_HOST_PATH names it
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
//     AllocateIds and ReserveIds, over gRPC and over REST (proto3 JSON, the
//     methods' http rules), through the same handlers, call counts and
//     faults; REST errors come in Google's JSON shape,
//     {"error":{"code":400,"message":"...","status":"INVALID_ARGUMENT"}},
//     with the HTTP status Google maps the code to.
//   - Data is partitioned by (project, database, namespace); any project and
//     database id is accepted and created on first use.
//   - Entities are stored as protobuf and every value type round-trips;
//     timestamps are truncated to microseconds like the real service.
//   - Datastore's documented limits (limits.go): 500 mutations per Commit,
//     1,000 keys per Lookup, 1,500 bytes per indexed string or blob,
//     1,048,487 per unindexed one, 1,048,572 per entity (its encoded
//     protobuf), 6 KiB per key, 100 key path elements, 1,500-byte kinds,
//     names and property names, 20 nested entity values, 10 MiB per
//     request, namespace ids of [A-Za-z0-9._-]{0,100}, no array in an array
//     and no exclude_from_indexes on an array value. A request past one
//     fails whole with INVALID_ARGUMENT, with Datastore's message where it
//     is known.
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
//   - Projections and DISTINCT ON (projection.go), answered from index rows
//     as Datastore answers them: only indexed properties, one result per
//     array value (and per combination, for several arrays), filters and
//     orders on a projected array seeing one value per result, the first
//     result of each distinct combination, projected timestamps as integer
//     microseconds with meaning 18; and Datastore's INVALID_ARGUMENT for an
//     equality (or IN) filter on a projected or distinct property, a
//     property projected twice, or DISTINCT ON properties not ordered first.
//   - Fault injection (latency and gRPC errors per method, and "applied"
//     errors that carry the call out before failing it, as a lost answer),
//     see [Faults].
//   - Optional persistence to one file in Options.DataDir, rewritten
//     atomically after every commit.
//
// # What it does not promise
//
// It is for tests and local clusters, not production. Reads are always of
// the latest committed state: read_time is ignored, read-only transactions
// do not see a snapshot, and a read-write transaction may observe data that
// changed between two of its reads (its commit is then ABORTED). A batch
// Lookup answers in the order of its keys and never defers any; Datastore
// promises no order. There are no indexes and no composite-index
// requirements or query-shape rules (an inequality and the first order,
// disjunction counts): queries scan the partition and are never refused for
// a missing index, and persistence rewrites the whole file on each commit.
// Not enforced: the 10 MiB transaction size, index entry counts and write
// rates. Not implemented (UNIMPLEMENTED): GQL, find_nearest, explain
// options, property masks, property transforms and update_time
// preconditions. Cursors are positions in the current result list, not
// stable across writes. Queries and projections on nested-entity
// sub-properties and metadata kinds (__kind__, __namespace__) match
// nothing. REST is served over HTTP/1.1 only: HTTP/2 connections go to gRPC.
package emulator
