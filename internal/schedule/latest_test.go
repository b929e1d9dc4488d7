package schedule

import (
	"math/rand/v2"
	"testing"
	"time"
)

// onlyNext hides a Schedule's type, so that Latest takes its general path.
type onlyNext struct {
	s     Schedule
	calls *int
}

func (o onlyNext) Next(t time.Time) time.Time {
	*o.calls++
	return o.s.Next(t)
}

func TestLatestIsTheTickAtOrBefore(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, spec := range []string{
		"*/15 * * * * *", "30 2 * * *", "@hourly", "0 0 1 */3 *",
		"* * * * * 0",  // every second of Sundays: 86,400 ticks, then six days without
		"0 0 29 2 *",   // leap days: four years apart
		"@every 1m30s", // by its own arithmetic and by the general path
		"CRON_TZ=America/New_York 30 2 * * *", "CRON_TZ=America/New_York 30 1 * * *",
		"CRON_TZ=America/New_York */30 * * * *", "CRON_TZ=Australia/Lord_Howe */15 * * * *",
	} {
		s, err := Parse(spec, "job")
		if err != nil {
			t.Fatal(err)
		}
		maxCalls := 0
		for i := range 300 {
			at := base.Add(time.Duration(rng.Int64N(int64(365 * 24 * time.Hour))))
			if i%3 == 0 { // on a tick, to the nanosecond
				at = s.Next(at)
			}
			calls := 0
			for _, sched := range []Schedule{s, onlyNext{s, &calls}} {
				p, ok := Latest(sched, at)
				if !ok || p.After(at) || !s.Next(p.Add(-time.Nanosecond)).Equal(p) || !s.Next(p).After(at) {
					t.Fatalf("%s: Latest(%v) = %v, %v: not the last tick at or before", spec, at, p, ok)
				}
			}
			maxCalls = max(maxCalls, calls)
		}
		if maxCalls > 150 {
			t.Errorf("%s: Latest called Next %d times", spec, maxCalls)
		}
	}
}

func TestLatestAcrossAFallBack(t *testing.T) {
	s, err := Parse("CRON_TZ=America/New_York */30 * * * *", "job")
	if err != nil {
		t.Fatal(err)
	}
	// 01:10 EST comes an hour after 01:10 EDT; its latest tick is 01:00 EST.
	p, ok := Latest(s, mustTime(t, "2026-11-01T01:10:00-05:00"))
	if want := mustTime(t, "2026-11-01T01:00:00-05:00"); !ok || !p.Equal(want) {
		t.Errorf("Latest = %v, %v, want %v", p, ok, want)
	}
}

func TestLatestWithoutTicks(t *testing.T) {
	s, err := Parse("0 0 30 2 *", "job")
	if err != nil {
		t.Fatal(err)
	}
	if p, ok := Latest(s, time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)); ok {
		t.Errorf("Latest of a schedule that never ticks = %v", p)
	}
	if d, ok := Interval(s, time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)); ok {
		t.Errorf("Interval of a schedule that never ticks = %v", d)
	}
}

func TestInterval(t *testing.T) {
	for _, c := range []struct {
		spec, at string
		want     time.Duration
	}{
		{"0 * * * *", "2026-03-04T10:20:00Z", time.Hour},
		{"0 * * * *", "2026-03-04T10:00:00Z", time.Hour}, // on a tick
		{"@every 90s", "2026-03-04T10:20:00Z", 90 * time.Second},
		{"0 0 29 2 *", "2026-06-01T00:00:00Z", (4*365 + 1) * 24 * time.Hour}, // 2024-02-29 to 2028-02-29
		// Across the spring change: 02:30 EST to 03:00 EDT, then 03:00 to 02:30 EDT.
		{"CRON_TZ=America/New_York 30 2 * * *", "2026-03-07T12:00:00-05:00", 23*time.Hour + 30*time.Minute},
		{"CRON_TZ=America/New_York 30 2 * * *", "2026-03-08T12:00:00-04:00", 23*time.Hour + 30*time.Minute},
		// Across the fall change: 01:30 EDT to 01:30 EST.
		{"CRON_TZ=America/New_York 30 1 * * *", "2026-11-01T12:00:00-05:00", 25 * time.Hour},
		{"CRON_TZ=America/New_York */30 * * * *", "2026-11-01T01:40:00-04:00", 30 * time.Minute},
	} {
		s, err := Parse(c.spec, "job")
		if err != nil {
			t.Fatal(err)
		}
		if d, ok := Interval(s, mustTime(t, c.at)); !ok || d != c.want {
			t.Errorf("Interval(%s, %s) = %v, %v, want %v", c.spec, c.at, d, ok, c.want)
		}
	}
}

func BenchmarkNext(b *testing.B) {
	for _, spec := range []string{"30 2 * * *", "CRON_TZ=America/New_York 30 2 * * *", "CRON_TZ=America/New_York */30 * * * *"} {
		s, err := Parse(spec, "job")
		if err != nil {
			b.Fatal(err)
		}
		b.Run(spec, func(b *testing.B) {
			at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
			for b.Loop() {
				at = s.Next(at)
			}
		})
	}
}

func BenchmarkLatest(b *testing.B) {
	s, err := Parse("CRON_TZ=America/New_York 30 2 * * *", "job")
	if err != nil {
		b.Fatal(err)
	}
	at := time.Date(2026, 3, 8, 12, 0, 0, 0, time.UTC)
	for b.Loop() {
		if _, ok := Latest(s, at); !ok {
			b.Fatal("no latest tick")
		}
	}
}
