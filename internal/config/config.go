// Package config reads the daemon's settings from the environment and
// validates them, so that a bad value stops the daemon before anything
// starts, with an error naming the variable and the value.
package config

import (
	"errors"
	"strings"
	"time"

	"go-leader-election/internal/envconfig"
	"go-leader-election/internal/schedulers"
	"go-leader-election/jobs"
	"go-leader-election/store"
)

// Config is the validated configuration. Load fills every field.
type Config struct {
	// Common holds the variables every command shares: APP_PORT,
	// APP_STAGE, LOG_FORMAT, LOG_LEVEL, NODE_NAME, STORE (and the chosen
	// backend's own variables) and STORE_TIMEOUT, which Timing.StoreTimeout
	// repeats.
	envconfig.Common

	// Timing tunes the lease protocol; see schedulers.Timing for meanings
	// and invariants. Variables: LEASE_DURATION, RENEW_DEADLINE,
	// RETRY_PERIOD, LEASE_GRACE, FOLLOWER_DELAY, STORE_TIMEOUT,
	// SHUTDOWN_TIMEOUT (Go durations: "500ms", "15s").
	Timing schedulers.Timing

	// Balance shares the jobs out among the replicas (BALANCE, true or
	// false): each node announces itself in the store, and a job whose
	// preferred node is another is handed over between runs. Default true.
	// With the embedded store (one replica) it changes nothing.
	Balance bool
	// MemberPeriod is how often a node renews its member record and reads
	// the others' (MEMBER_PERIOD). A record lapses after 3 periods; a new
	// member is given jobs once seen for 2. Default 2s. Invariant: from
	// 500ms to 1m.
	MemberPeriod time.Duration

	// ClockOffset shifts this node's wall clock (CLOCK_OFFSET, a duration,
	// may be negative), to rehearse clock skew between replicas. A test
	// knob: default 0, never set it in production.
	ClockOffset time.Duration

	// Jobs holds the job settings: PREACHER_TIMES (default 5, >= 0) and
	// PREACHER_PAUSE (default 1s, >= 0). Out is left for the caller.
	Jobs jobs.Settings

	// HistoryLimit is how many runs per job the shared history keeps
	// (HISTORY_LIMIT). Default 50; 0 turns the history off. Invariant:
	// 0..store.MaxHistoryLimit (500).
	HistoryLimit int
	// AdminToken enables the operator's actions (ADMIN_TOKEN): POST
	// /jobs/{job}/run, /pause and /resume then require it as a bearer
	// token. Default "": the actions are disabled. Invariant: empty, or at
	// least MinAdminToken printable characters without spaces.
	AdminToken string

	// JobsFile is the YAML file of command and HTTP jobs (JOBS_FILE), read
	// at start and again on SIGHUP (package jobsfile). Default "": none.
	JobsFile string
	// DemoJobs runs the demo jobs, the preachers (DEMO_JOBS, true or false).
	// Default true without a JobsFile, false with one.
	DemoJobs bool
}

// MinAdminToken is the shortest ADMIN_TOKEN accepted: a token is a secret,
// not a password to type.
const MinAdminToken = 16

// Load reads and validates the configuration through getenv. It returns
// the first error, naming the variable and the bad value. The jobs'
// schedules are Schedules's.
func Load(getenv func(string) string) (Config, error) {
	p := envconfig.NewParser(getenv)
	c := Config{
		Common:      envconfig.LoadCommon(p),
		ClockOffset: p.Duration("CLOCK_OFFSET", 0, true),
		Balance:     p.Bool("BALANCE", true),
	}
	c.MemberPeriod = p.Duration("MEMBER_PERIOD", 2*time.Second, false)
	if c.MemberPeriod < 500*time.Millisecond || c.MemberPeriod > time.Minute {
		p.Fail("MEMBER_PERIOD", c.MemberPeriod.String(), "want a duration from 500ms to 1m")
	}

	d := schedulers.DefaultTiming()
	c.Timing = schedulers.Timing{
		LeaseDuration:   p.Duration("LEASE_DURATION", d.LeaseDuration, false),
		RenewDeadline:   p.Duration("RENEW_DEADLINE", d.RenewDeadline, false),
		RetryPeriod:     p.Duration("RETRY_PERIOD", d.RetryPeriod, false),
		Grace:           p.Duration("LEASE_GRACE", d.Grace, false),
		FollowerDelay:   p.Duration("FOLLOWER_DELAY", d.FollowerDelay, false),
		StoreTimeout:    c.StoreTimeout,
		ShutdownTimeout: p.Duration("SHUTDOWN_TIMEOUT", d.ShutdownTimeout, false),
	}
	c.Jobs = jobs.Settings{
		PreacherTimes: p.Int("PREACHER_TIMES", 5, 0, 1<<31-1),
		PreacherPause: p.Duration("PREACHER_PAUSE", time.Second, false),
	}
	c.HistoryLimit = p.Int("HISTORY_LIMIT", store.DefaultHistoryLimit, 0, store.MaxHistoryLimit)
	c.AdminToken = p.Secret("ADMIN_TOKEN", MinAdminToken)
	c.JobsFile = p.String("JOBS_FILE")
	c.DemoJobs = p.Bool("DEMO_JOBS", c.JobsFile == "")
	if err := p.Err(); err != nil {
		return Config{}, err
	}
	if err := c.Timing.Validate(); err != nil {
		return Config{}, errors.New(timingVars.Replace(err.Error()))
	}
	return c, nil
}

// timingVars names schedulers.Timing's fields by their variables.
var timingVars = strings.NewReplacer(
	"LeaseDuration", "LEASE_DURATION", "RenewDeadline", "RENEW_DEADLINE", "RetryPeriod", "RETRY_PERIOD",
	"Grace", "LEASE_GRACE", "FollowerDelay", "FOLLOWER_DELAY", "StoreTimeout", "STORE_TIMEOUT",
	"ShutdownTimeout", "SHUTDOWN_TIMEOUT")

func firstSet(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}
