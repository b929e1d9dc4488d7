package schedule

import (
	"errors"
	"fmt"
)

// ErrInvalid is wrapped by every error Parse returns: errors.Is(err,
// ErrInvalid) tells a bad schedule from any other failure. The messages name
// what is wrong and its value, and not the job: callers prefix them with the
// job and the option ("job backup: schedule: minute field ...").
var ErrInvalid = errors.New("invalid schedule")

// FieldError is a bad cron field: which one, what was written, and why.
type FieldError struct {
	Field  string // "second", "minute", "hour", "day-of-month", "month" or "day-of-week"
	Value  string // the field as written, e.g. "H(40-20)"
	Reason string // e.g. "the range starts after it ends"
}

func (e *FieldError) Error() string {
	return fmt.Sprintf("%s field %q: %s", e.Field, e.Value, e.Reason)
}

// Unwrap makes a FieldError match ErrInvalid.
func (e *FieldError) Unwrap() error { return ErrInvalid }

// invalid is an error about the spec as a whole (not one field).
func invalid(format string, args ...any) error {
	return &specError{msg: fmt.Sprintf(format, args...)}
}

type specError struct{ msg string }

func (e *specError) Error() string { return e.msg }
func (e *specError) Unwrap() error { return ErrInvalid }
