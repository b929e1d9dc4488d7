package procgroup

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// SupervisorArg is the first argument with which a program must run
// SupervisorMain (and nothing else) for NewSupervisor to use it. It is not
// a command for people: help does not list it.
const SupervisorArg = "__procgroup-supervisor"

var (
	// ErrNotStarted wraps the reason a command could not be started (not
	// found, not executable, a bad directory).
	ErrNotStarted = errors.New("not started")
	// ErrSupervisorDied: the supervisor process died while the command ran;
	// the command was killed.
	ErrSupervisorDied = errors.New("the supervisor process died")
)

// Spec is a command to run under a supervisor.
type Spec struct {
	// Argv is the command and its arguments; Argv[0] is looked up in the
	// PATH of Env (LookPath).
	Argv []string
	// Env is the whole environment of the command (os.Environ's form); nil
	// is an empty one.
	Env []string
	// Dir is the working directory; "" for the supervisor's (the program's).
	Dir string
	// Stdout and Stderr receive the command's output, nil for none. The
	// command writes to them directly: pass pipes, and close your copies of
	// the write ends once Start returns.
	Stdout, Stderr *os.File
}

// LookPath finds file as a shell would in the PATH of env (os.Environ's
// form), not in this program's: a name with a slash is taken as it is;
// directories of PATH that are not absolute are skipped, as exec.LookPath
// refuses them.
func LookPath(file string, env []string) (string, error) {
	if strings.Contains(file, "/") {
		return file, nil
	}
	path := ""
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "PATH="); ok {
			path = v // the last one wins, as in exec.Cmd
		}
	}
	for _, dir := range filepath.SplitList(path) {
		if !filepath.IsAbs(dir) {
			continue
		}
		p := filepath.Join(dir, file)
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", &exec.Error{Name: file, Err: exec.ErrNotFound}
}

// command is the exec.Cmd for s: its program looked up in s's PATH.
func (s Spec) command() (*exec.Cmd, error) {
	if len(s.Argv) == 0 || s.Argv[0] == "" {
		return nil, errors.New("an empty command")
	}
	path, err := LookPath(s.Argv[0], s.Env)
	if err != nil {
		return nil, err
	}
	if s.Dir != "" {
		if _, err := os.Stat(s.Dir); err != nil {
			return nil, fmt.Errorf("dir: %w", err) // Go would blame the program
		}
	}
	env := s.Env
	if env == nil {
		env = []string{} // not nil: nil would mean this program's environment
	}
	cmd := &exec.Cmd{Path: path, Args: s.Argv, Env: env, Dir: s.Dir}
	if s.Stdout != nil {
		cmd.Stdout = s.Stdout
	}
	if s.Stderr != nil {
		cmd.Stderr = s.Stderr
	}
	return cmd, nil
}

// StartSpec starts s directly (no supervisor) in a process group of its
// own, as Start does, with KillLeftovers; its errors wrap ErrNotStarted.
func StartSpec(s Spec) (*Group, error) {
	g, err := s.start()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrNotStarted, err)
	}
	return g, nil
}

// start is StartSpec, its errors bare.
func (s Spec) start() (*Group, error) {
	cmd, err := s.command()
	if err != nil {
		return nil, err
	}
	return Start(cmd, Options{KillLeftovers: true})
}
