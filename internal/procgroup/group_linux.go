package procgroup

import (
	"os/exec"
	"syscall"

	"golang.org/x/sys/unix"
)

// ParentDeathSignal says whether a command started by Start gets SIGKILL
// when this program dies.
const ParentDeathSignal = true

// sysProcAttr puts the command in a process group of its own and has the
// kernel SIGKILL it when the thread that started it dies (this program dies).
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

// killGroup sends sig to the command's process group.
func killGroup(cmd *exec.Cmd, sig syscall.Signal) error {
	return syscall.Kill(-cmd.Process.Pid, sig)
}

// awaitExit returns once pid has exited, leaving it unreaped (a zombie
// keeps its id, and its group's, from being reused).
func awaitExit(pid int) bool {
	var info unix.Siginfo
	for {
		err := unix.Waitid(unix.P_PID, pid, &info, unix.WEXITED|unix.WNOWAIT, nil)
		if err != syscall.EINTR {
			return err == nil
		}
	}
}

// Self is the path that runs this program again, for Supervise: on Linux
// /proc/self/exe, which works even once the binary has been replaced on
// disk (an upgrade in place).
func Self() string { return "/proc/self/exe" }

// seqpacketPair is the supervisor's socket pair, close-on-exec.
func seqpacketPair() ([2]int, error) {
	return syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_SEQPACKET|syscall.SOCK_CLOEXEC, 0)
}
