package schedule

import (
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/robfig/cron/v3"
)

// The 2026 changes of the zones below (wall times before → after):
//
//	America/New_York    03-08 02:00 EST → 03:00 EDT    11-01 02:00 EDT → 01:00 EST
//	Europe/Berlin       03-29 02:00 CET → 03:00 CEST   10-25 03:00 CEST → 02:00 CET
//	Australia/Sydney    10-04 02:00 +10 → 03:00 +11    04-05 03:00 +11 → 02:00 +10
//	Australia/Lord_Howe 10-04 02:00 +10:30 → 02:30 +11 04-05 02:00 +11 → 01:30 +10:30
//
// Each case gives the ticks following `from`, written with their offsets.
var daylightCases = []struct {
	name, zone, spec, from string
	want                   []string
}{
	// New York, spring forward: 02:00-02:59 does not exist on 03-08.
	{"measured: a daily job in the skipped hour runs at the change", "America/New_York", "30 2 * * *", "2026-03-07T12:00:00-05:00",
		[]string{"2026-03-08T03:00:00-04:00", "2026-03-09T02:30:00-04:00"}},
	{"skipped 02:00 runs at the change", "America/New_York", "0 2 * * *", "2026-03-07T12:00:00-05:00",
		[]string{"2026-03-08T03:00:00-04:00", "2026-03-09T02:00:00-04:00"}},
	{"03:00 exists", "America/New_York", "0 3 * * *", "2026-03-07T12:00:00-05:00",
		[]string{"2026-03-08T03:00:00-04:00", "2026-03-09T03:00:00-04:00"}},
	{"skipped times and 03:00 make one tick", "America/New_York", "0,30 2,3 * * *", "2026-03-08T00:00:00-05:00",
		[]string{"2026-03-08T03:00:00-04:00", "2026-03-08T03:30:00-04:00", "2026-03-09T02:00:00-04:00"}},
	{"seconds, fixed", "America/New_York", "0 30 2 * * *", "2026-03-07T12:00:00-05:00",
		[]string{"2026-03-08T03:00:00-04:00", "2026-03-09T02:30:00-04:00"}},
	{"seconds, wildcard: the skipped minute does not run", "America/New_York", "*/20 30 2 * * *", "2026-03-07T12:00:00-05:00",
		[]string{"2026-03-09T02:30:00-04:00", "2026-03-09T02:30:20-04:00", "2026-03-09T02:30:40-04:00"}},
	{"wildcard follows real time", "America/New_York", "*/30 * * * *", "2026-03-08T01:00:00-05:00",
		[]string{"2026-03-08T01:30:00-05:00", "2026-03-08T03:00:00-04:00", "2026-03-08T03:30:00-04:00"}},
	{"wildcard hour, fixed minute", "America/New_York", "30 * * * *", "2026-03-08T00:45:00-05:00",
		[]string{"2026-03-08T01:30:00-05:00", "2026-03-08T03:30:00-04:00"}},
	// New York, fall back: 01:00-01:59 happens twice on 11-01.
	{"measured: a daily job in the repeated hour runs once", "America/New_York", "30 1 * * *", "2026-10-31T12:00:00-04:00",
		[]string{"2026-11-01T01:30:00-04:00", "2026-11-02T01:30:00-05:00"}},
	{"first minute of the repeated hour", "America/New_York", "0 1 * * *", "2026-10-31T12:00:00-04:00",
		[]string{"2026-11-01T01:00:00-04:00", "2026-11-02T01:00:00-05:00"}},
	{"last minute of the repeated hour", "America/New_York", "59 1 * * *", "2026-10-31T12:00:00-04:00",
		[]string{"2026-11-01T01:59:00-04:00", "2026-11-02T01:59:00-05:00"}},
	{"02:00 happens once", "America/New_York", "0 2 * * *", "2026-10-31T12:00:00-04:00",
		[]string{"2026-11-01T02:00:00-05:00", "2026-11-02T02:00:00-05:00"}},
	{"fixed hours range", "America/New_York", "15 1-3 * * *", "2026-11-01T00:00:00-04:00",
		[]string{"2026-11-01T01:15:00-04:00", "2026-11-01T02:15:00-05:00", "2026-11-01T03:15:00-05:00"}},
	{"from inside the second 01:xx, a fixed time waits a day", "America/New_York", "30 1 * * *", "2026-11-01T01:10:00-05:00",
		[]string{"2026-11-02T01:30:00-05:00"}},
	{"from after the first 01:30, a fixed time waits a day", "America/New_York", "30 1 * * *", "2026-11-01T01:45:00-04:00",
		[]string{"2026-11-02T01:30:00-05:00"}},
	{"wildcard runs in both hours", "America/New_York", "*/30 * * * *", "2026-11-01T00:45:00-04:00",
		[]string{"2026-11-01T01:00:00-04:00", "2026-11-01T01:30:00-04:00", "2026-11-01T01:00:00-05:00", "2026-11-01T01:30:00-05:00", "2026-11-01T02:00:00-05:00"}},
	{"wildcard hour runs in both hours", "America/New_York", "15 * * * *", "2026-11-01T00:30:00-04:00",
		[]string{"2026-11-01T01:15:00-04:00", "2026-11-01T01:15:00-05:00", "2026-11-01T02:15:00-05:00"}},
	{"@hourly is a wildcard", "America/New_York", "@hourly", "2026-11-01T00:30:00-04:00",
		[]string{"2026-11-01T01:00:00-04:00", "2026-11-01T01:00:00-05:00", "2026-11-01T02:00:00-05:00"}},
	{"wildcard from inside the first hour", "America/New_York", "*/30 * * * *", "2026-11-01T01:45:00-04:00",
		[]string{"2026-11-01T01:00:00-05:00"}},
	// The rest of the README's New York table.
	{"README: 02:30 on fall-back day", "America/New_York", "30 2 * * *", "2026-10-31T12:00:00-04:00",
		[]string{"2026-11-01T02:30:00-05:00"}},
	{"README: 01:30 on spring-forward day", "America/New_York", "30 1 * * *", "2026-03-07T12:00:00-05:00",
		[]string{"2026-03-08T01:30:00-05:00"}},
	{"README: fixed list on fall-back day", "America/New_York", "0,30 2,3 * * *", "2026-11-01T00:00:00-04:00",
		[]string{"2026-11-01T02:00:00-05:00", "2026-11-01T02:30:00-05:00", "2026-11-01T03:00:00-05:00", "2026-11-01T03:30:00-05:00"}},
	{"README: @hourly on spring-forward day", "America/New_York", "@hourly", "2026-03-08T00:30:00-05:00",
		[]string{"2026-03-08T01:00:00-05:00", "2026-03-08T03:00:00-04:00"}},
	// Berlin.
	{"Berlin spring, fixed", "Europe/Berlin", "30 2 * * *", "2026-03-28T12:00:00+01:00",
		[]string{"2026-03-29T03:00:00+02:00", "2026-03-30T02:30:00+02:00"}},
	{"Berlin spring, wildcard", "Europe/Berlin", "*/30 * * * *", "2026-03-29T01:15:00+01:00",
		[]string{"2026-03-29T01:30:00+01:00", "2026-03-29T03:00:00+02:00"}},
	{"Berlin fall, fixed", "Europe/Berlin", "30 2 * * *", "2026-10-24T12:00:00+02:00",
		[]string{"2026-10-25T02:30:00+02:00", "2026-10-26T02:30:00+01:00"}},
	{"Berlin fall, wildcard", "Europe/Berlin", "*/30 * * * *", "2026-10-25T02:15:00+02:00",
		[]string{"2026-10-25T02:30:00+02:00", "2026-10-25T02:00:00+01:00", "2026-10-25T02:30:00+01:00", "2026-10-25T03:00:00+01:00"}},
	// Sydney: the southern hemisphere falls back in April, springs forward in October.
	{"Sydney fall, fixed", "Australia/Sydney", "30 2 * * *", "2026-04-04T12:00:00+11:00",
		[]string{"2026-04-05T02:30:00+11:00", "2026-04-06T02:30:00+10:00"}},
	{"Sydney fall, wildcard", "Australia/Sydney", "*/30 * * * *", "2026-04-05T02:15:00+11:00",
		[]string{"2026-04-05T02:30:00+11:00", "2026-04-05T02:00:00+10:00", "2026-04-05T02:30:00+10:00", "2026-04-05T03:00:00+10:00"}},
	{"Sydney spring, fixed", "Australia/Sydney", "30 2 * * *", "2026-10-03T12:00:00+10:00",
		[]string{"2026-10-04T03:00:00+11:00", "2026-10-05T02:30:00+11:00"}},
	{"Sydney spring, wildcard", "Australia/Sydney", "*/30 * * * *", "2026-10-04T01:15:00+10:00",
		[]string{"2026-10-04T01:30:00+10:00", "2026-10-04T03:00:00+11:00"}},
	// Lord Howe shifts by 30 minutes.
	{"Lord Howe fall, fixed", "Australia/Lord_Howe", "45 1 * * *", "2026-04-04T12:00:00+11:00",
		[]string{"2026-04-05T01:45:00+11:00", "2026-04-06T01:45:00+10:30"}},
	{"Lord Howe fall, wildcard", "Australia/Lord_Howe", "*/15 * * * *", "2026-04-05T01:40:00+11:00",
		[]string{"2026-04-05T01:45:00+11:00", "2026-04-05T01:30:00+10:30", "2026-04-05T01:45:00+10:30", "2026-04-05T02:00:00+10:30"}},
	{"Lord Howe spring, fixed", "Australia/Lord_Howe", "15 2 * * *", "2026-10-03T12:00:00+10:30",
		[]string{"2026-10-04T02:30:00+11:00", "2026-10-05T02:15:00+11:00"}},
	{"Lord Howe spring, skipped and existing times make one tick", "Australia/Lord_Howe", "15,30 2 * * *", "2026-10-03T12:00:00+10:30",
		[]string{"2026-10-04T02:30:00+11:00", "2026-10-05T02:15:00+11:00"}},
	{"Lord Howe spring, wildcard", "Australia/Lord_Howe", "*/15 * * * *", "2026-10-04T01:40:00+10:30",
		[]string{"2026-10-04T01:45:00+10:30", "2026-10-04T02:30:00+11:00", "2026-10-04T02:45:00+11:00"}},
}

func TestDaylightSavingRule(t *testing.T) {
	for _, c := range daylightCases {
		t.Run(c.zone+"/"+c.name, func(t *testing.T) {
			s, err := Parse("CRON_TZ="+c.zone+" "+c.spec, "job")
			if err != nil {
				t.Fatal(err)
			}
			at := mustTime(t, c.from)
			var got []string
			for range c.want {
				at = s.Next(at)
				got = append(got, at.In(mustZone(t, c.zone)).Format(time.RFC3339))
			}
			if strings.Join(got, " ") != strings.Join(c.want, " ") {
				t.Errorf("%s from %s:\n got  %v\n want %v", c.spec, c.from, got, c.want)
			}
		})
	}
}

var ruleZones = []string{"America/New_York", "Europe/Berlin", "Australia/Sydney", "Australia/Lord_Howe"}

// Over a whole year, through both changes of each zone: ticks strictly
// increase, a fixed-time spec never ticks twice in one wall-clock minute,
// and a daily one ticks exactly once every day.
func TestFixedTimeTicksOncePerWallTimeAllYear(t *testing.T) {
	daily := map[string]bool{"30 2 * * *": true, "30 1 * * *": true, "0 2 * * *": true, "45 1 * * *": true,
		"15 2 * * *": true, "59 2 * * *": true, "0 3 * * *": true, "@daily": true, "H(0-59) H(1-2) * * *": true}
	others := []string{"0,30 1,2,3 * * *", "0 1-3 * * *", "0-59/7 2 * * *", "5 0-23/2 * * *", "H(0-29)/10 1-3 * * *"}
	specs := others
	for spec := range daily {
		specs = append(specs, spec)
	}
	for _, zone := range ruleZones {
		loc := mustZone(t, zone)
		for _, spec := range specs {
			s, err := Parse("CRON_TZ="+zone+" "+spec, "job")
			if err != nil {
				t.Fatal(err)
			}
			if !s.(*cronSchedule).fixedTime {
				t.Fatalf("%q is not fixed-time", spec)
			}
			start, end := time.Date(2026, 1, 1, 0, 0, 0, 0, loc), time.Date(2027, 1, 1, 0, 0, 0, 0, loc)
			minutes, days := map[string]bool{}, map[string]int{}
			prev := start.Add(-time.Nanosecond)
			for tick := s.Next(prev); tick.Before(end); tick = s.Next(tick) {
				if !tick.After(prev) {
					t.Fatalf("%s %s: tick %v after %v", zone, spec, tick, prev)
				}
				wall := tick.In(loc).Format("2006-01-02 15:04")
				if minutes[wall] {
					t.Errorf("%s %s: two ticks at %s", zone, spec, wall)
				}
				minutes[wall] = true
				days[wall[:10]]++
				prev = tick
			}
			if !daily[spec] {
				continue
			}
			for d := start; d.Before(end); d = d.AddDate(0, 0, 1) {
				if n := days[d.Format("2006-01-02")]; n != 1 {
					t.Errorf("%s %s: %d ticks on %s, want 1", zone, spec, n, d.Format("2006-01-02"))
				}
			}
		}
	}
}

// A wildcard spec follows real time: */30 ticks every 30 minutes of real
// time all year, through both changes, in every zone (Lord Howe's shift is
// 30 minutes too).
func TestWildcardFollowsRealTimeAllYear(t *testing.T) {
	for _, zone := range ruleZones {
		loc := mustZone(t, zone)
		s, err := Parse("CRON_TZ="+zone+" */30 * * * *", "job")
		if err != nil {
			t.Fatal(err)
		}
		end := time.Date(2027, 1, 1, 0, 0, 0, 0, loc)
		prev := s.Next(time.Date(2026, 1, 1, 0, 0, 0, 0, loc).Add(-time.Nanosecond))
		n := 1
		for tick := s.Next(prev); tick.Before(end); tick = s.Next(tick) {
			if d := tick.Sub(prev); d != 30*time.Minute {
				t.Fatalf("%s: %v after %v, want 30m", zone, d, prev.In(loc))
			}
			prev = tick
			n++
		}
		if want := int(end.Sub(time.Date(2026, 1, 1, 0, 0, 0, 0, loc)) / (30 * time.Minute)); n != want {
			t.Errorf("%s: %d ticks in 2026, want %d", zone, n, want)
		}
	}
}

// Where the offset never changes, the rule changes nothing: the ticks are
// robfig/cron's own.
func TestWithoutChangesTicksAreRobfigs(t *testing.T) {
	robfig := cron.NewParser(cron.SecondOptional | cron.Minute | cron.Hour |
		cron.Dom | cron.Month | cron.Dow | cron.Descriptor)
	rng := rand.New(rand.NewPCG(1, 2))
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, zone := range []string{"UTC", "Asia/Tokyo", "Asia/Kolkata"} {
		for _, spec := range []string{"30 2 * * *", "*/30 * * * *", "*/7 3 * * * *", "0 0 * * mon-fri",
			"0 9-17 1,15 * *", "@daily", "@hourly", "@weekly", "0 0 1 */3 *"} {
			full := "CRON_TZ=" + zone + " " + spec
			want, err := robfig.Parse(full)
			if err != nil {
				t.Fatal(err)
			}
			got, err := Parse(full, "job")
			if err != nil {
				t.Fatal(err)
			}
			for range 200 {
				at := base.Add(time.Duration(rng.Int64N(int64(365 * 24 * time.Hour))))
				if g, w := got.Next(at), want.Next(at); !g.Equal(w) {
					t.Errorf("%s: Next(%v) = %v, robfig %v", full, at, g, w)
				}
			}
		}
	}
}

func mustZone(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func mustTime(t *testing.T, text string) time.Time {
	t.Helper()
	at, err := time.Parse(time.RFC3339, text)
	if err != nil {
		t.Fatal(err)
	}
	return at
}
