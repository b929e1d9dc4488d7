package electioncmd

import (
	"os/exec"
	"syscall"
)

// sysProcAttr: no process group and no parent-death signal on Windows.
func sysProcAttr() *syscall.SysProcAttr { return nil }

// signalGroup can only kill on Windows: every signal is SIGKILL.
func signalGroup(cmd *exec.Cmd, _ syscall.Signal) error { return cmd.Process.Kill() }

const parentDeathSignal = false
