package scheduler

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"go-leader-election/internal/target"
)

// Command is a job that runs a program, once per tick, as the daemon's jobs
// file does (README, "Jobs file"): use its Run as a Job's Run. The program
// gets JOB_NAME, JOB_TICK (RFC 3339), JOB_TERM (the fencing term), JOB_NODE
// and JOB_RUN_ID in its environment, runs in a process group of its own, and
// when the run must stop (its lease can no longer be trusted, a timeout, a
// shutdown past Timing.ShutdownTimeout) the group gets SIGTERM, then SIGKILL
// before the lease can lapse. Its output lines are logged ("Output"); its
// exit status and the end of its output go to the run's history record.
// Exit 0 is success.
//
// What it does not promise: in a program that embeds the scheduler, a
// kill -9 of the program leaves the command's own children running (the
// daemon runs commands under a supervisor that kills the whole group).
type Command struct {
	// Args is the program and its arguments, run without a shell; or
	Args []string
	// Shell is a script run by /bin/sh -c. Exactly one of Args and Shell.
	Shell string
	// Env is added to the program's environment (the process's own, plus
	// the JOB_ variables); its values are never logged.
	Env map[string]string
	// Dir is the working directory; "" for the process's.
	Dir string
	// BaseEnv is the environment the program starts from, in os.Environ's
	// form; nil for none but Env and the JOB_ variables.
	BaseEnv []string
}

// HTTP is a job that sends a request, once per tick: use its Run as a Job's
// Run. Every request carries X-Job-Name, X-Job-Tick, X-Job-Term, X-Job-Node
// and Idempotency-Key: <job>/<tick>, so that the target can refuse a deposed
// leader's late request; it is cancelled when the run must stop. The status
// and the end of the response body go to the run's history record.
type HTTP struct {
	// URL is an absolute http or https URL.
	URL string
	// Method is the request's method; "" for POST.
	Method string
	// Headers are added to the request; their values are never logged.
	Headers map[string]string
	// Body is the request's body.
	Body string
	// Success lists the statuses that count as success; nil for any 2xx.
	Success []int
}

// ErrBadTarget is wrapped by a target's Validate error.
var ErrBadTarget = errors.New("scheduler: bad target")

// Validate reports an unusable command.
func (c Command) Validate() error {
	if (len(c.Args) == 0) == (c.Shell == "") {
		return fmt.Errorf("%w: a command wants exactly one of Args and Shell", ErrBadTarget)
	}
	if err := c.target().Validate(); err != nil {
		return fmt.Errorf("%w: %v", ErrBadTarget, err)
	}
	for k := range c.Env {
		if slices.Contains(target.ReservedEnv, k) {
			return fmt.Errorf("%w: Env sets %s, which every run sets", ErrBadTarget, k)
		}
	}
	return nil
}

func (c Command) target() target.Command {
	argv := c.Args
	if c.Shell != "" {
		argv = []string{"/bin/sh", "-c", c.Shell}
	}
	return target.Command{Argv: argv, Env: c.Env, Dir: c.Dir, BaseEnv: c.BaseEnv}
}

// Run runs the command once, for the run ctx belongs to (a Job's Run).
func (c Command) Run(ctx context.Context) error { return target.RunFor(ctx, c.target().Run) }

// String describes the command without its secrets (env values).
func (c Command) String() string { return c.target().String() }

// Validate reports an unusable request.
func (h HTTP) Validate() error {
	if err := h.target().Validate(); err != nil {
		return fmt.Errorf("%w: %v", ErrBadTarget, err)
	}
	for k := range h.Headers {
		if slices.ContainsFunc(target.ReservedHeaders, func(r string) bool { return strings.EqualFold(r, k) }) {
			return fmt.Errorf("%w: Headers sets %s, which every request sets", ErrBadTarget, k)
		}
	}
	return nil
}

func (h HTTP) target() target.HTTP {
	return target.HTTP{URL: h.URL, Method: h.Method, Headers: maps.Clone(h.Headers), Body: h.Body, Success: h.Success}
}

// Run sends the request once, for the run ctx belongs to (a Job's Run).
func (h HTTP) Run(ctx context.Context) error { return target.RunFor(ctx, h.target().Run) }

// String describes the request without its secrets (header values).
func (h HTTP) String() string { return h.target().String() }
