package schedule

import (
	"strings"
	"time"
	"unicode"

	"github.com/robfig/cron/v3"
)

// Schedule gives the tick times of a job. Every node computes the same ticks
// from the same spec and job name, whenever it started.
type Schedule interface {
	// Next returns the first tick strictly after t, or the zero time if
	// there is none within five years.
	Next(t time.Time) time.Time
}

// Parse reads a job's schedule. It accepts 5- or 6-field cron (seconds
// first when 6), with H in any field (spread by the job's name); the
// descriptors @yearly, @annually, @monthly, @weekly, @daily, @midnight and
// @hourly; a CRON_TZ= or TZ= prefix naming an IANA zone (UTC without one);
// and "@every D", D a whole number of milliseconds, at least 10ms, with no
// zone. Errors wrap ErrInvalid and name the bad field or part and its value.
func Parse(spec, job string) (Schedule, error) {
	text := strings.TrimSpace(spec)
	if text == "" {
		return nil, invalid("empty schedule")
	}
	loc, rest, err := cutZone(text)
	if err != nil {
		return nil, err
	}
	switch {
	case rest == "@every" || strings.HasPrefix(rest, "@every "):
		if loc != nil {
			return nil, invalid("%q: @every takes no time zone (it ticks at multiples of its interval since the Unix epoch)", text)
		}
		return parseEvery(strings.TrimSpace(strings.TrimPrefix(rest, "@every")))
	case loc == nil:
		loc = time.UTC
	}
	if strings.HasPrefix(rest, "@") {
		return parseDescriptor(rest, loc)
	}
	return parseFields(rest, loc, job)
}

// cutZone splits a CRON_TZ= or TZ= prefix off the spec; loc is nil without
// one.
func cutZone(text string) (loc *time.Location, rest string, err error) {
	key, after, ok := strings.Cut(text, "=")
	if !ok || (key != "CRON_TZ" && key != "TZ") {
		return nil, text, nil
	}
	name, rest := after, ""
	if i := strings.IndexFunc(after, unicode.IsSpace); i >= 0 {
		name, rest = after[:i], strings.TrimSpace(after[i:])
	}
	if name == "" {
		return nil, "", invalid("%s=: no time zone named", key)
	}
	if loc, err = time.LoadLocation(name); err != nil {
		return nil, "", invalid("%s=%s: unknown time zone (want an IANA name such as America/New_York)", key, name)
	}
	if rest == "" {
		return nil, "", invalid("%s=%s: no schedule after the time zone", key, name)
	}
	return loc, rest, nil
}

// parseFields reads 5 or 6 cron fields.
func parseFields(text string, loc *time.Location, job string) (Schedule, error) {
	words := strings.Fields(text)
	switch len(words) {
	case 5:
		words = append([]string{"0"}, words...)
	case 6:
	default:
		return nil, invalid("%q: want 5 fields (minute hour day-of-month month day-of-week) or 6 (second first), found %d", text, len(words))
	}
	var spec cron.SpecSchedule
	var wild [6]bool
	var err error
	for i, f := range []struct {
		def  field
		bits *uint64
	}{
		{secondField, &spec.Second}, {minuteField, &spec.Minute}, {hourField, &spec.Hour},
		{domField, &spec.Dom}, {monthField, &spec.Month}, {dowField, &spec.Dow},
	} {
		if *f.bits, wild[i], err = f.def.parse(words[i], job); err != nil {
			return nil, err
		}
	}
	return &cronSchedule{spec: spec, loc: loc, fixedTime: !wild[0] && !wild[1] && !wild[2]}, nil
}

// parseDescriptor reads @yearly and the like. @hourly is a wildcard for the
// daylight-saving rule (as in Vixie cron: it runs every real hour); the
// others are fixed times (midnight).
func parseDescriptor(text string, loc *time.Location) (Schedule, error) {
	spec := cron.SpecSchedule{Second: 1, Minute: 1, Hour: 1, Dom: 1 << 1, Month: 1 << 1,
		Dow: dowField.all()}
	switch text {
	case "@yearly", "@annually":
	case "@monthly":
		spec.Month = monthField.all()
	case "@weekly":
		spec.Dom, spec.Month, spec.Dow = domField.all(), monthField.all(), 1
	case "@daily", "@midnight":
		spec.Dom, spec.Month = domField.all(), monthField.all()
	case "@hourly":
		spec.Hour, spec.Dom, spec.Month = hourField.all(), domField.all(), monthField.all()
		return &cronSchedule{spec: spec, loc: loc}, nil
	default:
		return nil, invalid("%q: unknown descriptor (want @yearly, @annually, @monthly, @weekly, @daily, @midnight, @hourly or @every D)", text)
	}
	return &cronSchedule{spec: spec, loc: loc, fixedTime: true}, nil
}
