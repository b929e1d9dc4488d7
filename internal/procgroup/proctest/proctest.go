//go:build linux

// Package proctest lets tests see processes through /proc (Linux): which
// are alive, and which belong to a process group. It promises nothing about
// processes that come and go during a scan, beyond what one pass saw.
package proctest

import (
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
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
		if s, ok := readStat(pid); ok && s.pgid == pgid && s.state != 'Z' {
			pids = append(pids, pid)
		}
	}
	return pids
}

// WaitGroupGone waits, up to limit, until group pgid has no live process,
// and fails t with the survivors otherwise. It polls: a test cannot wait
// for processes that are not its children.
func WaitGroupGone(t testing.TB, pgid int, limit time.Duration) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		left := Group(pgid)
		if len(left) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("process group %d still has %v %s later", pgid, left, limit)
		}
		time.Sleep(5 * time.Millisecond) // polling /proc
	}
}
