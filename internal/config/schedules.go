package config

import (
	"fmt"
	"strings"

	"go-leader-election/internal/schedule"
)

// Schedule is a job's schedule, as written and parsed.
type Schedule struct {
	Spec     string
	Schedule schedule.Schedule
}

// ScheduleVar returns the variable that overrides job's schedule.
func ScheduleVar(job string) string { return strings.ToUpper(job) + "_SCHEDULE" }

// Schedules reads each job's schedule: <JOB>_SCHEDULE, upper case
// (GO_PREACHER_SCHEDULE), or defaults[job], the job's own. It returns the
// first error, naming the variable, the job and the bad value.
//
// environ, if given, is the whole environment in os.Environ's form
// ("NAME=value"), which getenv cannot list. With it, Schedules also refuses
// a variable that is a near miss of a job's per-job variable
// (GO_PREACHR_SCHEDULE, go_preacher_schedule; see Misspelt), which would
// otherwise be ignored in silence; other variables, *_SCHEDULE or not, are
// left alone, as other programs share the environment.
func Schedules(getenv func(string) string, environ []string, jobs []string, defaults map[string]string) (map[string]Schedule, error) {
	if err := Misspelt(environ, jobs); err != nil {
		return nil, err
	}
	out := map[string]Schedule{}
	for _, job := range jobs {
		name := ScheduleVar(job)
		spec := firstSet(strings.TrimSpace(getenv(name)), defaults[job])
		s, err := schedule.Parse(spec, job)
		if err != nil {
			return nil, fmt.Errorf("%s: job %s: bad schedule %q: %v", name, job, spec, err)
		}
		out[job] = Schedule{Spec: spec, Schedule: s}
	}
	return out, nil
}
