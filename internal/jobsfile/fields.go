package jobsfile

import (
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// field is a key and its value in a map.
type field struct{ key, value *yaml.Node }

// fields returns the map n's fields by key, reporting keys given twice and,
// when known is given, keys not in it. prefix is the map's own path.
func (p *parser) fields(n *yaml.Node, job, prefix string, known ...string) map[string]field {
	out := map[string]field{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := deref(n.Content[i]), n.Content[i+1]
		if k.Kind != yaml.ScalarNode || isNull(k) {
			p.fail(k, job, prefix, "a key that is not a name")
			continue
		}
		if prev, dup := out[k.Value]; dup {
			p.fail(k, job, path(prefix, k.Value), "given twice (first at line %d)", prev.key.Line)
			continue
		}
		if known != nil && !slices.Contains(known, k.Value) {
			p.fail(k, job, prefix, "unknown field %q (the fields here: %s)", k.Value, strings.Join(known, ", "))
			continue
		}
		out[k.Value] = field{k, v}
	}
	return out
}

// path joins a field's path and a key.
func path(prefix, key string) string {
	if prefix == "" {
		return key
	}
	return prefix + "." + key
}

// str reads a plain value as text: a number or a boolean is the text written.
func (p *parser) str(n *yaml.Node, job, field string) (string, bool) {
	n = deref(n)
	switch {
	case n.Kind != yaml.ScalarNode:
		p.fail(n, job, field, "want a string, not %s", kindName(n))
	case isNull(n):
		p.fail(n, job, field, "no value (write \"\" for an empty string)")
	default:
		return n.Value, true
	}
	return "", false
}

// expanded reads a value and replaces its ${VAR}s, reporting each problem.
func (p *parser) expanded(n *yaml.Node, job, field string) (written, value string, ok bool) {
	written, ok = p.str(n, job, field)
	if !ok {
		return "", "", false
	}
	value, problems := expand(written, p.opts.Getenv)
	for _, pr := range problems {
		p.fail(deref(n), job, field, "%s", pr)
	}
	return written, value, len(problems) == 0
}

// duration reads a Go duration ("30s", "1m30s").
func (p *parser) duration(n *yaml.Node, job, field string) (time.Duration, bool) {
	s, ok := p.str(n, job, field)
	if !ok {
		return 0, false
	}
	d, err := time.ParseDuration(strings.TrimSpace(s))
	if err != nil {
		p.fail(deref(n), job, field, "%q: want a duration such as 30s, 5m or 1h30m", s)
		return 0, false
	}
	return d, true
}

// integer reads a whole number.
func (p *parser) integer(n *yaml.Node, job, field string) (int, bool) {
	n = deref(n)
	v, err := strconv.Atoi(n.Value)
	if n.Kind != yaml.ScalarNode || n.Tag != "!!int" || err != nil {
		p.fail(n, job, field, "%s: want a whole number", describeValue(n))
		return 0, false
	}
	return v, true
}

// deref follows aliases (*name) to what they name.
func deref(n *yaml.Node) *yaml.Node {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n
}

func isNull(n *yaml.Node) bool { return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" }

// kindName names what a node is, for "want X, not Y".
func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a map"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if isNull(n) {
			return "nothing"
		}
		return "a single value" // not shown: it may be a secret
	}
	return "this"
}

// describeValue is a node for an error message.
func describeValue(n *yaml.Node) string {
	if n.Kind == yaml.ScalarNode && !isNull(n) {
		return strconv.Quote(n.Value)
	}
	return kindName(n)
}
