package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"sync"

	"github.com/rs/zerolog"

	"go-leader-election/internal/config"
	"go-leader-election/internal/jobsfile"
	"go-leader-election/internal/procgroup"
	"go-leader-election/internal/schedule"
	"go-leader-election/internal/target"
	"go-leader-election/jobs"
	"go-leader-election/scheduler"
)

// daemonJob is one job the daemon runs, with its options.
type daemonJob struct {
	job  scheduler.Job
	opts []scheduler.JobOption
	hash string // the jobs file's digest of its definition; "" for a Go job
}

// builtinJobs are the Go jobs (jobs.Builtin: the demo jobs with DEMO_JOBS),
// on their <JOB>_SCHEDULE or default schedules.
func builtinJobs(ctx context.Context, cfg config.Config, getenv func(string) string, out io.Writer) ([]daemonJob, error) {
	builtin := jobs.Builtin(withOut(cfg.Jobs, out), cfg.DemoJobs)
	schedules, err := config.Schedules(getenv, environFrom(ctx), jobNames(builtin), jobDefaults(builtin))
	if err != nil {
		return nil, err
	}
	out2 := make([]daemonJob, len(builtin))
	for i, j := range builtin {
		out2[i] = daemonJob{job: scheduler.Job{Name: j.Name, Schedule: schedules[j.Name].Spec, Run: j.Run}}
	}
	return out2, nil
}

// jobsFile reads the daemon's jobs file (JOBS_FILE) into jobs, at start and
// on each reload. Its commands run under one supervisor, started with the
// first command and closed by Close, that kills their process groups if
// the daemon dies.
type jobsFile struct {
	path    string
	getenv  func(string) string
	environ []string          // the commands' base environment
	taken   map[string]string // names the Go jobs have

	mu         sync.Mutex
	supervisor *procgroup.Supervisor
}

func newJobsFile(ctx context.Context, cfg config.Config, getenv func(string) string, builtin []daemonJob) *jobsFile {
	taken := map[string]string{}
	for _, j := range builtin {
		taken[j.job.Name] = "a Go job in jobs/registry.go"
	}
	return &jobsFile{path: cfg.JobsFile, getenv: getenv, environ: environFrom(ctx), taken: taken}
}

// load reads and checks the file: its jobs, or every mistake in it
// (jobsfile.Errors, each at FILE:LINE:COLUMN).
func (f *jobsFile) load() ([]daemonJob, error) {
	set, err := jobsfile.Load(f.path, jobsfile.Options{
		ParseSchedule: func(spec, job string) error { _, err := schedule.Parse(spec, job); return err },
		Getenv:        f.getenv, Taken: f.taken,
	})
	if err != nil {
		return nil, err
	}
	out := make([]daemonJob, 0, len(set.Jobs))
	for _, j := range set.Jobs {
		run := j.Func()
		if j.Command != nil {
			sup, err := f.supervise()
			if err != nil {
				return nil, err
			}
			cmd := *j.Command
			cmd.BaseEnv, cmd.Supervisor = f.environ, sup
			run = cmd.Run
		}
		opts, err := policyOptions(j)
		if err != nil {
			return nil, err
		}
		out = append(out, daemonJob{
			job:  scheduler.Job{Name: j.Name, Schedule: j.Schedule, Run: func(ctx context.Context) error { return target.RunFor(ctx, run) }},
			opts: append(opts, scheduler.WithDefinition(j.Hash())),
			hash: j.Hash(),
		})
	}
	return out, nil
}

// supervise returns the commands' supervisor, started on first use.
func (f *jobsFile) supervise() (*procgroup.Supervisor, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.supervisor == nil {
		sup, err := procgroup.NewSupervisor(procgroup.Self())
		if err != nil {
			return nil, err
		}
		f.supervisor = sup
	}
	return f.supervisor, nil
}

// Close stops the supervisor, once no command runs any more.
func (f *jobsFile) Close() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.supervisor == nil {
		return nil
	}
	return f.supervisor.Close()
}

// reload applies the file anew on every signal from reloads, until ctx
// ends: added jobs start, removed ones stop after their run and release
// their leases, changed ones take effect at their next tick ("Jobs
// reloaded"); a file with mistakes is refused and the jobs go on ("Jobs
// file rejected").
func (f *jobsFile) reload(ctx context.Context, reloads <-chan os.Signal, s *scheduler.Scheduler, current []daemonJob, log zerolog.Logger) {
	have := map[string]string{}
	for _, j := range current {
		have[j.job.Name] = j.hash
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-reloads:
		}
		next, err := f.load()
		if err != nil {
			var es jobsfile.Errors
			errors.As(err, &es)
			ev := log.Error().Str("file", f.path)
			if len(es) > 0 {
				ev = ev.Strs("errors", es.Strings())
			} else {
				ev = ev.Err(err)
			}
			ev.Msg("Jobs file rejected")
			continue
		}
		have = apply(s, have, next, log)
	}
}

// apply brings s from the file jobs in have (name → hash) to next, and
// returns next's.
func apply(s *scheduler.Scheduler, have map[string]string, next []daemonJob, log zerolog.Logger) map[string]string {
	var added, removed, changed []string
	want := map[string]string{}
	for _, j := range next {
		want[j.job.Name] = j.hash
		hash, ok := have[j.job.Name]
		var err error
		switch {
		case !ok:
			err, added = s.Add(j.job, j.opts...), append(added, j.job.Name)
		case hash != j.hash:
			err, changed = s.Replace(j.job, j.opts...), append(changed, j.job.Name)
		}
		if err != nil {
			log.Error().Err(err).Str("job", j.job.Name).Msg("Job not reloaded")
		}
	}
	for name := range have {
		if _, ok := want[name]; !ok {
			removed = append(removed, name)
			if err := s.Remove(name); err != nil {
				log.Error().Err(err).Str("job", name).Msg("Job not reloaded")
			}
		}
	}
	slices.Sort(removed)
	log.Info().Strs("added", nonNil(added)).Strs("removed", nonNil(removed)).Strs("changed", nonNil(changed)).Msg("Jobs reloaded")
	return want
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// policyOptions are the job's policies from the file, as the library's
// options (the same names: overlap, retries, retry_backoff,
// starting_deadline, timeout).
func policyOptions(j jobsfile.Job) ([]scheduler.JobOption, error) {
	overlap, err := scheduler.ParseOverlap(string(j.Overlap))
	if err != nil {
		return nil, fmt.Errorf("job %s: %w", j.Name, err)
	}
	opts := []scheduler.JobOption{scheduler.WithOverlap(overlap), scheduler.WithTimeout(j.Timeout)}
	if j.Retries > 0 {
		opts = append(opts, scheduler.WithRetries(j.Retries, j.RetryBackoff))
	}
	if j.StartingDeadline != jobsfile.UntilNextTick {
		opts = append(opts, scheduler.WithStartingDeadline(j.StartingDeadline))
	}
	return opts, nil
}
