package jobsfile

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// ErrInvalid is what every load error of a jobs file is (errors.Is).
var ErrInvalid = errors.New("invalid jobs file")

// Error is one mistake in a jobs file, at a place in it.
type Error struct {
	File         string
	Line, Column int
	// Job names the job: its name quoted, or "#3" (the third) when it has
	// none yet; "" outside the jobs.
	Job string
	// Field is the field's path in the job ("schedule", "http.url",
	// "env.TOKEN", "command[2]"); "" for the job itself.
	Field string
	Msg   string
}

// Error is "FILE:LINE:COLUMN: job "NAME": FIELD: message".
func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s:%d:%d: ", e.File, e.Line, e.Column)
	if e.Job != "" {
		b.WriteString("job " + e.Job + ": ")
	}
	if e.Field != "" {
		b.WriteString(e.Field + ": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Is makes every Error an ErrInvalid.
func (e *Error) Is(target error) bool { return target == ErrInvalid }

// Errors are all the mistakes of a file, in the order of the file.
type Errors []*Error

// Error is one line per mistake.
func (es Errors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// Unwrap gives the single errors, for errors.Is and errors.As.
func (es Errors) Unwrap() []error {
	out := make([]error, len(es))
	for i, e := range es {
		out[i] = e
	}
	return out
}

// sorted sorts es by place, keeping the order of mistakes at one place.
func (es Errors) sorted() Errors {
	slices.SortStableFunc(es, func(a, b *Error) int {
		return cmp.Or(cmp.Compare(a.Line, b.Line), cmp.Compare(a.Column, b.Column))
	})
	return es
}

// Strings are the mistakes, one a string (FILE:LINE:COLUMN: message).
func (es Errors) Strings() []string {
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = e.Error()
	}
	return out
}
