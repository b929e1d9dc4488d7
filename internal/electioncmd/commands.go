package electioncmd

import (
	"context"
	"io"
	"slices"

	"go-leader-election/internal/service"
)

// Command is one subcommand: args are the arguments after its name.
type Command func(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error

// Entry is one subcommand: its name, what it does (a line for help), and
// its function.
type Entry struct {
	Name    string
	Summary string
	Run     Command
}

// commands are the subcommands, in the order help lists them.
var commands = []Entry{
	{"serve", "run the leader-election service (its settings: go-leader-election serve -h)", service.Main},
	{"lock", "run a command while this node leads an election (go-leader-election lock -h)", Lock},
	{"leader", "print an election's leader, term and expiry (go-leader-election leader -h)", Leader},
}

// Commands returns the subcommands, in the order help lists them.
func Commands() []Entry { return slices.Clone(commands) }

// Lookup returns the subcommand called name (serve, lock, leader), or nil.
func Lookup(name string) Command {
	for _, c := range commands {
		if c.Name == name {
			return c.Run
		}
	}
	return nil
}

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
