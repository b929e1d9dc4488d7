package procgroup

import (
	"os/exec"
	"syscall"
)

// ParentDeathSignal: there is none on Windows.
const ParentDeathSignal = false

// sysProcAttr: no process group on Windows.
func sysProcAttr() *syscall.SysProcAttr { return nil }

// killGroup can only kill the command itself on Windows: every signal is
// SIGKILL.
func killGroup(cmd *exec.Cmd, _ syscall.Signal) error { return cmd.Process.Kill() }

func awaitExit(int) bool { return false }

// Self is "": there is no supervisor on Windows.
func Self() string { return "" }
