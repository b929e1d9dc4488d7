package procgroup

import (
	"errors"
	"os"
)

// SupervisorArg is the first argument with which a program must run
// SupervisorMain (and nothing else) for Supervise to use it as the
// supervisor. It is not a command for people: help does not list it.
const SupervisorArg = "__procgroup-supervisor"

// The control pipe's messages, from the program to the supervisor. Its end
// (the program closed it, or died) means SIGKILL.
const (
	msgTerm = 'T'
	msgKill = 'K'
)

// ErrNotStarted wraps the reason a command could not be started (not found,
// not executable, a bad directory).
var ErrNotStarted = errors.New("not started")

// Spec is a command to run under a supervisor.
type Spec struct {
	// Argv is the command and its arguments; Argv[0] is looked up in the
	// PATH of Env, as a shell would.
	Argv []string
	// Env is the whole environment of the command (os.Environ's form).
	Env []string
	// Dir is the working directory; "" for this program's.
	Dir string
	// Stdout and Stderr receive the command's output, nil for none. The
	// command writes to them directly: pass pipes, and close your copies of
	// the write ends once Supervise returns.
	Stdout, Stderr *os.File
}
