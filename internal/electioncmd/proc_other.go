//go:build unix && !linux

package electioncmd

import (
	"os/exec"
	"syscall"
)

// sysProcAttr puts the command in a process group of its own. There is no
// parent-death signal here: a command whose lock is killed lives on.
func sysProcAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setpgid: true} }

func signalGroup(cmd *exec.Cmd, sig syscall.Signal) error {
	return syscall.Kill(-cmd.Process.Pid, sig)
}

const parentDeathSignal = false
