package target

import (
	"context"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"sync"
	"syscall"
	"time"

	"go-leader-election/internal/procgroup"
)

// outputDrain bounds the wait for a command's output after it exited: only
// a process that left its group can still hold the pipes open.
const outputDrain = time.Second

// Command runs a program as a job's target.
type Command struct {
	// Argv is the program and its arguments (no shell: wrap a script in
	// /bin/sh -c yourself). Argv[0] is looked up in the PATH of the
	// command's environment (procgroup.LookPath).
	Argv []string
	// Env is added to the command's environment; it is never shown.
	Env map[string]string
	// Dir is the working directory; "" for the daemon's.
	Dir string

	// BaseEnv is the environment the command starts from, in os.Environ's
	// form (the daemon passes its own); nil for none but Env and the JOB_
	// variables.
	BaseEnv []string
	// Supervisor starts the command, and kills its whole group if the
	// daemon dies (one per daemon: procgroup.NewSupervisor(procgroup.Self())).
	// Nil starts the command directly: then only the command itself gets a
	// parent-death signal (Linux).
	Supervisor *procgroup.Supervisor
}

// process is a started command, supervised or not.
type process interface {
	Signal(syscall.Signal) error
	Exited() <-chan struct{}
	Wait() (procgroup.Status, error)
}

// Validate reports an unusable command (wrapping ErrInvalid).
func (c Command) Validate() error {
	if len(c.Argv) == 0 || c.Argv[0] == "" {
		return fmt.Errorf("%w: an empty command", ErrInvalid)
	}
	return nil
}

// String names the program, and the other fields by their sizes and names:
// arguments may carry secrets from the environment, and env values do.
func (c Command) String() string {
	if len(c.Argv) == 0 {
		return "command (empty)"
	}
	s := fmt.Sprintf("command %q with %d arguments", c.Argv[0], len(c.Argv)-1)
	if len(c.Env) > 0 {
		s += fmt.Sprintf(", env %v (values hidden)", slices.Sorted(maps.Keys(c.Env)))
	}
	if c.Dir != "" {
		s += fmt.Sprintf(", dir %q", c.Dir)
	}
	return s
}

// GoString is String: %#v must not show env values either.
func (c Command) GoString() string { return c.String() }

// Run runs the command once: a Func.
func (c Command) Run(ctx context.Context, inv Invocation) (Result, error) {
	if err := c.Validate(); err != nil {
		return Result{Status: StatusNotStarted}, err
	}
	if ctx.Err() != nil {
		return Result{Status: StatusNotStarted}, stopped(ctx, fmt.Errorf("command %q %w", c.Argv[0], ErrNotStarted))
	}
	out := newOutput(inv.Output)
	outR, outW, err := os.Pipe()
	if err != nil {
		return Result{Status: StatusNotStarted}, fmt.Errorf("command %q %w: %w", c.Argv[0], ErrNotStarted, err)
	}
	errR, errW, err := os.Pipe()
	if err != nil {
		outR.Close()
		outW.Close()
		return Result{Status: StatusNotStarted}, fmt.Errorf("command %q %w: %w", c.Argv[0], ErrNotStarted, err)
	}
	p, err := c.start(c.environ(inv), outW, errW)
	outW.Close()
	errW.Close()
	var readers sync.WaitGroup
	for stream, r := range map[string]*os.File{"stdout": outR, "stderr": errR} {
		readers.Go(func() { out.read(stream, r) })
	}
	if err != nil {
		outR.Close()
		errR.Close()
		readers.Wait()
		return Result{Status: StatusNotStarted}, fmt.Errorf("command %q %w", c.Argv[0], err)
	}
	stopOnCancel(ctx, p, inv.KillGrace)
	st, werr := p.Wait()
	drain(&readers, outR, errR)
	return Result{Status: st.String(), Tail: out.Tail()}, stopped(ctx, c.outcome(st, werr))
}

// start starts the command, under the supervisor if there is one. Its
// errors wrap ErrNotStarted.
func (c Command) start(env []string, stdout, stderr *os.File) (process, error) {
	spec := procgroup.Spec{Argv: c.Argv, Env: env, Dir: c.Dir, Stdout: stdout, Stderr: stderr}
	if c.Supervisor != nil {
		return c.Supervisor.Start(spec)
	}
	return procgroup.StartSpec(spec)
}

// environ is the command's environment: BaseEnv, then Env, then the run's
// JOB_ variables (the last of a name wins).
func (c Command) environ(inv Invocation) []string {
	env := slices.Clip(c.BaseEnv)
	for _, k := range slices.Sorted(maps.Keys(c.Env)) {
		env = append(env, k+"="+c.Env[k])
	}
	return append(env,
		"JOB_NAME="+inv.Job,
		"JOB_TICK="+FormatTick(inv.Tick),
		"JOB_TERM="+formatTerm(inv.Term),
		"JOB_NODE="+inv.Node,
		"JOB_RUN_ID="+inv.RunID,
	)
}

// outcome is the error for status st: nil for exit 0.
func (c Command) outcome(st procgroup.Status, werr error) error {
	switch {
	case werr != nil:
		return fmt.Errorf("command %q: %w", c.Argv[0], werr)
	case st.Code == 0:
		return nil
	}
	return fmt.Errorf("command %q %w: %s", c.Argv[0], ErrFailed, st)
}

// stopOnCancel sends p SIGTERM when ctx ends, and SIGKILL grace later,
// unless p has exited by then.
func stopOnCancel(ctx context.Context, p process, grace time.Duration) {
	go func() {
		select {
		case <-p.Exited():
			return
		case <-ctx.Done():
		}
		_ = p.Signal(syscall.SIGTERM)
		t := time.NewTimer(grace)
		defer t.Stop()
		select {
		case <-p.Exited():
		case <-t.C:
			_ = p.Signal(syscall.SIGKILL)
		}
	}()
}

// drain waits for the readers to reach the end of the output, at most
// outputDrain, then closes the pipes to end them.
func drain(readers *sync.WaitGroup, pipes ...io.Closer) {
	done := make(chan struct{})
	go func() { readers.Wait(); close(done) }()
	t := time.NewTimer(outputDrain)
	defer t.Stop()
	select {
	case <-done:
	case <-t.C:
	}
	for _, p := range pipes {
		p.Close()
	}
	<-done
}
