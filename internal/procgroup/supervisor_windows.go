package procgroup

import (
	"errors"
	"syscall"
)

var errNoSupervisor = errors.New("procgroup: no supervisor on Windows")

// Supervisor: see the Unix version. There is none on Windows.
type Supervisor struct{}

// NewSupervisor is not available on Windows.
func NewSupervisor(string) (*Supervisor, error) { return nil, errNoSupervisor }

// Start is not available on Windows.
func (*Supervisor) Start(Spec) (*Supervised, error) { return nil, errNoSupervisor }

// Close does nothing on Windows.
func (*Supervisor) Close() error { return nil }

// Supervised: see the Unix version.
type Supervised struct{}

func (*Supervised) Pid() int                    { return 0 }
func (*Supervised) Signal(syscall.Signal) error { return errNoSupervisor }
func (*Supervised) Exited() <-chan struct{}     { return nil }
func (*Supervised) Wait() (Status, error)       { return Status{}, errNoSupervisor }

// SupervisorMain is not available on Windows.
func SupervisorMain([]string) int { return 2 }
