package schedule

import (
	"fmt"
	"strconv"
	"strings"
)

// field is one cron field: its name in errors, its bounds, the names it
// accepts (months, days of the week), and the range a bare H picks from.
type field struct {
	name                 string
	min, max             uint
	names                map[string]uint
	spreadMin, spreadMax uint
}

var (
	secondField = field{name: "second", max: 59, spreadMax: 59}
	minuteField = field{name: "minute", max: 59, spreadMax: 59}
	hourField   = field{name: "hour", max: 23, spreadMax: 23}
	// A bare H in the day of the month picks from 1-28, days every month has.
	domField   = field{name: "day-of-month", min: 1, max: 31, spreadMin: 1, spreadMax: 28}
	monthField = field{name: "month", min: 1, max: 12, spreadMin: 1, spreadMax: 12, names: map[string]uint{
		"jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6,
		"jul": 7, "aug": 8, "sep": 9, "oct": 10, "nov": 11, "dec": 12,
	}}
	dowField = field{name: "day-of-week", max: 6, spreadMax: 6, names: map[string]uint{
		"sun": 0, "mon": 1, "tue": 2, "wed": 3, "thu": 4, "fri": 5, "sat": 6,
	}}
)

// starBit is robfig/cron's mark of a field written * or ? (without a step
// above 1). Its SpecSchedule reads it on the day fields: when either day
// field has it, a day must match both; otherwise either.
const starBit = 1 << 63

// parse turns the field's text into robfig/cron's bit set, and says whether
// the field is a wildcard for the daylight-saving rule: one of its list
// items is *, ?, */n or H/n (see the package doc).
func (f field) parse(text, job string) (bits uint64, wildcard bool, err error) {
	for part := range strings.SplitSeq(text, ",") {
		var b uint64
		var w bool
		var reason string
		if strings.HasPrefix(part, "H") {
			b, w, reason = f.spread(part, job)
		} else {
			b, w, reason = f.rangeBits(part)
		}
		if reason != "" {
			if part != "" && part != text {
				reason = part + ": " + reason
			}
			return 0, false, &FieldError{Field: f.name, Value: text, Reason: reason}
		}
		bits |= b
		wildcard = wildcard || w
	}
	return bits, wildcard, nil
}

// rangeBits reads one list item other than H: *, ?, n, a-b, each with an
// optional /step; n/step means n-max/step. It gives the bits robfig/cron's
// parser gives, or why the item is wrong.
func (f field) rangeBits(expr string) (bits uint64, wildcard bool, reason string) {
	if expr == "" {
		return 0, false, "an empty item in the list"
	}
	rangeText, stepText, stepped := strings.Cut(expr, "/")
	if strings.Contains(stepText, "/") {
		return 0, false, "more than one /"
	}
	var start, end uint
	var extra uint64
	if rangeText == "*" || rangeText == "?" {
		start, end, extra, wildcard = f.min, f.max, starBit, true
	} else {
		lowText, highText, isRange := strings.Cut(rangeText, "-")
		if start, reason = f.number(lowText); reason != "" {
			return 0, false, reason
		}
		end = start
		switch {
		case isRange:
			if end, reason = f.number(highText); reason != "" {
				return 0, false, reason
			}
		case stepped:
			end = f.max
		}
	}
	step := uint(1)
	if stepped {
		if step, reason = parseStep(stepText); reason != "" {
			return 0, false, reason
		}
		if step > 1 {
			extra = 0
		}
	}
	if reason = f.checkRange(start, end); reason != "" {
		return 0, false, reason
	}
	return bitsOf(start, end, step) | extra, wildcard, ""
}

// checkRange says what is wrong with start-end, if anything.
func (f field) checkRange(start, end uint) string {
	switch {
	case start < f.min:
		return fmt.Sprintf("%d is below the minimum %d", start, f.min)
	case end > f.max:
		return fmt.Sprintf("%d is above the maximum %d", end, f.max)
	case start > end:
		return fmt.Sprintf("the range %d-%d starts after it ends", start, end)
	}
	return ""
}

// number reads a value of the field: digits, or a name (jan, mon).
func (f field) number(text string) (uint, string) {
	if n, ok := f.names[strings.ToLower(text)]; ok {
		return n, ""
	}
	n, err := strconv.ParseUint(text, 10, 32)
	if err != nil {
		if f.names != nil {
			return 0, fmt.Sprintf("%q is neither a number nor a name", text)
		}
		return 0, fmt.Sprintf("%q is not a number", text)
	}
	return uint(n), ""
}

// parseStep reads the n of /n.
func parseStep(text string) (uint, string) {
	n, err := strconv.ParseUint(text, 10, 32)
	switch {
	case err != nil:
		return 0, fmt.Sprintf("step %q is not a number", text)
	case n == 0:
		return 0, "the step must be at least 1"
	}
	return uint(n), ""
}

// bitsOf sets the bits start, start+step, ... up to end.
func bitsOf(start, end, step uint) uint64 {
	var bits uint64
	for i := start; i <= end; i += step {
		bits |= 1 << i
	}
	return bits
}

// all is every value of the field, marked as written *.
func (f field) all() uint64 { return bitsOf(f.min, f.max, 1) | starBit }
