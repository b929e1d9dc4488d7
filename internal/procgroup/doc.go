// Package procgroup runs a command as the leader of a process group of its
// own, so that a signal reaches every process the command started, and ties
// the group's life to the program that started it.
//
// # What it promises
//
//   - Start puts the command in a new process group; Signal signals the
//     whole group. With KillLeftovers, what is left of the group when the
//     command exits (a background process it started) gets SIGKILL before
//     the command is reaped, as a container's processes die with its main
//     process; the group's id cannot have been reused by then.
//   - On Linux the command gets SIGKILL if the program that started it dies,
//     even by kill -9 (a parent-death signal): this reaches the command, not
//     its children.
//   - A Supervisor goes further: one process (the program itself, run again
//     with SupervisorArg, in SupervisorMain), started once, starts the
//     program's commands, each in a group of its own, over a Unix socket.
//     When the program dies, by kill -9 too, the kernel closes the socket
//     and the supervisor kills every group with SIGKILL: /bin/sh -c 'a; sleep
//     30' does not outlive it, although sh does not exec sleep. Signals to a
//     group go through the same socket. A command costs a message and a
//     fork, as a direct start does, not a program start.
//   - Supervisor.Start and StartSpec look a command's program up in the PATH
//     of the command's environment (LookPath), not in this program's.
//
// # What it does not promise
//
// A process that leaves the group (setsid, a daemon that double-forks into
// a new session) is not followed. If the supervisor itself is killed (the
// OOM killer), its commands get the parent-death signal and the program
// kills what is left of their groups, or would if it has died too: then
// their children live on. The supervisor is a few MiB of memory of its own
// (the program's text is shared). Elsewhere than Linux there is no
// parent-death signal and the group is killed after its leader is reaped (a
// small chance of signalling a reused id); on Windows there are no process
// groups: Signal kills the command alone, and there is no Supervisor.
package procgroup
