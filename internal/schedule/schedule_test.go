package schedule

import (
	"testing"
	"time"
	_ "time/tzdata" // the tests' zones, whatever the machine has
)

func TestEveryIsAlignedToTheEpoch(t *testing.T) {
	s, err := Parse("@every 10s", "job")
	if err != nil {
		t.Fatal(err)
	}
	// Two nodes started at different moments agree on the tick.
	a := s.Next(time.Date(2026, 1, 1, 12, 0, 3, 0, time.UTC))
	b := s.Next(time.Date(2026, 1, 1, 12, 0, 9, 999, time.UTC))
	want := time.Date(2026, 1, 1, 12, 0, 10, 0, time.UTC)
	if !a.Equal(want) || !b.Equal(want) {
		t.Fatalf("Next = %v and %v, want %v for both", a, b, want)
	}
	if got := s.Next(want); !got.Equal(want.Add(10 * time.Second)) {
		t.Fatalf("Next(a tick) = %v, want the following tick", got)
	}
	if got := s.Next(time.Unix(-5, 0)); !got.Equal(time.Unix(0, 0)) {
		t.Fatalf("Next(5s before the epoch) = %v, want the epoch", got)
	}
}

func TestParseForms(t *testing.T) {
	from := time.Date(2026, 3, 4, 10, 20, 30, 0, time.UTC) // a Wednesday
	for spec, want := range map[string]time.Time{
		"*/15 * * * * *":                  time.Date(2026, 3, 4, 10, 20, 45, 0, time.UTC),
		"0 * * * *":                       time.Date(2026, 3, 4, 11, 0, 0, 0, time.UTC),
		"  0 * * * *  ":                   time.Date(2026, 3, 4, 11, 0, 0, 0, time.UTC),
		"5/20 * * * *":                    time.Date(2026, 3, 4, 10, 25, 0, 0, time.UTC),
		"0 0 * * mon-fri":                 time.Date(2026, 3, 5, 0, 0, 0, 0, time.UTC),
		"0 0 1 jul ?":                     time.Date(2026, 7, 1, 0, 0, 0, 0, time.UTC),
		"0 0 1,15 * fri":                  time.Date(2026, 3, 6, 0, 0, 0, 0, time.UTC), // either day field
		"@hourly":                         time.Date(2026, 3, 4, 11, 0, 0, 0, time.UTC),
		"@daily":                          time.Date(2026, 3, 5, 0, 0, 0, 0, time.UTC),
		"@midnight":                       time.Date(2026, 3, 5, 0, 0, 0, 0, time.UTC),
		"@weekly":                         time.Date(2026, 3, 8, 0, 0, 0, 0, time.UTC),
		"@monthly":                        time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC),
		"@yearly":                         time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC),
		"@annually":                       time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC),
		"CRON_TZ=Asia/Tokyo 0 0 * * *":    time.Date(2026, 3, 4, 15, 0, 0, 0, time.UTC),
		"TZ=Asia/Tokyo 0 0 * * *":         time.Date(2026, 3, 4, 15, 0, 0, 0, time.UTC),
		"CRON_TZ=Asia/Tokyo   @daily":     time.Date(2026, 3, 4, 15, 0, 0, 0, time.UTC),
		"CRON_TZ=Europe/Paris 0 12 * * *": time.Date(2026, 3, 4, 11, 0, 0, 0, time.UTC),
		"@every 1m":                       time.Date(2026, 3, 4, 10, 21, 0, 0, time.UTC),
		"@every 250ms":                    time.Date(2026, 3, 4, 10, 20, 30, 250e6, time.UTC),
		"0 0 30 2 *":                      {}, // never: the zero time
	} {
		s, err := Parse(spec, "job")
		if err != nil {
			t.Errorf("Parse(%q): %v", spec, err)
			continue
		}
		got := s.Next(from)
		if !got.Equal(want) {
			t.Errorf("Parse(%q).Next = %v, want %v", spec, got, want)
		}
		if got.Location() != time.UTC {
			t.Errorf("Parse(%q).Next = %v: not in UTC", spec, got)
		}
	}
}

func TestNoZoneIsUTCWhateverTheCallersZone(t *testing.T) {
	s, err := Parse("0 12 * * *", "job")
	if err != nil {
		t.Fatal(err)
	}
	tokyo, err := time.LoadLocation("Asia/Tokyo")
	if err != nil {
		t.Fatal(err)
	}
	from := time.Date(2026, 3, 4, 10, 0, 0, 0, time.UTC)
	want := time.Date(2026, 3, 4, 12, 0, 0, 0, time.UTC)
	for _, f := range []time.Time{from, from.In(tokyo), from.Local()} {
		if got := s.Next(f); !got.Equal(want) {
			t.Errorf("Next(%v) = %v, want %v", f, got, want)
		}
	}
}

func TestNextIsStrictlyAfterAndOnWholeSeconds(t *testing.T) {
	s, err := Parse("*/15 * * * * *", "job")
	if err != nil {
		t.Fatal(err)
	}
	tick := time.Date(2026, 3, 4, 10, 20, 30, 0, time.UTC)
	for _, c := range []struct {
		from, want time.Time
	}{
		{tick.Add(-time.Nanosecond), tick},
		{tick, tick.Add(15 * time.Second)},
		{tick.Add(time.Nanosecond), tick.Add(15 * time.Second)},
		{tick.Add(-14500 * time.Millisecond), tick},
	} {
		if got := s.Next(c.from); !got.Equal(c.want) {
			t.Errorf("Next(%v) = %v, want %v", c.from, got, c.want)
		}
	}
}
