package electioncmd

import (
	"context"
	"io"

	"go-leader-election/internal/service"
)

// Command is one subcommand: args are the arguments after its name.
type Command func(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error

var commands = map[string]Command{
	"serve":  service.Main,
	"lock":   Lock,
	"leader": Leader,
}

// Lookup returns the subcommand called name (serve, lock, leader), or nil.
func Lookup(name string) Command { return commands[name] }

// ExitError ends the process with Code; main prints Err, if any.
type ExitError struct {
	Code int
	Err  error
}

func (e *ExitError) Error() string {
	if e.Err == nil {
		return ""
	}
	return e.Err.Error()
}

func (e *ExitError) Unwrap() error { return e.Err }

// ExitCode is the status main exits with.
func (e *ExitError) ExitCode() int { return e.Code }
