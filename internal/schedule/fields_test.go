package schedule

import (
	"errors"
	"testing"

	"github.com/robfig/cron/v3"
)

// The field parser is this package's own (for its errors and H), and must
// read every spec robfig/cron reads into the same bit sets, so that a spec
// that ran before runs on the same ticks.
func TestFieldsReadAsRobfigReadsThem(t *testing.T) {
	robfig := cron.NewParser(cron.SecondOptional | cron.Minute | cron.Hour |
		cron.Dom | cron.Month | cron.Dow | cron.Descriptor)
	for _, spec := range []string{
		"* * * * *", "? ? ? ? ?", "*/1 * * * *", "*/15 * * * * *", "0 * * * *",
		"5/15 1-5 * * *", "0 0 1,15 * *", "0 0 * * mon-fri", "0 0 * * MON-Fri",
		"0 0 * jan,JUL *", "0-59/7 0-23/5 1-31/3 */2 */3", "59 23 31 12 6",
		"0 0 * * sun", "1,2,3-9/3,40-50 * * * *", "7 7 7 7 * 6", "0 0 12 ? * wed",
		"3-3 3-3/1 * * *", "0 0 */40 * *", "30 4 1-7 * 1",
		"@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly",
	} {
		want, err := robfig.Parse(spec)
		if err != nil {
			t.Fatalf("robfig cannot read %q: %v", spec, err)
		}
		got, err := Parse(spec, "job")
		if err != nil {
			t.Errorf("Parse(%q): %v", spec, err)
			continue
		}
		w, g := want.(*cron.SpecSchedule), got.(*cronSchedule).spec
		if w.Second != g.Second || w.Minute != g.Minute || w.Hour != g.Hour ||
			w.Dom != g.Dom || w.Month != g.Month || w.Dow != g.Dow {
			t.Errorf("Parse(%q) = %+v, robfig reads %+v", spec, g, *w)
		}
	}
}

// Vixie cron's split (cron.c, entry.c): a wildcard has * in its minute or
// hour field; here also ?, H/n, any list item, and the second field.
func TestWhichSpecsAreFixedTime(t *testing.T) {
	for spec, fixed := range map[string]bool{
		"30 2 * * *":         true,
		"0 3 * * *":          true,
		"0 9-17 * * 1-5":     true,
		"0 0-22/2 * * *":     true,
		"0 3 */2 * *":        true, // the day fields do not count
		"0 30 2 * * *":       true,
		"H(0-29) 3 * * *":    true,
		"H(0-29)/15 3 * * *": true,
		"H H * * *":          true,
		"@daily":             true,
		"@midnight":          true,
		"@weekly":            true,
		"@monthly":           true,
		"@yearly":            true,
		"*/30 * * * *":       false,
		"30 * * * *":         false,
		"* 2 * * *":          false,
		"? 2 * * *":          false,
		"0 */2 * * *":        false,
		"0 1,*/5 * * *":      false,
		"*/10 30 2 * * *":    false,
		"H * * * *":          false,
		"H/15 3 * * *":       false,
		"@hourly":            false,
	} {
		s, err := Parse(spec, "job")
		if err != nil {
			t.Errorf("Parse(%q): %v", spec, err)
			continue
		}
		if got := s.(*cronSchedule).fixedTime; got != fixed {
			t.Errorf("Parse(%q): fixed time %v, want %v", spec, got, fixed)
		}
	}
}

func TestParseErrorsNameTheFieldAndValue(t *testing.T) {
	for _, c := range []struct{ spec, job, want string }{
		{"", "j", "empty schedule"},
		{"   ", "j", "empty schedule"},
		{"every tuesday-ish", "j", `"every tuesday-ish": want 5 fields (minute hour day-of-month month day-of-week) or 6 (second first), found 2`},
		{"* * *", "j", `"* * *": want 5 fields (minute hour day-of-month month day-of-week) or 6 (second first), found 3`},
		{"0 0 0 0 0 0 0", "j", `"0 0 0 0 0 0 0": want 5 fields (minute hour day-of-month month day-of-week) or 6 (second first), found 7`},
		{"61 * * * *", "j", `minute field "61": 61 is above the maximum 59`},
		{"0 24 * * *", "j", `hour field "24": 24 is above the maximum 23`},
		{"0 0 0 * *", "j", `day-of-month field "0": 0 is below the minimum 1`},
		{"0 0 * foo *", "j", `month field "foo": "foo" is neither a number nor a name`},
		{"0 0 * * 7", "j", `day-of-week field "7": 7 is above the maximum 6`},
		{"x * * * * *", "j", `second field "x": "x" is not a number`},
		{"5,,6 * * * *", "j", `minute field "5,,6": an empty item in the list`},
		{"1/2/3 * * * *", "j", `minute field "1/2/3": more than one /`},
		{"*/0 * * * *", "j", `minute field "*/0": the step must be at least 1`},
		{"*/x * * * *", "j", `minute field "*/x": step "x" is not a number`},
		{"30-10 * * * *", "j", `minute field "30-10": the range 30-10 starts after it ends`},
		{"H(40-20) * * * *", "j", `minute field "H(40-20)": the range 40-20 starts after it ends`},
		{"H/0 * * * *", "j", `minute field "H/0": the step must be at least 1`},
		{"5,H/0 * * * *", "j", `minute field "5,H/0": H/0: the step must be at least 1`},
		{"0 H/25 * * *", "j", `hour field "H/25": the step 25 is longer than the range 0-23`},
		{"H(0-9)/11 * * * *", "j", `minute field "H(0-9)/11": the step 11 is longer than the range 0-9`},
		{"H(0-29 * * * *", "j", `minute field "H(0-29": want H, H(a-b), H/n or H(a-b)/n`},
		{"H(5) * * * *", "j", `minute field "H(5)": want H, H(a-b), H/n or H(a-b)/n`},
		{"Hx * * * *", "j", `minute field "Hx": want H, H(a-b), H/n or H(a-b)/n`},
		{"0 0 H(1-32) * *", "j", `day-of-month field "H(1-32)": 32 is above the maximum 31`},
		{"0 0 * * H(mon-xyz)", "j", `day-of-week field "H(mon-xyz)": "xyz" is neither a number nor a name`},
		{"H * * * *", "", `minute field "H": H needs the job's name, which it spreads on`},
		{"CRON_TZ=Nowhere/Land * * * * *", "j", "CRON_TZ=Nowhere/Land: unknown time zone (want an IANA name such as America/New_York)"},
		{"CRON_TZ=Europe/Pariss 0 3 * * *", "j", "CRON_TZ=Europe/Pariss: unknown time zone (want an IANA name such as America/New_York)"},
		{"0 3 * *", "j", `"0 3 * *": want 5 fields (minute hour day-of-month month day-of-week) or 6 (second first), found 4`},
		{"TZ=Nowhere/Land * * * * *", "j", "TZ=Nowhere/Land: unknown time zone (want an IANA name such as America/New_York)"},
		{"CRON_TZ= * * * * *", "j", "CRON_TZ=: no time zone named"},
		{"CRON_TZ=UTC", "j", "CRON_TZ=UTC: no schedule after the time zone"},
		{"CRON_TZ=UTC @every 1m", "j", `"CRON_TZ=UTC @every 1m": @every takes no time zone (it ticks at multiples of its interval since the Unix epoch)`},
		{"@reboot", "j", `"@reboot": unknown descriptor (want @yearly, @annually, @monthly, @weekly, @daily, @midnight, @hourly or @every D)`},
		{"@every", "j", "@every: no interval (want e.g. @every 30s)"},
		{"@every soon", "j", "@every soon: not a duration (want e.g. 30s, 5m, 1h30m)"},
		{"@every 0s", "j", "@every 0s: the interval must be a whole number of milliseconds, at least 10ms"},
		{"@every -1s", "j", "@every -1s: the interval must be a whole number of milliseconds, at least 10ms"},
		{"@every 1500us", "j", "@every 1500us: the interval must be a whole number of milliseconds, at least 10ms"},
	} {
		_, err := Parse(c.spec, c.job)
		if err == nil {
			t.Errorf("Parse(%q) succeeded, want %q", c.spec, c.want)
			continue
		}
		if err.Error() != c.want {
			t.Errorf("Parse(%q) = %q\n                    want %q", c.spec, err, c.want)
		}
		if !errors.Is(err, ErrInvalid) {
			t.Errorf("Parse(%q) = %v: does not wrap ErrInvalid", c.spec, err)
		}
	}
}

func TestFieldErrorCarriesFieldAndValue(t *testing.T) {
	_, err := Parse("0 H(40-20) * * *", "j")
	var fe *FieldError
	if !errors.As(err, &fe) || fe.Field != "hour" || fe.Value != "H(40-20)" {
		t.Fatalf("Parse error = %#v, want a FieldError on hour H(40-20)", err)
	}
}
