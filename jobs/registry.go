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

// Registry lists the jobs this daemon runs. To add a job, add one entry.
// Default schedules make a newcomer see a run within 10 s of start.
func Registry(s Settings) []Job {
	return []Job{
		Preacher("go_preacher", "@every 10s", "Go is the best modern programming language", s.Out, s.PreacherTimes, s.PreacherPause),
		Preacher("scala_preacher", "@every 10s", "Scala is the most exciting language on the JVM", s.Out, s.PreacherTimes, s.PreacherPause),
	}
}
