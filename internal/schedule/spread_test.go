package schedule

import (
	"fmt"
	"math"
	"math/bits"
	"strings"
	"testing"
	"time"
)

// Replicas of different versions must agree on H, so its values are pinned
// here, computed outside Go:
//
//	printf 'minute:backup' | sha256sum   → 3daf5e91efafb2ca...  % 60 = 54, % 30 = 24, % 15 = 9, % 10 = 4
//	printf 'hour:backup'   | sha256sum   → 0a01daa3219822a1...  % 24 = 1
//	printf 'second:backup' | sha256sum   → e2c692f53bc278eb...  % 60 = 43
func TestSpreadIsPinned(t *testing.T) {
	for field, want := range map[string]uint64{
		"minute": 0x3daf5e91efafb2ca, "hour": 0x0a01daa3219822a1, "second": 0xe2c692f53bc278eb,
	} {
		if got := SpreadHash("backup", field); got != want {
			t.Errorf("SpreadHash(backup, %s) = %#x, want %#x", field, got, want)
		}
	}
	from := time.Date(2026, 3, 4, 0, 0, 0, 0, time.UTC)
	for spec, want := range map[string][]string{
		"H H * * *":                {"01:54:00", "01:54:00"}, // the next day
		"H H H * * *":              {"01:54:43", "01:54:43"},
		"H/15 * * * *":             {"00:09:00", "00:24:00", "00:39:00", "00:54:00", "01:09:00"},
		"H(0-29) 3 * * *":          {"03:24:00"},
		"H(30-59)/10 * * * *":      {"00:34:00", "00:44:00", "00:54:00", "01:34:00"},
		"H(0-29),H(30-59) * * * *": {"00:24:00", "00:54:00", "01:24:00"},
	} {
		s, err := Parse(spec, "backup")
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		at := from
		for range want {
			at = s.Next(at)
			got = append(got, at.Format(time.TimeOnly))
		}
		if strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("%s for backup: ticks %v, want %v", spec, got, want)
		}
	}
}

// Each H form stays in its range for any job name.
func TestSpreadFormsStayInTheirRanges(t *testing.T) {
	for i := range 500 {
		job := fmt.Sprintf("job-%03d", i)
		for _, c := range []struct {
			spec  string
			bits  func(*cronSchedule) uint64
			check func(values []uint) bool
		}{
			{"H * * * *", minuteBits, func(v []uint) bool { return len(v) == 1 && v[0] <= 59 }},
			{"H(0-29) 3 * * *", minuteBits, func(v []uint) bool { return len(v) == 1 && v[0] <= 29 }},
			{"H/15 * * * *", minuteBits, func(v []uint) bool { return stepped(v, 15, 4) && v[0] < 15 }},
			{"H(30-59)/10 * * * *", minuteBits, func(v []uint) bool { return stepped(v, 10, 3) && v[0] >= 30 && v[0] < 40 }},
			{"0 H/5 * * *", hourBits, func(v []uint) bool { return stepped(v, 5, 0) && v[0] < 5 && v[len(v)-1] > 18 }},
			{"H * * * * *", secondBits, func(v []uint) bool { return len(v) == 1 && v[0] <= 59 }},
			{"0 0 H * *", domBits, func(v []uint) bool { return len(v) == 1 && v[0] >= 1 && v[0] <= 28 }},
			{"0 0 1 H *", monthBits, func(v []uint) bool { return len(v) == 1 && v[0] >= 1 && v[0] <= 12 }},
			{"0 0 * * H(mon-fri)", dowBits, func(v []uint) bool { return len(v) == 1 && v[0] >= 1 && v[0] <= 5 }},
		} {
			s, err := Parse(c.spec, job)
			if err != nil {
				t.Fatal(err)
			}
			if v := values(c.bits(s.(*cronSchedule))); !c.check(v) {
				t.Fatalf("%s for %s: values %v", c.spec, job, v)
			}
		}
	}
}

// Each field hashes apart: with one hash for all, "H H * * *" would tie the
// hour to the minute (both from the hash modulo 120: at most 120 pairs).
// 1,000 independent draws over 1,440 (minute, hour) pairs give about
// 1440*(1-exp(-1000/1440)) = 721 distinct pairs.
func TestSpreadFieldsAreIndependent(t *testing.T) {
	pairs := map[[2]uint]bool{}
	for i := range 1000 {
		s, err := Parse("H H * * *", fmt.Sprintf("job-%03d", i))
		if err != nil {
			t.Fatal(err)
		}
		c := s.(*cronSchedule)
		pairs[[2]uint{values(c.spec.Minute)[0], values(c.spec.Hour)[0]}] = true
	}
	if len(pairs) < 600 {
		t.Errorf("%d distinct (minute, hour) pairs for 1000 jobs, want about 721", len(pairs))
	}
}

// 1,000 jobs "H * * * *" spread over the 60 minutes as uniform draws would:
// every minute used, and a chi-square statistic below its 0.999 quantile.
func TestThousandHourlyJobsSpreadUniformly(t *testing.T) {
	counts := minuteSpread(1000)
	expected := 1000.0 / 60
	chi2 := 0.0
	for minute, n := range counts {
		if n == 0 {
			t.Errorf("no job at minute %d", minute)
		}
		chi2 += (float64(n) - expected) * (float64(n) - expected) / expected
	}
	if limit := chiSquareQuantile999(59); chi2 > limit {
		t.Errorf("chi-square %.1f over 60 minutes, above the 0.999 quantile %.1f: %v", chi2, limit, counts)
	}
}

// minuteSpread counts the minute of each of n jobs "H * * * *".
func minuteSpread(n int) []int {
	counts := make([]int, 60)
	for i := range n {
		s, err := Parse("H * * * *", fmt.Sprintf("job-%03d", i))
		if err != nil {
			panic(err)
		}
		counts[values(s.(*cronSchedule).spec.Minute)[0]]++
	}
	return counts
}

// The spread of 1,000 jobs written "H * * * *" (named job-000 to job-999),
// as the README shows it: jobs starting in each 5 minutes of the hour, one
// █ for 4 jobs; then the same jobs written "H H * * * *", spread over the
// seconds too. @hourly would start all 1,000 in the same second.
func Example_spread() {
	counts := minuteSpread(1000)
	low, high := 1000, 0
	for m := 0; m < 60; m += 5 {
		n := 0
		for _, c := range counts[m : m+5] {
			n += c
			low, high = min(low, c), max(high, c)
		}
		fmt.Printf(":%02d-:%02d %4d %s\n", m, m+4, n, strings.Repeat("█", (n+2)/4))
	}
	fmt.Printf("H * * * *: %d to %d jobs a minute (1000/60 = 16.7), all at second 0\n", low, high)
	seconds := map[[2]uint]int{}
	busiest := 0
	for i := range 1000 {
		s, err := Parse("H H * * * *", fmt.Sprintf("job-%03d", i))
		if err != nil {
			panic(err)
		}
		c := s.(*cronSchedule)
		at := [2]uint{values(c.spec.Minute)[0], values(c.spec.Second)[0]}
		seconds[at]++
		busiest = max(busiest, seconds[at])
	}
	fmt.Printf("H H * * * *: %d of the 3600 seconds used, at most %d jobs in one\n", len(seconds), busiest)
	// Output:
	// :00-:04   82 █████████████████████
	// :05-:09   86 ██████████████████████
	// :10-:14  100 █████████████████████████
	// :15-:19   75 ███████████████████
	// :20-:24   83 █████████████████████
	// :25-:29   79 ████████████████████
	// :30-:34   92 ███████████████████████
	// :35-:39   84 █████████████████████
	// :40-:44   83 █████████████████████
	// :45-:49   92 ███████████████████████
	// :50-:54   78 ████████████████████
	// :55-:59   66 █████████████████
	// H * * * *: 8 to 28 jobs a minute (1000/60 = 16.7), all at second 0
	// H H * * * *: 877 of the 3600 seconds used, at most 4 jobs in one
}

// chiSquareQuantile999 is the 0.999 quantile of the chi-square law with k
// degrees of freedom, by the Wilson-Hilferty approximation (within 0.5% for
// k above 30).
func chiSquareQuantile999(k float64) float64 {
	const z = 3.090232 // the standard normal's 0.999 quantile
	v := 2 / (9 * k)
	return k * math.Pow(1-v+z*math.Sqrt(v), 3)
}

func values(set uint64) []uint {
	var v []uint
	for set &^= starBit; set != 0; set &= set - 1 {
		v = append(v, uint(bits.TrailingZeros64(set)))
	}
	return v
}

// stepped says the values are step apart (and, if n > 0, n of them).
func stepped(v []uint, step uint, n int) bool {
	if len(v) == 0 || (n > 0 && len(v) != n) {
		return false
	}
	for i := 1; i < len(v); i++ {
		if v[i]-v[i-1] != step {
			return false
		}
	}
	return true
}

func secondBits(c *cronSchedule) uint64 { return c.spec.Second }
func minuteBits(c *cronSchedule) uint64 { return c.spec.Minute }
func hourBits(c *cronSchedule) uint64   { return c.spec.Hour }
func domBits(c *cronSchedule) uint64    { return c.spec.Dom }
func monthBits(c *cronSchedule) uint64  { return c.spec.Month }
func dowBits(c *cronSchedule) uint64    { return c.spec.Dow }
