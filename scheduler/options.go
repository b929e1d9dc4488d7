package scheduler

import (
	"errors"
	"fmt"
	"regexp"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"go-leader-election/clock"
	"go-leader-election/internal/schedulers"
	"go-leader-election/store"
)

// Timing tunes the lease protocol: LeaseDuration (default 3s), RenewDeadline
// (2s), RetryPeriod (1s), Grace (500ms), FollowerDelay (50ms), StoreTimeout
// (1.5s) and ShutdownTimeout (25s), each documented with its invariant on the
// engine's type (go doc go-leader-election/internal/schedulers.Timing) and in
// the README's Configuration table under its variable (LEASE_DURATION, ...).
// The defaults suit ticks of a second and up; Validate names the first
// broken invariant.
type Timing = schedulers.Timing

// DefaultTiming returns the defaults documented on Timing.
func DefaultTiming() Timing { return schedulers.DefaultTiming() }

// DefaultHistoryLimit is how many runs per job the run history shows by
// default (WithHistoryLimit).
const DefaultHistoryLimit = store.DefaultHistoryLimit

// DefaultMemberPeriod is how often a replica renews its member record by
// default (WithMemberPeriod).
const DefaultMemberPeriod = 2 * time.Second

// MinMemberPeriod and MaxMemberPeriod bound WithMemberPeriod.
const (
	MinMemberPeriod = 500 * time.Millisecond
	MaxMemberPeriod = time.Minute
)

// MinAdminToken is the shortest admin token WithAdminToken accepts.
const MinAdminToken = 16

// ErrBadOption is wrapped by every error New returns for an invalid option.
var ErrBadOption = errors.New("scheduler: bad option")

// An Option configures a Scheduler; New applies and validates them in order.
type Option func(*settings) error

// settings are a Scheduler's options, with their defaults.
type settings struct {
	node         string
	clock        clock.Clock
	timing       Timing
	balance      bool
	memberPeriod time.Duration
	historyLimit int
	log          zerolog.Logger
	registerer   prometheus.Registerer
	observer     Observer
	adminToken   string
	storeName    string
	storeDesc    string
}

func defaults() settings {
	return settings{
		clock: clock.Real{}, timing: DefaultTiming(), balance: true, memberPeriod: DefaultMemberPeriod,
		historyLimit: DefaultHistoryLimit, log: zerolog.Nop(),
	}
}

func badOption(option string, value any, why string) error {
	return fmt.Errorf("%w: %s(%v): %s", ErrBadOption, option, value, why)
}

var nodeNameRE = regexp.MustCompile(`^[A-Za-z0-9._-]{1,253}$`)

// WithNode names this replica in logs, leases and the status page; use the
// pod or host name. Default: a random name ("confident_meitner"), new at
// every start. Up to 253 letters, digits, '.', '-' and '_'.
func WithNode(name string) Option {
	return func(s *settings) error {
		if !nodeNameRE.MatchString(name) {
			return badOption("WithNode", fmt.Sprintf("%q", name), "want 1 to 253 letters, digits, '.', '-' or '_'")
		}
		s.node = name
		return nil
	}
}

// WithClock sets the time source (tests pass a synthetic clock). Default the
// system clock.
func WithClock(c clock.Clock) Option {
	return func(s *settings) error {
		if c == nil {
			return badOption("WithClock", "nil", "want a clock")
		}
		s.clock = c
		return nil
	}
}

// WithTiming tunes the lease protocol. Default DefaultTiming().
func WithTiming(t Timing) Option {
	return func(s *settings) error {
		if err := t.Validate(); err != nil {
			return fmt.Errorf("%w: WithTiming: %v", ErrBadOption, err)
		}
		s.timing = t
		return nil
	}
}

// WithBalance turns sharing the jobs out among the replicas on or off.
// Default on: each replica announces itself in the store, and a job whose
// preferred replica is another is handed over between runs. Off, a leader
// keeps what it has. It needs a store that keeps member records
// (store.Members); with another store it changes nothing.
func WithBalance(on bool) Option {
	return func(s *settings) error { s.balance = on; return nil }
}

// WithMemberPeriod sets how often a replica renews its member record and
// reads the others' (with balance on). A record lapses after 3 periods; a
// new replica is given jobs once seen for 2. Default DefaultMemberPeriod,
// from MinMemberPeriod to MaxMemberPeriod.
func WithMemberPeriod(d time.Duration) Option {
	return func(s *settings) error {
		if d < MinMemberPeriod || d > MaxMemberPeriod {
			return badOption("WithMemberPeriod", d, fmt.Sprintf("want from %s to %s", MinMemberPeriod, MaxMemberPeriod))
		}
		s.memberPeriod = d
		return nil
	}
}

// WithHistoryLimit sets how many of each job's latest runs the shared run
// history shows (Handler's /jobs/{job}/runs and status page); 0 turns the
// history off. The store keeps as many as it was opened with. Default
// DefaultHistoryLimit, at most store.MaxHistoryLimit. It needs a store that
// keeps a history (store.History).
func WithHistoryLimit(n int) Option {
	return func(s *settings) error {
		if n < 0 || n > store.MaxHistoryLimit {
			return badOption("WithHistoryLimit", n, fmt.Sprintf("want 0 to %d", store.MaxHistoryLimit))
		}
		s.historyLimit = n
		return nil
	}
}

// WithLogger sends the scheduler's events (Scheduled, Running, Finished,
// Sitting out, ...; the README lists them) to log. Default: none.
func WithLogger(log zerolog.Logger) Option {
	return func(s *settings) error { s.log = log; return nil }
}

// WithRegisterer registers the scheduler's Prometheus metrics
// (scheduler_runs_total, scheduler_tick_lag_seconds, store_requests_total,
// ...; the README lists them) on reg. Default: no metrics.
func WithRegisterer(reg prometheus.Registerer) Option {
	return func(s *settings) error {
		if reg == nil {
			return badOption("WithRegisterer", "nil", "want a registerer")
		}
		s.registerer = reg
		return nil
	}
}

// WithObserver has o told of every run, skip and store call, as they happen,
// and, if it implements PolicyObserver, of late runs and retries. Default:
// none.
func WithObserver(o Observer) Option {
	return func(s *settings) error {
		if o == nil {
			return badOption("WithObserver", "nil", "want an observer")
		}
		s.observer = o
		return nil
	}
}

// WithAdminToken enables the operator's actions on Handler (POST
// /jobs/{job}/run, /pause, /resume), which then require "Authorization:
// Bearer <token>". Default: the actions are disabled. At least
// MinAdminToken characters, no spaces.
func WithAdminToken(token string) Option {
	return func(s *settings) error {
		if len(token) < MinAdminToken || regexp.MustCompile(`[\s]`).MatchString(token) {
			// Never echo a secret: say what is wrong, not what it is.
			return badOption("WithAdminToken", fmt.Sprintf("(%d characters)", len(token)),
				fmt.Sprintf("want at least %d characters without spaces", MinAdminToken))
		}
		s.adminToken = token
		return nil
	}
}

// WithStoreName names the store in the status page and /jobs ("memory",
// "datastore"), and describe names it in store outage logs ("datastore at
// localhost:8081"). Default: the store's package name, for both.
func WithStoreName(name, describe string) Option {
	return func(s *settings) error {
		if name == "" {
			return badOption("WithStoreName", `""`, "want a name")
		}
		s.storeName, s.storeDesc = name, describe
		return nil
	}
}
