package jobsfile

import (
	"slices"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"go-leader-election/jobs"
)

// name checks the job's name: the rule of every job name, once per file and
// not taken by a Go job.
func (p *parser) name(n *yaml.Node, f map[string]field, label string, seen map[string]*yaml.Node) string {
	name, v, ok := p.required(n, f, label, "name")
	if !ok {
		return ""
	}
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

// required reads the job's field key, which must be given, as text.
func (p *parser) required(n *yaml.Node, f map[string]field, label, key string) (string, *yaml.Node, bool) {
	kf, ok := f[key]
	if !ok {
		p.fail(n, label, "", "no %s", key)
		return "", nil, false
	}
	s, ok := p.str(kf.value, label, key)
	return s, deref(kf.value), ok
}

// schedule checks the job's schedule with Options.ParseSchedule.
func (p *parser) schedule(n *yaml.Node, f map[string]field, label, name string) string {
	spec, v, ok := p.required(n, f, label, "schedule")
	if !ok {
		return ""
	}
	spec = strings.TrimSpace(spec)
	if err := p.opts.ParseSchedule(spec, name); err != nil {
		p.fail(v, label, "schedule", "bad schedule %q: %v", spec, err)
	}
	return spec
}

// options checks the per-job options, filling in their defaults.
func (p *parser) options(f map[string]field, label string, j *Job) {
	j.Timeout = p.durationOption(f, label, "timeout", 0, 1, "must be more than 0 (leave it out for no timeout)")
	j.RetryBackoff = p.durationOption(f, label, "retry_backoff", DefaultRetryBackoff, 1, "must be more than 0")
	j.StartingDeadline = p.durationOption(f, label, "starting_deadline", UntilNextTick, 0,
		"must be 0 (never late) or more (leave it out for: until the next tick)")
	j.Overlap = OverlapForbid
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
	j.def.Timeout, j.def.Overlap, j.def.Retries = j.Timeout, j.Overlap, j.Retries
	j.def.RetryBackoff, j.def.StartingDeadline = j.RetryBackoff, j.StartingDeadline
}

// durationOption reads the optional duration key: def when it is not
// given, an error saying why when it is below least.
func (p *parser) durationOption(f map[string]field, label, key string, def, least time.Duration, why string) time.Duration {
	o, ok := f[key]
	if !ok {
		return def
	}
	d, ok := p.duration(o.value, label, key)
	if ok && d < least {
		p.fail(deref(o.value), label, key, "%s: %s", d, why)
	}
	return d
}
