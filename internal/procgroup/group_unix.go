//go:build unix && !linux

package procgroup

import (
	"os"
	"os/exec"
	"syscall"
)

// ParentDeathSignal: there is none here; a command whose program is killed
// lives on.
const ParentDeathSignal = false

// sysProcAttr puts the command in a process group of its own.
func sysProcAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setpgid: true} }

func killGroup(cmd *exec.Cmd, sig syscall.Signal) error {
	return syscall.Kill(-cmd.Process.Pid, sig)
}

// awaitExit cannot wait without reaping here: the caller reaps first.
func awaitExit(int) bool { return false }

// Self is the path that runs this program again, for Supervise; "" if it
// cannot be found.
func Self() string {
	p, err := os.Executable()
	if err != nil {
		return ""
	}
	return p
}

// seqpacketPair is the supervisor's socket pair, close-on-exec (set under
// ForkLock, so no fork in between inherits it). Where Unix sockets have no
// SOCK_SEQPACKET (macOS) it fails, and so does NewSupervisor.
func seqpacketPair() ([2]int, error) {
	syscall.ForkLock.RLock()
	defer syscall.ForkLock.RUnlock()
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_SEQPACKET, 0)
	if err == nil {
		syscall.CloseOnExec(fds[0])
		syscall.CloseOnExec(fds[1])
	}
	return fds, err
}
