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
