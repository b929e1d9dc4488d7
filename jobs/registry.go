package jobs

import (
	"io"
	"time"
)

// Settings are what the registered jobs are built from (see package config).
type Settings struct {
	// Out is where jobs write their output (the daemon's stdout).
	Out io.Writer
	// PreacherTimes is how many lines a preacher writes per run (PREACHER_TIMES).
	PreacherTimes int
	// PreacherPause is the pause between two lines (PREACHER_PAUSE).
	PreacherPause time.Duration
}

// Registry lists the Go jobs this daemon runs, with or without a jobs file
// (JOBS_FILE). To add a job, add one entry:
//
//	{Name: "nightly_report", Schedule: "0 2 * * *", Run: report.Run},
func Registry(s Settings) []Job {
	return []Job{}
}

// Demo lists the demo jobs: they run when no jobs file is given, or with
// DEMO_JOBS=true. Default schedules make a newcomer see a run within 10 s
// of start.
func Demo(s Settings) []Job {
	return []Job{
		Preacher("go_preacher", "@every 10s", "Go is the best modern programming language", s.Out, s.PreacherTimes, s.PreacherPause),
		Preacher("scala_preacher", "@every 10s", "Scala is the most exciting language on the JVM", s.Out, s.PreacherTimes, s.PreacherPause),
	}
}

// Builtin lists the Go jobs: the demo jobs (with demo) and the Registry's.
func Builtin(s Settings, demo bool) []Job {
	if !demo {
		return Registry(s)
	}
	return append(Demo(s), Registry(s)...)
}
