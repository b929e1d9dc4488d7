package electioncmd

import (
	"os/exec"
	"syscall"
)

// sysProcAttr puts the command in a process group of its own and has the
// kernel SIGKILL it when lock's thread that started it dies (lock dies).
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

// signalGroup sends sig to the command's process group.
func signalGroup(cmd *exec.Cmd, sig syscall.Signal) error {
	return syscall.Kill(-cmd.Process.Pid, sig)
}

const parentDeathSignal = true
