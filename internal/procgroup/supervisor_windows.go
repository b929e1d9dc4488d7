package procgroup

import (
	"errors"
	"os"
	"syscall"
)

// Supervised: see the Unix version.
type Supervised struct{}

// Supervise is not available on Windows.
func Supervise(string, Spec) (*Supervised, error) {
	return nil, errors.New("procgroup: no supervisor on Windows")
}

func (*Supervised) Pid() int                    { return 0 }
func (*Supervised) Signal(syscall.Signal) error { return os.ErrProcessDone }
func (*Supervised) Exited() <-chan struct{}     { return nil }
func (*Supervised) Wait() (Status, error)       { return Status{}, os.ErrProcessDone }

// SupervisorMain is not available on Windows.
func SupervisorMain([]string) int { return 2 }
