package schedulers

import "go-leader-election/internal/schedule"

// Schedule gives the tick times of a job (package schedule parses them).
type Schedule = schedule.Schedule

// Every ticks at every multiple of its duration since the Unix epoch.
type Every = schedule.Every
