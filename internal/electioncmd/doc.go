// Package electioncmd is the leader-election service's command line: serve
// (package service), lock and leader. run.go dispatches to Lookup; each
// command has the shape of the daemon's run (context, arguments, getenv,
// stdout, stderr) and never exits the process itself: an *ExitError carries
// the exit status main should use.
//
// lock [flags] ELECTION -- COMMAND [ARGS...] waits until it leads ELECTION,
// runs COMMAND with LEADER_ELECTION, LEADER_NODE and LEADER_TERM in its
// environment, and keeps the lease alive while it runs: it holds the
// election under a session of its own (electionclient.Session), which it
// closes when it exits. With --limit N it takes one of the N slots of a
// semaphore (the elections ELECTION/slot-0 to ELECTION/slot-N-1, see
// electionclient.Slots), so that up to N lock processes run their commands
// at once, each told its slot (LEADER_SLOT) and the slot's term. leader
// prints the leader of an election, or with --limit the holder of each slot.
//
// # What lock promises
//
//   - COMMAND starts only once this node holds the lease, and is stopped
//     before the lease can lapse on any server when the lease is lost
//     (heartbeats failed for 2/3 of the TTL, or a server said the term is
//     over): SIGTERM at once, SIGKILL --grace later (default a sixth of the
//     TTL), to COMMAND's process group. lock then exits 1 saying why.
//   - SIGINT and SIGTERM are forwarded to COMMAND's process group; lock
//     waits for COMMAND (keeping the lease meanwhile), releases the lease so
//     that a peer takes over at once, and exits with COMMAND's status (128
//     plus the signal number when a signal ended it).
//   - On Linux, COMMAND gets SIGKILL if lock dies, even by kill -9 (the
//     parent-death signal), so it never lives on as a leader whose lease
//     nobody renews.
//   - An unreachable server (UNAVAILABLE) is retried with backoff, and said
//     so on stderr; a wrong token (UNAUTHENTICATED), a bad name or TTL
//     (INVALID_ARGUMENT) or a TLS mismatch (a plaintext lock against a TLS
//     server or the reverse, an untrusted server certificate, a client
//     certificate missing or refused) ends lock at once, non-zero, naming
//     the cause.
//
// # What lock does not promise
//
// The parent-death signal reaches COMMAND itself, not processes COMMAND
// started: exec the long-running program (sh -c 'exec prog'), or have
// COMMAND stop its children. COMMAND runs in its own process group (so that
// signals reach it once, through lock), which is not the terminal's
// foreground group: it cannot read from a terminal. Elsewhere than Linux
// there is no parent-death signal. lock does not run COMMAND again after a
// loss: its supervisor restarts lock.
package electioncmd
