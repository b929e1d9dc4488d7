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
//   - Supervise goes further: it starts the command under a supervisor, a
//     small process (the program itself, re-executed with SupervisorArg,
//     running SupervisorMain) that holds a pipe from the program. When the
//     program dies, by kill -9 too, the kernel closes the pipe and the
//     supervisor kills the whole group with SIGKILL: /bin/sh -c 'a; sleep 30'
//     does not outlive it, although sh does not exec sleep. Signals to the
//     group go through the same pipe.
//
// # What it does not promise
//
// A process that leaves the group (setsid, a daemon that double-forks into
// a new session) is not followed. If the supervisor itself is killed with
// SIGKILL (the OOM killer), only the command gets the parent-death signal,
// as with Start. The supervisor costs a process start (the program's own
// binary) per run and a few MiB while the command runs. Elsewhere than
// Linux there is no parent-death signal and the group is killed after its
// leader is reaped (a small chance of signalling a reused id); on Windows
// there are no process groups: Signal kills the command alone, and
// Supervise is not available.
package procgroup
