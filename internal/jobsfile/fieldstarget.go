package jobsfile

import (
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"

	"golang.org/x/net/http/httpguts"
	"gopkg.in/yaml.v3"

	"go-leader-election/internal/target"
)

// targets are the fields that name a job's target: exactly one is given.
var targets = []string{"command", "shell", "http"}

// target checks the job's one target.
func (p *parser) target(n *yaml.Node, f map[string]field, label string, j *Job) {
	var given []string
	for _, t := range targets {
		if _, ok := f[t]; ok {
			given = append(given, t)
		}
	}
	switch len(given) {
	case 0:
		p.fail(n, label, "", "no target: want one of command (a list: the program and its arguments), shell (a string for /bin/sh -c) or http (a map)")
		return
	case 1:
	default:
		p.fail(f[given[1]].key, label, given[1], "a second target (%s): want exactly one of command, shell or http", strings.Join(given, " and "))
		return
	}
	if given[0] == "http" {
		for _, k := range []string{"env", "dir"} {
			if kf, ok := f[k]; ok {
				p.fail(kf.key, label, k, "%s is for command and shell targets, not http", k)
			}
		}
		j.HTTP = p.http(f["http"], label, &j.def)
		return
	}
	c := &target.Command{}
	if given[0] == "command" {
		c.Argv = p.command(f["command"], label, &j.def)
	} else if script, ok := p.str(f["shell"].value, label, "shell"); ok {
		if strings.TrimSpace(script) == "" {
			p.fail(deref(f["shell"].value), label, "shell", "an empty script")
		}
		// The shell expands its own variables, at run time: no ${VAR} here.
		c.Argv, j.def.Shell = []string{"/bin/sh", "-c", script}, script
	}
	if ef, ok := f["env"]; ok {
		c.Env, j.def.Env = p.env(ef, label)
	}
	if df, ok := f["dir"]; ok {
		c.Dir, _ = p.str(df.value, label, "dir")
		j.def.Dir = c.Dir
	}
	j.Command = c
}

// command checks a command: a list, argv, with ${VAR} replaced.
func (p *parser) command(cf field, label string, def *definition) []string {
	n := deref(cf.value)
	switch {
	case n.Kind == yaml.ScalarNode && !isNull(n):
		p.fail(n, label, "command", "want a list, the program and its arguments: [prog, arg, ...] (no shell: for a command line, use shell:)")
		return nil
	case n.Kind != yaml.SequenceNode:
		p.fail(n, label, "command", "want a list, the program and its arguments, not %s", kindName(n))
		return nil
	case len(n.Content) == 0:
		p.fail(n, label, "command", "an empty command")
		return nil
	}
	argv := make([]string, len(n.Content))
	def.Command = make([]string, len(n.Content))
	for i, a := range n.Content {
		var ok bool
		def.Command[i], argv[i], ok = p.expanded(a, label, fmt.Sprintf("command[%d]", i))
		if i == 0 && ok && argv[0] == "" {
			p.fail(deref(a), label, "command[0]", "an empty program name")
		}
	}
	return argv
}

// env checks a command's environment: names of variables, values with
// ${VAR} replaced, none of the run's own variables.
func (p *parser) env(ef field, label string) (values, written map[string]string) {
	return p.stringMap(ef, label, "env", "variables, NAME: value", func(k string) string {
		switch {
		case !varNameRE.MatchString(k):
			return "not a variable name (letters, digits and '_', not starting with a digit)"
		case slices.Contains(target.ReservedEnv, k):
			return fmt.Sprintf("set by every run (%s): a job may not set it", strings.Join(target.ReservedEnv, ", "))
		}
		return ""
	}, nil)
}

// stringMap checks a map of names to values, with ${VAR} replaced in the
// values: badName says what is wrong with a name ("" if nothing), badValue
// (if given) what is wrong with a value, which it must not repeat.
func (p *parser) stringMap(mf field, label, path, what string, badName, badValue func(string) string) (values, written map[string]string) {
	n := deref(mf.value)
	if n.Kind != yaml.MappingNode {
		p.fail(n, label, path, "want a map of %s, not %s", what, kindName(n))
		return nil, nil
	}
	values, written = map[string]string{}, map[string]string{}
	for k, kv := range p.fields(n, label, path) {
		field := path + "." + k
		if why := badName(k); why != "" {
			p.fail(kv.key, label, field, "%s", why)
			continue
		}
		w, v, ok := p.expanded(kv.value, label, field)
		if ok && badValue != nil {
			if why := badValue(v); why != "" {
				p.fail(deref(kv.value), label, field, "%s", why)
			}
		}
		written[k], values[k] = w, v
	}
	return values, written
}

var httpFields = []string{"url", "method", "headers", "body", "success"}

// methodRE is an HTTP method: a token, upper case by custom.
var methodRE = regexp.MustCompile(`^[A-Za-z]+$`)

// http checks an http target.
func (p *parser) http(hf field, label string, def *definition) *target.HTTP {
	n := deref(hf.value)
	if n.Kind != yaml.MappingNode {
		p.fail(n, label, "http", "want a map with url, and optionally method, headers, body and success, not %s", kindName(n))
		return nil
	}
	f := p.fields(n, label, "http", httpFields...)
	h := &target.HTTP{Method: http.MethodPost}
	d := &httpDefinition{Method: h.Method}
	def.HTTP = d
	if uf, ok := f["url"]; !ok {
		p.fail(n, label, "http", "no url")
	} else if written, u, ok := p.expanded(uf.value, label, "http.url"); ok {
		if err := target.CheckURL(u); err != nil {
			p.fail(deref(uf.value), label, "http.url", "%v", err)
		}
		h.URL, d.URL = u, written
	}
	if mf, ok := f["method"]; ok {
		if m, ok := p.str(mf.value, label, "http.method"); ok && !methodRE.MatchString(m) {
			p.fail(deref(mf.value), label, "http.method", "%q: want a method such as POST, PUT or GET", m)
		} else {
			h.Method, d.Method = strings.ToUpper(m), strings.ToUpper(m)
		}
	}
	if bf, ok := f["body"]; ok {
		d.Body, h.Body, _ = p.expanded(bf.value, label, "http.body")
	}
	if hf, ok := f["headers"]; ok {
		h.Headers, d.Headers = p.headers(hf, label)
	}
	if sf, ok := f["success"]; ok {
		h.Success = p.success(sf, label)
		d.Success = h.Success
	}
	return h
}

// headers checks an http target's headers: valid names, none of the run's
// own, values with ${VAR} replaced that a header can carry.
func (p *parser) headers(hf field, label string) (values, written map[string]string) {
	return p.stringMap(hf, label, "http.headers", "headers, Name: value", func(k string) string {
		switch {
		case !httpguts.ValidHeaderFieldName(k):
			return "not a header name"
		case slices.ContainsFunc(target.ReservedHeaders, func(r string) bool { return strings.EqualFold(r, k) }):
			return fmt.Sprintf("set by every request (%s): a job may not set it", strings.Join(target.ReservedHeaders, ", "))
		}
		return ""
	}, func(v string) string {
		if !httpguts.ValidHeaderFieldValue(v) {
			return "its value (not shown) has a character a header cannot carry (a line break?)"
		}
		return ""
	})
}

// success checks the list of statuses that count as success.
func (p *parser) success(sf field, label string) []int {
	n := deref(sf.value)
	if n.Kind != yaml.SequenceNode || len(n.Content) == 0 {
		p.fail(n, label, "http.success", "want a list of HTTP statuses, such as [200, 204]")
		return nil
	}
	codes := make([]int, 0, len(n.Content))
	for i, c := range n.Content {
		field := fmt.Sprintf("http.success[%d]", i)
		code, ok := p.integer(c, label, field)
		if ok && (code < 100 || code > 599) {
			p.fail(deref(c), label, field, "%d: want an HTTP status, from 100 to 599", code)
		}
		codes = append(codes, code)
	}
	return codes
}
