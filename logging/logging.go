// Package logging builds the daemon's zerolog logger: JSON lines for
// machines, or console lines for people, each stamped with the wall-clock
// time to the microsecond.
package logging

import (
	"io"
	"sync"
	"time"

	"github.com/rs/zerolog"
)

// New returns a logger writing to out in format "json" or "console", at
// level ("debug", "info", "warn", "error"), with the application and stage on
// every event.
func New(out io.Writer, format, level, stage string) zerolog.Logger {
	w := out
	if format == "console" {
		w = zerolog.ConsoleWriter{Out: out, TimeFormat: "15:04:05.000", PartsOrder: []string{
			zerolog.TimestampFieldName, zerolog.LevelFieldName, zerolog.MessageFieldName,
		}, FieldsExclude: []string{"application", "environment"}} // the same on every line
	}
	lvl, err := zerolog.ParseLevel(level)
	if err != nil || level == "" {
		lvl = zerolog.InfoLevel
	}
	return zerolog.New(w).Level(lvl).Hook(stamp{}).With().
		Str("application", "go-leader-election").Str("environment", stage).Logger()
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

func (s *SyncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}
