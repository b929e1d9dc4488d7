package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"go-leader-election/internal/config"
	"go-leader-election/internal/electioncmd"
	"go-leader-election/internal/jobsfile"
	"go-leader-election/internal/schedule"
	"go-leader-election/internal/target"
	"go-leader-election/jobs"
)

const validateUsage = `Usage: go-leader-election validate [FILE]

Checks the jobs file FILE (default: $JOBS_FILE) and the daemon's
configuration in this environment, without starting anything. Prints each
job, secrets hidden, with its next 3 ticks, and exits 0; or exits 2 with
every mistake, one per line (FILE:LINE:COLUMN: message for the file's).
`

// validateTicks is how many ticks validate shows per job.
const validateTicks = 3

// runValidate is "go-leader-election validate [FILE]".
func runValidate(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("validate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(fs.Output(), validateUsage) }
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return &electioncmd.ExitError{Code: 2, Err: fmt.Errorf("validate: %w", err)}
	}
	if fs.NArg() > 1 {
		return &electioncmd.ExitError{Code: 2, Err: fmt.Errorf("validate: want at most one FILE, got %q", fs.Args())}
	}
	file := strings.TrimSpace(getenv("JOBS_FILE"))
	if fs.NArg() == 1 {
		file = fs.Arg(0)
	}
	if file == "" {
		return &electioncmd.ExitError{Code: 2, Err: errors.New("validate: no jobs file: give FILE, or set JOBS_FILE")}
	}

	var problems []string
	cfg, err := config.Load(getenv)
	if err == nil {
		registry := jobs.Builtin(cfg.Jobs, cfg.DemoJobs)
		_, err = config.Schedules(getenv, environFrom(ctx), jobNames(registry), jobDefaults(registry))
	}
	if err != nil {
		problems = append(problems, "environment: "+err.Error())
	}
	set, err := jobsfile.Load(file, jobsfile.Options{ParseSchedule: checkSchedule, Getenv: getenv, Taken: goJobs(cfg)})
	var es jobsfile.Errors
	switch {
	case errors.As(err, &es):
		for _, e := range es {
			problems = append(problems, e.Error())
		}
	case err != nil:
		problems = append(problems, err.Error())
	}
	if len(problems) > 0 {
		return &electioncmd.ExitError{Code: 2, Err: fmt.Errorf("validate: %s:\n%s", plural(len(problems), "mistake"), strings.Join(problems, "\n"))}
	}
	printJobs(stdout, set, time.Now())
	return nil
}

// checkSchedule is the daemon's schedule parser, as jobsfile wants it.
func checkSchedule(spec, job string) error {
	_, err := schedule.Parse(spec, job)
	return err
}

// goJobs are the names the Go jobs take, which the file may not define.
func goJobs(cfg config.Config) map[string]string {
	taken := map[string]string{}
	for _, j := range jobs.Builtin(cfg.Jobs, cfg.DemoJobs) {
		taken[j.Name] = "a Go job in jobs/registry.go"
	}
	return taken
}

// printJobs prints each job, described, with its next ticks after now.
func printJobs(w io.Writer, set jobsfile.Set, now time.Time) {
	fmt.Fprintf(w, "%s: %s; the environment's configuration is valid\n", set.File, plural(len(set.Jobs), "job"))
	for _, j := range set.Jobs {
		fmt.Fprintln(w, j.Describe())
		s, err := schedule.Parse(j.Schedule, j.Name)
		if err != nil { // checked by Load: cannot happen
			fmt.Fprintf(w, "  next ticks: %v\n", err)
			continue
		}
		ticks := make([]string, 0, validateTicks)
		for t := now; len(ticks) < validateTicks; {
			t = s.Next(t)
			if t.IsZero() {
				break // a schedule with no more ticks (February 30th)
			}
			ticks = append(ticks, target.FormatTick(t))
		}
		fmt.Fprintf(w, "  next ticks: %s\n", strings.Join(ticks, ", "))
	}
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}
