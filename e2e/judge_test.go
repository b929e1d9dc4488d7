package e2e

import (
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"testing"
	"text/tabwriter"
	"time"
)

// run is one run of a job, from its Running event to its Finished event (or
// to its process's end, for a run the process did not live to finish).
type run struct {
	job        string
	tick       time.Time
	instance   int
	node       string
	start, end time.Time
}

// verdict is what the judge found in the events of one test.
type verdict struct {
	runs      []run
	twice     []string // "job tick" run more than once
	overlaps  []string
	missed    map[string][]time.Time // by job
	rows      []row
	from, to  time.Time // the judged ticks
	perSecond time.Duration
}

// row is one line of the table: a fault and what followed it.
type row struct {
	fault    fault
	twice    int
	missed   map[string]int // by job: ticks no node ran, from the fault to the next
	lateness time.Duration  // first run after the fault: start minus tick
	resumed  time.Duration  // first run after the fault was undone, from the undoing
	job      string
}

// judge reads the events. Ticks of each job in [from, to] every interval
// must run exactly once, except those the faults cost.
func judge(events []event, faults []fault, procs []*proc, from, to time.Time, interval time.Duration, end time.Time) verdict {
	v := verdict{missed: map[string][]time.Time{}, from: from, to: to, perSecond: interval}
	type key struct {
		job      string
		tick     int64
		instance int
	}
	ends := map[key]time.Time{}
	for _, ev := range events {
		if ev.Message == "Finished" {
			ends[key{ev.Job, ev.Tick.UnixNano(), ev.Instance}] = ev.Time
		}
	}
	jobs := map[string]bool{}
	for _, ev := range events {
		if ev.Message != "Running" {
			continue
		}
		jobs[ev.Job] = true
		r := run{job: ev.Job, tick: ev.Tick, instance: ev.Instance, node: ev.Node, start: ev.Time}
		if e, ok := ends[key{ev.Job, ev.Tick.UnixNano(), ev.Instance}]; ok {
			r.end = e
		} else {
			procs[ev.Instance].mu.Lock()
			r.end = procs[ev.Instance].endedAt
			procs[ev.Instance].mu.Unlock()
			if r.end.IsZero() {
				r.end = end
			}
		}
		v.runs = append(v.runs, r)
	}
	sort.Slice(v.runs, func(i, j int) bool { return v.runs[i].start.Before(v.runs[j].start) })

	count := map[string]int{}
	lastEnd := map[string]run{}
	for _, r := range v.runs {
		k := r.job + " " + r.tick.UTC().Format(time.RFC3339Nano)
		count[k]++
		if count[k] == 2 {
			v.twice = append(v.twice, k)
		}
		if prev, ok := lastEnd[r.job]; ok && r.start.Before(prev.end) {
			v.overlaps = append(v.overlaps, fmt.Sprintf("%s: tick %s on %s#%d [%s, %s] and tick %s on %s#%d from %s",
				r.job, prev.tick.Format(time.TimeOnly), prev.node, prev.instance, prev.start.Format("15:04:05.000"),
				prev.end.Format("15:04:05.000"), r.tick.Format(time.TimeOnly), r.node, r.instance, r.start.Format("15:04:05.000")))
		}
		if prev, ok := lastEnd[r.job]; !ok || r.end.After(prev.end) {
			lastEnd[r.job] = r
		}
	}
	for job := range jobs {
		for tk := from; !tk.After(to); tk = tk.Add(interval) {
			if count[job+" "+tk.UTC().Format(time.RFC3339Nano)] == 0 {
				v.missed[job] = append(v.missed[job], tk)
			}
		}
	}

	for i, f := range faults {
		next := to.Add(interval)
		if i+1 < len(faults) {
			next = faults[i+1].at
		}
		rw := row{fault: f, job: f.job, missed: map[string]int{}}
		for job, ticks := range v.missed { // every job: a node may lead several
			for _, tk := range ticks {
				if !tk.Before(f.at) && tk.Before(next) {
					rw.missed[job]++
				}
			}
		}
		for _, r := range v.runs {
			if (f.job == "" || r.job == f.job) && r.start.After(f.at) && r.tick.Before(next) {
				rw.lateness = r.start.Sub(r.tick)
				break
			}
		}
		if !f.end.IsZero() {
			for _, r := range v.runs {
				if (f.job == "" || r.job == f.job) && r.start.After(f.end) {
					rw.resumed = r.start.Sub(f.end)
					break
				}
			}
		}
		for _, k := range v.twice {
			if tk, err := time.Parse(time.RFC3339Nano, k[strings.Index(k, " ")+1:]); err == nil && !tk.Before(f.at) && tk.Before(next) {
				rw.twice++
			}
		}
		v.rows = append(v.rows, rw)
	}
	return v
}

func (v verdict) totalMissed() int {
	n := 0
	for _, ticks := range v.missed {
		n += len(ticks)
	}
	return n
}

// print writes the table the README shows.
func (v verdict) print(w io.Writer) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "fault\tleader of\truns twice\tmissed ticks (per job)\tfirst run after it: start - tick\trun after undoing it: start - undo")
	for _, r := range v.rows {
		job := r.job
		if job == "" {
			job = "all"
		}
		resumed := "-"
		if !r.fault.end.IsZero() {
			resumed = r.resumed.Round(time.Millisecond).String()
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\t%s\n", r.fault.kind, job, r.twice, r.missedText(), r.lateness.Round(time.Millisecond), resumed)
	}
	ticks := 0
	jobs := map[string]bool{}
	for _, r := range v.runs {
		jobs[r.job] = true
	}
	for tk := v.from; !tk.After(v.to); tk = tk.Add(v.perSecond) {
		ticks += len(jobs)
	}
	fmt.Fprintf(tw, "TOTAL: %d job-ticks judged, %d runs of them, %d overlapping runs\t\t%d\t%d\t\t\n", ticks, v.judgedRuns(), len(v.overlaps), len(v.twice), v.totalMissed())
	tw.Flush()
}

// maxMissed is the most ticks one job missed after the fault.
func (r row) maxMissed() int {
	n := 0
	for _, m := range r.missed {
		n = max(n, m)
	}
	return n
}

func (r row) missedText() string {
	if len(r.missed) == 0 {
		return "0"
	}
	var parts []string
	for _, job := range sortedKeys(r.missed) {
		parts = append(parts, fmt.Sprintf("%s %d", job, r.missed[job]))
	}
	return strings.Join(parts, ", ")
}

// summary writes one line per kind of fault: how often, and the worst of
// what followed.
func (v verdict) summary(w io.Writer) {
	type agg struct {
		count, twice, worstMissed, missed int
		worstLate                         time.Duration
	}
	byKind := map[string]*agg{}
	for _, r := range v.rows {
		a := byKind[r.fault.kind]
		if a == nil {
			a = &agg{}
			byKind[r.fault.kind] = a
		}
		a.count++
		a.twice += r.twice
		a.worstMissed = max(a.worstMissed, r.maxMissed())
		for _, m := range r.missed {
			a.missed += m
		}
		a.worstLate = max(a.worstLate, r.lateness)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "fault\tcount\truns twice\tmissed ticks (all jobs)\tworst missed per job per fault\tworst first-run lateness")
	for _, kind := range sortedKeys(byKind) {
		a := byKind[kind]
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%s\n", kind, a.count, a.twice, a.missed, a.worstMissed, a.worstLate.Round(time.Millisecond))
	}
	fmt.Fprintf(tw, "TOTAL: %d runs of judged ticks, %d overlapping\t%d\t%d\t%d\t\t\n", v.judgedRuns(), len(v.overlaps), len(v.rows), len(v.twice), v.totalMissed())
	tw.Flush()
}

// finish stops the cluster and judges the ticks from from to the last whole
// second before now.
func (c *cluster) finish(from time.Time, interval time.Duration) verdict {
	to := time.Now().Truncate(time.Second).Add(-time.Second)
	c.stopAll()
	events, faults, procs := c.snapshot()
	return judge(events, faults, procs, from, to, interval, time.Now())
}

// publish logs a table and, with E2E_TABLE set, writes it to that file.
func publish(t *testing.T, table string) {
	t.Log("\n" + table)
	if path := os.Getenv("E2E_TABLE"); path != "" {
		_ = os.WriteFile(path, []byte(table), 0o644)
	}
}

// assertSafe fails t for any tick run twice and any overlapping runs.
func (v verdict) assertSafe(t *testing.T) {
	t.Helper()
	for _, k := range v.twice {
		t.Errorf("ran twice: %s", k)
	}
	for _, o := range v.overlaps {
		t.Errorf("overlapping runs: %s", o)
	}
}

// judgedRuns counts the runs of ticks in [from, to].
func (v verdict) judgedRuns() int {
	n := 0
	for _, r := range v.runs {
		if !r.tick.Before(v.from) && !r.tick.After(v.to) {
			n++
		}
	}
	return n
}
