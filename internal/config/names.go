package config

import (
	"fmt"
	"sort"
	"strings"

	"go-leader-election/internal/envconfig"
)

// perJob lists the variables each job has, as functions of its name.
var perJob = []func(job string) string{ScheduleVar}

// Misspelt returns an error for the first variable of environ (in
// os.Environ's form, "NAME=value") that is a near miss of a per-job variable
// of one of jobs, such as GO_PREACHR_SCHEDULE for job go_preacher: a
// variable the daemon would otherwise ignore in silence. A near miss differs
// from the variable, upper-cased, by at most 2 edits (insertions, deletions,
// substitutions or swaps of two neighbours), 1 for jobs named with fewer than
// 8 characters and 0 for fewer than 4, so that short names do not catch
// other programs' variables; a variable differing only in case is a near
// miss too. Variables that are exactly some job's are never near misses.
// Everything else is left alone: other programs share the environment.
func Misspelt(environ []string, jobs []string) error {
	exact := map[string]bool{}
	for _, j := range jobs {
		for _, v := range perJob {
			exact[v(j)] = true
		}
	}
	kvs := append([]string(nil), environ...)
	sort.Strings(kvs)
	for _, kv := range kvs {
		name, value, _ := strings.Cut(kv, "=")
		if name == "" || exact[name] {
			continue
		}
		upper := strings.ToUpper(name)
		for _, j := range jobs {
			limit := min(2, len(j)/4)
			for _, v := range perJob {
				want := v(j)
				if abs(len(upper)-len(want)) > limit || distance(upper, want, limit) > limit {
					continue
				}
				return fmt.Errorf("%s=%s: no job has this variable; did you mean %s (job %s)?", name, envconfig.Quote(value), want, j)
			}
		}
	}
	return nil
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}

// distance is the optimal-string-alignment edit distance between a and b
// (insertions, deletions, substitutions and swaps of neighbours), or limit+1
// once it is sure to exceed limit.
func distance(a, b string, limit int) int {
	prev2 := make([]int, len(b)+1)
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		best := cur[0]
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
			best = min(best, cur[j])
		}
		if best > limit {
			return limit + 1
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(b)]
}

// Variables lists the variables Load reads, in the order it reads them,
// and the per-job ones of jobs (<JOB>_SCHEDULE).
func Variables(jobs ...string) []string {
	var names []string
	seen := map[string]bool{}
	_, _ = Load(func(k string) string {
		if !seen[k] {
			seen[k] = true
			names = append(names, k)
		}
		return ""
	})
	for _, j := range jobs {
		names = append(names, ScheduleVar(j))
	}
	return names
}
