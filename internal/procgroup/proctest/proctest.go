//go:build linux

package proctest

import (
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// stat is what /proc/PID/stat says of a process.
type stat struct {
	state byte // R, S, D, Z (zombie: dead, not yet reaped), ...
	pgid  int
}

// readStat reads /proc/PID/stat; ok is false once the process is gone.
func readStat(pid int) (stat, bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return stat{}, false
	}
	// "pid (comm) state ppid pgrp ...": comm may hold spaces and parentheses.
	rest := string(b[strings.LastIndexByte(string(b), ')')+1:])
	f := strings.Fields(rest)
	if len(f) < 3 {
		return stat{}, false
	}
	pgid, err := strconv.Atoi(f[2])
	if err != nil {
		return stat{}, false
	}
	return stat{state: f[0][0], pgid: pgid}, true
}

// Alive reports whether pid runs: it exists and is not a zombie.
func Alive(pid int) bool {
	s, ok := readStat(pid)
	return ok && s.state != 'Z'
}

// Group returns the live (not zombie) processes of process group pgid.
func Group(pgid int) []int {
	return live(func(pid int, s stat) bool { return s.pgid == pgid })
}

// Matching returns the live processes whose command line (the arguments
// joined by spaces) contains text: a test marks its commands with a unique
// argument to find them wherever they run.
func Matching(text string) []int {
	return live(func(pid int, _ stat) bool {
		b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
		return err == nil && strings.Contains(strings.ReplaceAll(string(b), "\x00", " "), text)
	})
}

// live returns the live (not zombie) processes that match.
func live(match func(pid int, s stat) bool) []int {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if s, ok := readStat(pid); ok && s.state != 'Z' && match(pid, s) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// WaitGroupGone waits, up to limit, until group pgid has no live process,
// and fails t with the survivors otherwise.
func WaitGroupGone(t testing.TB, pgid int, limit time.Duration) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		left := Group(pgid)
		if len(left) == 0 {
			return
		}
		for _, pid := range left {
			if !awaitExit(pid, deadline) {
				t.Fatalf("process group %d still has %v %s later", pgid, Group(pgid), limit)
			}
		}
	}
}

// WaitGone waits, up to limit, until pid has exited, and fails t otherwise.
func WaitGone(t testing.TB, pid int, limit time.Duration) {
	t.Helper()
	if !awaitExit(pid, time.Now().Add(limit)) {
		t.Fatalf("process %d still runs %s later", pid, limit)
	}
}

// awaitExit waits until pid has exited (a pidfd turns readable then: any
// process can be waited for so, not only a child), or deadline passes.
func awaitExit(pid int, deadline time.Time) bool {
	fd, err := unix.PidfdOpen(pid, 0)
	switch {
	case err == unix.ESRCH:
		return true
	case err != nil: // no pidfd (Linux < 5.3): look at /proc now and then
		for Alive(pid) {
			if time.Now().After(deadline) {
				return false
			}
			time.Sleep(5 * time.Millisecond) // polling /proc
		}
		return true
	}
	defer unix.Close(fd)
	for {
		wait := time.Until(deadline)
		if wait < 0 {
			return !Alive(pid)
		}
		n, err := unix.Poll([]unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}, int(wait.Milliseconds())+1)
		if err != unix.EINTR {
			return n > 0 || !Alive(pid)
		}
	}
}
