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
	"unicode/utf8"

	"go-leader-election/internal/schedulers"
	"go-leader-election/jobs"
	"go-leader-election/store"
)

// Config is the validated configuration. Load fills every field.
type Config struct {
	// Port is the HTTP port (APP_PORT). Default 3000; 0 picks a free port,
	// which is logged. Invariant: 0..65535.
	Port int
	// Stage is the deployment stage (APP_STAGE), logged with every event
	// as "environment" when set. "local" selects console logs. Default "".
	// Invariant: printable text (no control characters).
	Stage string
	// LogFormat is "json" or "console" (LOG_FORMAT). Default console when
	// Stage is "local", json otherwise.
	LogFormat string
	// LogLevel is the least severe level logged (LOG_LEVEL): debug, info,
	// warn or error. Default info.
	LogLevel string
	// NodeName names this replica in logs and leases (NODE_NAME). Default
	// "": the caller picks a random Docker-style name, new at every start.
	// Invariant: empty, or 1 to MaxNodeName letters, digits, '.', '-' and
	// '_', so that every Kubernetes pod name passes and the lease holder
	// stays far below Datastore's 1,500-byte indexed-string limit.
	NodeName string

	// Store is the lease store's backend (STORE): a name registered with
	// store.Register (package store/backends lists them: memory, the
	// default, and datastore, implied when DATASTORE_EMULATOR_HOST or
	// DATASTORE_PROJECT_ID is set). StoreReason says which rule chose it
	// ("STORE is set", "DATASTORE_EMULATOR_HOST is set", ...).
	Store       string
	StoreReason string
	// Backend is the chosen backend's validated settings: what it opens,
	// and how to name it in logs. The backend reads its own variables.
	Backend store.Settings

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
	// Schedules holds each registered job's schedule: <JOB>_SCHEDULE, upper
	// case (GO_PREACHER_SCHEDULE), or the job's default. Given the
	// environment's names, Load refuses a near miss of such a variable
	// (GO_PREACHR_SCHEDULE); see Load.
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

// Schedule is a job's schedule, as written and parsed.
type Schedule struct {
	Spec     string
	Schedule schedulers.Schedule
}

// ScheduleVar returns the variable that overrides job's schedule.
func ScheduleVar(job string) string { return strings.ToUpper(job) + "_SCHEDULE" }

// Load reads and validates the configuration through getenv. It returns
// the first error, naming the variable and the bad value.
//
// environ, if given, is the whole environment in os.Environ's form
// ("NAME=value"), which getenv cannot list. With it, Load also refuses a
// variable that is a near miss of a registered job's per-job variable
// (GO_PREACHR_SCHEDULE, go_preacher_schedule; see Misspelt), which would
// otherwise be ignored in silence; other variables, *_SCHEDULE or not, are
// left alone, as other programs share the environment.
func Load(getenv func(string) string, environ ...string) (Config, error) {
	p := parser{getenv: getenv}
	c := Config{
		Port:        p.int("APP_PORT", 3000, 0, 65535),
		Stage:       p.text("APP_STAGE"),
		NodeName:    p.nodeName("NODE_NAME"),
		ClockOffset: p.duration("CLOCK_OFFSET", 0, true),
		Balance:     p.bool("BALANCE", true),
	}
	c.MemberPeriod = p.duration("MEMBER_PERIOD", 2*time.Second, false)
	if c.MemberPeriod < 500*time.Millisecond || c.MemberPeriod > time.Minute {
		p.fail("MEMBER_PERIOD", c.MemberPeriod.String(), "want a duration from 500ms to 1m")
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
	backend, reason := p.store()
	c.Store, c.StoreReason = backend.Name, reason
	c.HistoryLimit = p.int("HISTORY_LIMIT", store.DefaultHistoryLimit, 0, store.MaxHistoryLimit)
	c.AdminToken = p.token("ADMIN_TOKEN")
	if p.err != nil {
		return Config{}, p.err
	}
	if err := c.Timing.Validate(); err != nil {
		return Config{}, errors.New(timingVars.Replace(err.Error()))
	}
	for _, b := range store.Backends() {
		if b.Name != backend.Name && b.Check != nil {
			if err := b.Check(getenv); err != nil {
				return Config{}, err
			}
		}
	}
	settings, err := backend.Configure(getenv, c.StoreReason)
	if err != nil {
		return Config{}, err
	}
	c.Backend = settings
	registry := jobs.Registry(c.Jobs)
	names := make([]string, len(registry))
	for i, j := range registry {
		names[i] = j.Name
	}
	if err := Misspelt(environ, names); err != nil {
		return Config{}, err
	}
	c.Schedules = map[string]Schedule{}
	for _, j := range registry {
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
		p.err = fmt.Errorf("%s: bad value %s: %s", name, quote(value), why)
	}
}

// quote quotes v for an error message, cut short if it is long.
func quote(v string) string {
	const shown = 64
	if len(v) <= shown {
		return strconv.Quote(v)
	}
	cut := shown
	for cut > 0 && !utf8.RuneStart(v[cut]) {
		cut--
	}
	return fmt.Sprintf("%s... (%d bytes)", strconv.Quote(v[:cut]), len(v))
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

func (p *parser) bool(name string, def bool) bool {
	v := strings.TrimSpace(p.getenv(name))
	if v == "" {
		return def
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		p.fail(name, v, "want true or false")
		return def
	}
	return b
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

// store chooses the backend: the one STORE names, else the one the
// environment implies, else the default.
func (p *parser) store() (store.Backend, string) {
	var names []string
	for _, b := range store.Backends() {
		names = append(names, b.Name)
	}
	if v := strings.TrimSpace(p.getenv("STORE")); v != "" {
		if b, ok := store.Lookup(strings.ToLower(v)); ok {
			return b, store.ReasonStoreSet
		}
		p.fail("STORE", v, "want one of "+strings.Join(names, ", "))
	}
	b, why, ok := store.Choose(p.getenv)
	if !ok {
		p.fail("STORE", "", "no store backend is registered (import go-leader-election/store/backends)")
	}
	return b, why
}

func firstSet(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}
