// Package target runs a job's work outside the daemon: a command (a process
// of its own) or an HTTP request. Each is a Func, the shape of a run: it is
// given the run's context and Invocation (job, tick, fencing term, node, run
// id) and returns its Result (a status and the tail of its output) and an
// error when the run did not succeed.
//
// # What it promises
//
//   - A command gets JOB_NAME, JOB_TICK (RFC 3339, UTC), JOB_TERM, JOB_NODE
//     and JOB_RUN_ID in its environment, runs in a process group of its own,
//     and when the context ends gets SIGTERM, then SIGKILL after the
//     invocation's KillGrace, both to its whole group. When it exits, what is
//     left of its group is killed (as a container's processes die with its
//     main process). With a Supervisor (package procgroup: one per daemon) a
//     kill -9 of the daemon kills the whole group too; without one only the
//     command itself gets a parent-death signal (Linux).
//   - A command's stdout and stderr lines go to the invocation's Output, cut
//     at MaxLine bytes, at most MaxRunOutput bytes per run (the cut said
//     once, in a line of its own); the last TailBytes of output are kept in
//     the Result whatever was cut.
//   - An HTTP request carries X-Job-Name, X-Job-Tick, X-Job-Term, X-Job-Node
//     and Idempotency-Key: <job>/<tick>, and is cancelled when the context
//     ends; the last TailBytes of the response body are kept.
//   - Errors say what failed and how, naming the command (argv[0]) or the
//     method and URL without its query and password, never an env or header
//     value: exit status, signal, HTTP status (ErrFailed), a command that
//     could not start (ErrNotStarted), an endpoint that did not answer
//     (ErrUnreachable). The error of a run whose context ended also wraps
//     the context's cause; a command that exits 0 on SIGTERM succeeded.
//     String never shows env or header values either.
//
// # What it does not promise
//
// It keeps no lease and knows no schedule: the caller runs a Func only while
// it holds the tick's lease, and picks a KillGrace that ends the command
// before the lease can lapse. A process that leaves its process group
// (setsid) is not followed. HTTP redirects are not followed: a 3xx is a
// status like any other.
package target
