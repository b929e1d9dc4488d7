// Package logging builds the daemon's zerolog logger: JSON lines for
// machines, or console lines for people, each stamped with the wall-clock
// time to the microsecond.
package logging

import (
	"io"
	"sync"
	"time"

	"github.com/mattn/go-isatty"
	"github.com/rs/zerolog"
)

// New returns a logger writing to out in format "json" or "console", at
// level ("debug", "info", "warn", "error"), with the application on every
// event and the stage, as "environment", when it is set. Console lines are
// coloured only when out is a terminal (see IsTerminal): never in files
// or pipes.
func New(out io.Writer, format, level, stage string) zerolog.Logger {
	w := out
	if format == "console" {
		w = zerolog.ConsoleWriter{Out: out, NoColor: !IsTerminal(out), TimeFormat: "15:04:05.000", PartsOrder: []string{
			zerolog.TimestampFieldName, zerolog.LevelFieldName, zerolog.MessageFieldName,
		}, FieldsExclude: []string{"application", "environment"}} // the same on every line
	}
	lvl, err := zerolog.ParseLevel(level)
	if err != nil || level == "" {
		lvl = zerolog.InfoLevel
	}
	ctx := zerolog.New(w).Level(lvl).Hook(stamp{}).With().Str("application", "go-leader-election")
	if stage != "" {
		ctx = ctx.Str("environment", stage)
	}
	return ctx.Logger()
}

// IsTerminal reports whether w writes to a terminal: w, or the writer it
// wraps (an Unwrap() io.Writer method, as SyncWriter has), is a file, such
// as os.Stdout, open on a terminal.
func IsTerminal(w io.Writer) bool {
	for {
		if f, ok := w.(interface{ Fd() uintptr }); ok {
			return isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd())
		}
		u, ok := w.(interface{ Unwrap() io.Writer })
		if !ok {
			return false
		}
		w = u.Unwrap()
	}
}

// stamp adds the time. The global zerolog.TimeFieldFormat is left alone so
// that loggers built in parallel (tests) do not race on it; the wall clock,
// not a node's shifted clock, is logged, so logs of several nodes line up.
type stamp struct{}

func (stamp) Run(e *zerolog.Event, _ zerolog.Level, _ string) {
	e.Str(zerolog.TimestampFieldName, time.Now().UTC().Format("2006-01-02T15:04:05.000000Z07:00"))
}

// SyncWriter serializes writes, so log events and job output sharing one
// stream never interleave within a line.
type SyncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

// NewSyncWriter wraps w.
func NewSyncWriter(w io.Writer) *SyncWriter { return &SyncWriter{w: w} }

// Unwrap returns the wrapped writer.
func (s *SyncWriter) Unwrap() io.Writer { return s.w }

func (s *SyncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}
