package jobsfile

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Options are what a jobs file is checked against. The package reads no
// environment of its own: the caller passes it.
type Options struct {
	// ParseSchedule checks a job's schedule (job is the job's name, for
	// schedules that depend on it); its error is reported at the schedule.
	// Required.
	ParseSchedule func(spec, job string) error
	// Getenv gives the values of ${VAR}; an empty value counts as unset.
	// Nil: no variable is set.
	Getenv func(string) string
	// Taken lists names defined elsewhere (Go jobs), each with where, e.g.
	// "a Go job in jobs/registry.go": the file may not define them again.
	Taken map[string]string
}

// Set is the jobs of one file, in the file's order.
type Set struct {
	// File is the file's name, as given to Load or Parse.
	File string
	Jobs []Job
}

// Names are the jobs' names, in the file's order.
func (s Set) Names() []string {
	names := make([]string, len(s.Jobs))
	for i, j := range s.Jobs {
		names[i] = j.Name
	}
	return names
}

// Load reads and checks the jobs file at path. A file that cannot be read
// is an error naming it; a file with mistakes is an Errors (ErrInvalid)
// holding every mistake, each at its FILE:LINE:COLUMN.
func Load(path string, o Options) (Set, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Set{}, fmt.Errorf("jobs file: %w", err)
	}
	return Parse(path, data, o)
}

// Parse checks data, the content of the jobs file named file; see Load.
func Parse(file string, data []byte, o Options) (Set, error) {
	if o.ParseSchedule == nil {
		return Set{}, errors.New("jobsfile: Options.ParseSchedule is nil")
	}
	p := &parser{file: file, opts: o, lines: strings.Split(string(data), "\n")}
	var jobs []Job
	if root := p.document(data); root != nil {
		jobs = p.jobs(p.top(root))
	}
	if len(p.errs) > 0 {
		return Set{}, p.errs.sorted()
	}
	return Set{File: file, Jobs: jobs}, nil
}

// parser collects every mistake of one file.
type parser struct {
	file  string
	opts  Options
	lines []string // the file's, for hints on YAML syntax errors
	errs  Errors
}

// fail records a mistake at n, in job (a label) and field.
func (p *parser) fail(n *yaml.Node, job, field, format string, args ...any) {
	p.errs = append(p.errs, &Error{File: p.file, Line: n.Line, Column: n.Column, Job: job, Field: field, Msg: fmt.Sprintf(format, args...)})
}

// document decodes the one YAML document of data; nil when there is none
// to check.
func (p *parser) document(data []byte) *yaml.Node {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	err := dec.Decode(&doc)
	switch {
	case errors.Is(err, io.EOF):
		p.errs = append(p.errs, &Error{File: p.file, Line: 1, Column: 1, Msg: "the file is empty: want a map with a jobs: list"})
		return nil
	case err != nil:
		p.yamlError(err)
		return nil
	}
	var extra yaml.Node
	switch err := dec.Decode(&extra); {
	case errors.Is(err, io.EOF):
	case err != nil:
		p.yamlError(err)
		return nil
	default:
		p.fail(&extra, "", "", "a second YAML document (after ---): want one")
		return nil
	}
	return deref(doc.Content[0])
}

var yamlLineRE = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// yamlError records a YAML syntax error at its line, with a hint for the
// usual cause in a jobs file: a value starting with * or @ (cron, @every)
// unquoted.
func (p *parser) yamlError(err error) {
	e := &Error{File: p.file, Line: 1, Column: 1, Msg: err.Error()}
	if m := yamlLineRE.FindStringSubmatch(err.Error()); m != nil {
		e.Line, _ = strconv.Atoi(m[1])
		e.Msg = "YAML: " + m[2]
	}
	if e.Line >= 1 && e.Line <= len(p.lines) {
		text := p.lines[e.Line-1]
		if i := strings.Index(text, ": "); i >= 0 {
			e.Column = i + 3
			if v := strings.TrimSpace(text[i+2:]); strings.HasPrefix(v, "*") || strings.HasPrefix(v, "@") {
				e.Msg += ` (quote a value that starts with * or @: schedule: "*/5 * * * *")`
			}
		}
	}
	p.errs = append(p.errs, e)
}

// top returns the jobs list of the top-level map; nil if there is none.
func (p *parser) top(root *yaml.Node) *yaml.Node {
	if root.Kind != yaml.MappingNode {
		p.fail(root, "", "", "want a map with a jobs: list at the top, not %s", kindName(root))
		return nil
	}
	f := p.fields(root, "", "", "jobs")
	jf, ok := f["jobs"]
	if !ok {
		p.fail(root, "", "", "no jobs: list")
		return nil
	}
	n := deref(jf.value)
	switch {
	case isNull(n): // "jobs:" and nothing: no jobs
		return nil
	case n.Kind != yaml.SequenceNode:
		p.fail(n, "", "jobs", "want a list of jobs, not %s", kindName(n))
		return nil
	}
	return n
}

// jobs checks every job of the list.
func (p *parser) jobs(list *yaml.Node) []Job {
	if list == nil {
		return nil
	}
	var out []Job
	seen := map[string]*yaml.Node{} // name → where first defined
	for i, n := range list.Content {
		if j, ok := p.job(n, i, seen); ok {
			out = append(out, j)
		}
	}
	return out
}

var jobFields = []string{"name", "schedule", "command", "shell", "env", "dir", "http",
	"timeout", "overlap", "retries", "retry_backoff", "starting_deadline"}

// job checks the index-th job; ok when it has no mistake.
func (p *parser) job(n *yaml.Node, index int, seen map[string]*yaml.Node) (Job, bool) {
	n = deref(n)
	label := "#" + strconv.Itoa(index+1)
	if n.Kind != yaml.MappingNode {
		p.fail(n, label, "", "want a job: a map with name, schedule and one target (command, shell or http), not %s", kindName(n))
		return Job{}, false
	}
	if written := writtenName(n); written != "" {
		label = strconv.Quote(written)
	}
	before := len(p.errs)
	f := p.fields(n, label, "", jobFields...)
	j := Job{Line: n.Line, Column: n.Column}
	j.Name = p.name(n, f, label, seen)
	j.Schedule = p.schedule(n, f, label, j.Name)
	j.def = definition{Name: j.Name, Schedule: j.Schedule}
	p.target(n, f, label, &j)
	p.options(f, label, &j)
	return j, len(p.errs) == before
}

// writtenName is the job's name as written, if it is a plain value.
func writtenName(n *yaml.Node) string {
	for i := 0; i+1 < len(n.Content); i += 2 {
		if k, v := deref(n.Content[i]), deref(n.Content[i+1]); k.Value == "name" && v.Kind == yaml.ScalarNode && !isNull(v) {
			return v.Value
		}
	}
	return ""
}
