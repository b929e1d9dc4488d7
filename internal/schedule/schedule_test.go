package schedule

import (
	"testing"
	"time"
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
}

func TestParseScheduleForms(t *testing.T) {
	from := time.Date(2026, 3, 4, 10, 20, 30, 0, time.UTC)
	for spec, want := range map[string]time.Time{
		"*/15 * * * * *":               time.Date(2026, 3, 4, 10, 20, 45, 0, time.UTC),
		"0 * * * *":                    time.Date(2026, 3, 4, 11, 0, 0, 0, time.UTC),
		"@hourly":                      time.Date(2026, 3, 4, 11, 0, 0, 0, time.UTC),
		"CRON_TZ=Asia/Tokyo 0 0 * * *": time.Date(2026, 3, 4, 15, 0, 0, 0, time.UTC),
		"@every 1m":                    time.Date(2026, 3, 4, 10, 21, 0, 0, time.UTC),
		"@every 250ms":                 time.Date(2026, 3, 4, 10, 20, 30, 250e6, time.UTC),
	} {
		s, err := Parse(spec, "job")
		if err != nil {
			t.Errorf("ParseSchedule(%q): %v", spec, err)
			continue
		}
		if got := s.Next(from); !got.Equal(want) {
			t.Errorf("ParseSchedule(%q).Next = %v, want %v", spec, got.UTC(), want)
		}
	}
}

func TestParseScheduleRejects(t *testing.T) {
	for _, spec := range []string{"", "every tuesday-ish", "@every", "@every 0s", "@every -1s", "@every 1500us", "* * *", "61 * * * *", "CRON_TZ=Nowhere/Land * * * * *"} {
		if _, err := Parse(spec, "job"); err == nil {
			t.Errorf("ParseSchedule(%q) succeeded, want an error", spec)
		}
	}
}
