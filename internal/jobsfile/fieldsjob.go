package jobsfile

import (
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"go-leader-election/jobs"
)

// name checks the job's name: the rule of every job name, once per file and
// not taken by a Go job.
func (p *parser) name(n *yaml.Node, f map[string]field, label string, seen map[string]*yaml.Node) string {
	nf, ok := f["name"]
	if !ok {
		p.fail(n, label, "", "no name")
		return ""
	}
	name, ok := p.str(nf.value, label, "name")
	if !ok {
		return ""
	}
	v := deref(nf.value)
	if err := jobs.CheckName(name); err != nil {
		p.fail(v, label, "name", "%v", err)
		return ""
	}
	if first, dup := seen[name]; dup {
		p.fail(v, label, "name", "defined twice (first at line %d)", first.Line)
		return ""
	}
	seen[name] = v
	if where, taken := p.opts.Taken[name]; taken {
		p.fail(v, label, "name", "already defined: %s", where)
	}
	return name
}

// schedule checks the job's schedule with Options.ParseSchedule.
func (p *parser) schedule(n *yaml.Node, f map[string]field, label, name string) string {
	sf, ok := f["schedule"]
	if !ok {
		p.fail(n, label, "", "no schedule")
		return ""
	}
	spec, ok := p.str(sf.value, label, "schedule")
	if !ok {
		return ""
	}
	spec = strings.TrimSpace(spec)
	if err := p.opts.ParseSchedule(spec, name); err != nil {
		p.fail(deref(sf.value), label, "schedule", "bad schedule %q: %v", spec, err)
	}
	return spec
}

// options checks the per-job options, filling in their defaults.
func (p *parser) options(f map[string]field, label string, j *Job) {
	j.Overlap, j.RetryBackoff, j.StartingDeadline = OverlapForbid, DefaultRetryBackoff, UntilNextTick
	if o, ok := f["timeout"]; ok {
		if d, ok := p.duration(o.value, label, "timeout"); ok && d <= 0 {
			p.fail(deref(o.value), label, "timeout", "%s: must be more than 0 (leave it out for no timeout)", d)
		} else {
			j.Timeout = d
		}
	}
	if o, ok := f["overlap"]; ok {
		if s, ok := p.str(o.value, label, "overlap"); ok && !slices.Contains(overlaps, Overlap(s)) {
			p.fail(deref(o.value), label, "overlap", "%q: want forbid, replace or buffer_one", s)
		} else {
			j.Overlap = Overlap(s)
		}
	}
	if o, ok := f["retries"]; ok {
		if n, ok := p.integer(o.value, label, "retries"); ok && n < 0 {
			p.fail(deref(o.value), label, "retries", "%d: must be 0 or more", n)
		} else {
			j.Retries = n
		}
	}
	if o, ok := f["retry_backoff"]; ok {
		if d, ok := p.duration(o.value, label, "retry_backoff"); ok && d <= 0 {
			p.fail(deref(o.value), label, "retry_backoff", "%s: must be more than 0", d)
		} else {
			j.RetryBackoff = d
		}
	}
	if o, ok := f["starting_deadline"]; ok {
		if d, ok := p.duration(o.value, label, "starting_deadline"); ok && d < 0 {
			p.fail(deref(o.value), label, "starting_deadline", "%s: must be 0 (never late) or more (leave it out for: until the next tick)", d)
		} else {
			j.StartingDeadline = d
		}
	}
	j.def.Timeout, j.def.Overlap, j.def.Retries = j.Timeout, j.Overlap, j.Retries
	j.def.RetryBackoff, j.def.StartingDeadline = j.RetryBackoff, j.StartingDeadline
}
