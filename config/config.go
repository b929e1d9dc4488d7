// Package config reads the daemon's settings from the environment and
// validates them, so that a bad value stops the daemon before anything
// starts, with an error naming the variable and the value.
package config

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"go-leader-election/jobs"
	"go-leader-election/schedulers"
	"go-leader-election/store"
)

// Stores the daemon can use (STORE).
const (
	StoreMemory    = "memory"
	StoreDatastore = "datastore"
)

// Config is the validated configuration. Load fills every field.
type Config struct {
	// Port is the HTTP port (APP_PORT). Default 3000; 0 picks a free port,
	// which is logged. Invariant: 0..65535.
	Port int
	// Stage is the deployment stage (APP_STAGE), logged with every event.
	// "local" selects console logs. Default "".
	Stage string
	// LogFormat is "json" or "console" (LOG_FORMAT). Default console when
	// Stage is "local", json otherwise.
	LogFormat string
	// LogLevel is the least severe level logged (LOG_LEVEL): debug, info,
	// warn or error. Default info.
	LogLevel string
	// NodeName names this replica in logs and leases (NODE_NAME). Default: a
	// random Docker-style name, new at every start.
	NodeName string

	// Store is the lease store, StoreMemory or StoreDatastore (STORE).
	// Default memory, or datastore when DATASTORE_EMULATOR_HOST or
	// DATASTORE_PROJECT_ID is set. StoreReason says which rule chose it.
	Store       string
	StoreReason string
	// Datastore configures STORE=datastore.
	Datastore Datastore

	// Timing tunes the lease protocol; see schedulers.Timing for meanings
	// and invariants. Variables: LEASE_DURATION, RENEW_DEADLINE,
	// RETRY_PERIOD, LEASE_GRACE, FOLLOWER_DELAY, STORE_TIMEOUT,
	// SHUTDOWN_TIMEOUT (Go durations: "500ms", "15s").
	Timing schedulers.Timing

	// ClockOffset shifts this node's wall clock (CLOCK_OFFSET, a duration,
	// may be negative), to rehearse clock skew between replicas. A test
	// knob: default 0, never set it in production.
	ClockOffset time.Duration

	// Jobs holds the job settings: PREACHER_TIMES (default 5, >= 0) and
	// PREACHER_PAUSE (default 1s, >= 0). Out is left for the caller.
	Jobs jobs.Settings
	// Schedules holds each registered job's schedule: <JOB>_SCHEDULE, upper
	// case (GO_PREACHER_SCHEDULE), or the job's default.
	Schedules map[string]Schedule

	// HistoryLimit is how many runs per job the shared history keeps
	// (HISTORY_LIMIT). Default 50; 0 turns the history off. Invariant:
	// 0..store.MaxHistoryLimit (500).
	HistoryLimit int
	// AdminToken enables the operator's actions (ADMIN_TOKEN): POST
	// /jobs/{job}/run, /pause and /resume then require it as a bearer
	// token. Default "": the actions are disabled. Invariant: empty, or at
	// least MinAdminToken printable characters without spaces.
	AdminToken string
}

// MinAdminToken is the shortest ADMIN_TOKEN accepted: a token is a secret,
// not a password to type.
const MinAdminToken = 16

// Datastore configures the Google Cloud Datastore store.
type Datastore struct {
	// Project is DATASTORE_PROJECT_ID, else GOOGLE_CLOUD_PROJECT. Required
	// for STORE=datastore.
	Project string
	// Database is a named database (DATASTORE_DATABASE); "" is the default.
	Database string
	// Namespace keeps one environment's leases apart (DATASTORE_NAMESPACE).
	Namespace string
	// Kind is the lease entity kind (DATASTORE_KIND). Default "Lease".
	Kind string
	// EmulatorHost is DATASTORE_EMULATOR_HOST, honoured by the client.
	EmulatorHost string
}

// Schedule is a job's schedule, as written and parsed.
type Schedule struct {
	Spec     string
	Schedule schedulers.Schedule
}

// ScheduleVar returns the variable that overrides job's schedule.
func ScheduleVar(job string) string { return strings.ToUpper(job) + "_SCHEDULE" }

// Load reads and validates the configuration. It returns the first error,
// naming the variable and the bad value.
func Load(getenv func(string) string) (Config, error) {
	p := parser{getenv: getenv}
	c := Config{
		Port:        p.int("APP_PORT", 3000, 0, 65535),
		Stage:       getenv("APP_STAGE"),
		NodeName:    strings.TrimSpace(getenv("NODE_NAME")),
		ClockOffset: p.duration("CLOCK_OFFSET", 0, true),
	}
	c.LogLevel = p.oneOf("LOG_LEVEL", "info", "debug", "info", "warn", "error")
	c.LogFormat = p.oneOf("LOG_FORMAT", map[bool]string{true: "console", false: "json"}[c.Stage == "local"], "json", "console")

	d := schedulers.DefaultTiming()
	c.Timing = schedulers.Timing{
		LeaseDuration:   p.duration("LEASE_DURATION", d.LeaseDuration, false),
		RenewDeadline:   p.duration("RENEW_DEADLINE", d.RenewDeadline, false),
		RetryPeriod:     p.duration("RETRY_PERIOD", d.RetryPeriod, false),
		Grace:           p.duration("LEASE_GRACE", d.Grace, false),
		FollowerDelay:   p.duration("FOLLOWER_DELAY", d.FollowerDelay, false),
		StoreTimeout:    p.duration("STORE_TIMEOUT", d.StoreTimeout, false),
		ShutdownTimeout: p.duration("SHUTDOWN_TIMEOUT", d.ShutdownTimeout, false),
	}
	c.Jobs = jobs.Settings{
		PreacherTimes: p.int("PREACHER_TIMES", 5, 0, 1<<31-1),
		PreacherPause: p.duration("PREACHER_PAUSE", time.Second, false),
	}
	c.Datastore = Datastore{
		Project:      firstSet(getenv("DATASTORE_PROJECT_ID"), getenv("GOOGLE_CLOUD_PROJECT")),
		Database:     getenv("DATASTORE_DATABASE"),
		Namespace:    getenv("DATASTORE_NAMESPACE"),
		Kind:         firstSet(getenv("DATASTORE_KIND"), "Lease"),
		EmulatorHost: getenv("DATASTORE_EMULATOR_HOST"),
	}
	c.Store, c.StoreReason = p.store()
	c.HistoryLimit = p.int("HISTORY_LIMIT", store.DefaultHistoryLimit, 0, store.MaxHistoryLimit)
	c.AdminToken = p.token("ADMIN_TOKEN")
	if p.err != nil {
		return Config{}, p.err
	}
	if err := c.Timing.Validate(); err != nil {
		return Config{}, errors.New(timingVars.Replace(err.Error()))
	}
	if c.Store == StoreDatastore && c.Datastore.Project == "" {
		return Config{}, errors.New("STORE=datastore needs DATASTORE_PROJECT_ID (or GOOGLE_CLOUD_PROJECT)")
	}
	c.Schedules = map[string]Schedule{}
	for _, j := range jobs.Registry(c.Jobs) {
		name := ScheduleVar(j.Name)
		spec := firstSet(strings.TrimSpace(getenv(name)), j.Schedule)
		s, err := schedulers.ParseSchedule(spec)
		if err != nil {
			return Config{}, fmt.Errorf("%s: job %s: bad schedule %q: %v", name, j.Name, spec, err)
		}
		c.Schedules[j.Name] = Schedule{Spec: spec, Schedule: s}
	}
	return c, nil
}

// timingVars names schedulers.Timing's fields by their variables.
var timingVars = strings.NewReplacer(
	"LeaseDuration", "LEASE_DURATION", "RenewDeadline", "RENEW_DEADLINE", "RetryPeriod", "RETRY_PERIOD",
	"Grace", "LEASE_GRACE", "FollowerDelay", "FOLLOWER_DELAY", "StoreTimeout", "STORE_TIMEOUT",
	"ShutdownTimeout", "SHUTDOWN_TIMEOUT")

// parser keeps the first error, so Load reads like a list of fields.
type parser struct {
	getenv func(string) string
	err    error
}

func (p *parser) fail(name, value, why string) {
	if p.err == nil {
		p.err = fmt.Errorf("%s: bad value %q: %s", name, value, why)
	}
}

func (p *parser) int(name string, def, lo, hi int) int {
	v := strings.TrimSpace(p.getenv(name))
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		p.fail(name, v, fmt.Sprintf("want a whole number from %d to %d", lo, hi))
		return def
	}
	return n
}

func (p *parser) duration(name string, def time.Duration, negative bool) time.Duration {
	v := strings.TrimSpace(p.getenv(name))
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	switch {
	case err != nil:
		p.fail(name, v, `want a duration such as "500ms", "15s" or "1m"`)
		return def
	case d < 0 && !negative:
		p.fail(name, v, "must not be negative")
		return def
	}
	return d
}

func (p *parser) oneOf(name, def string, allowed ...string) string {
	v := strings.TrimSpace(p.getenv(name))
	if v == "" {
		return def
	}
	for _, a := range allowed {
		if strings.EqualFold(v, a) {
			return a
		}
	}
	p.fail(name, v, "want one of "+strings.Join(allowed, ", "))
	return def
}

// token reads a secret: its errors never repeat the value.
func (p *parser) token(name string) string {
	v := p.getenv(name)
	if v == "" {
		return ""
	}
	fail := func(why string) {
		if p.err == nil {
			p.err = fmt.Errorf("%s: bad value (not shown: it is a secret): %s", name, why)
		}
	}
	for _, r := range v {
		if r <= ' ' || r == 0x7f {
			fail("it must not contain spaces or control characters")
			return ""
		}
	}
	if len(v) < MinAdminToken {
		fail(fmt.Sprintf("%d characters, want at least %d (e.g. openssl rand -hex 32)", len(v), MinAdminToken))
		return ""
	}
	return v
}

func (p *parser) store() (store, reason string) {
	if v := strings.TrimSpace(p.getenv("STORE")); v != "" {
		return p.oneOf("STORE", StoreMemory, StoreMemory, StoreDatastore), "STORE is set"
	}
	for _, name := range []string{"DATASTORE_EMULATOR_HOST", "DATASTORE_PROJECT_ID"} {
		if p.getenv(name) != "" {
			return StoreDatastore, name + " is set"
		}
	}
	return StoreMemory, "the default: embedded, for a single replica"
}

func firstSet(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}
