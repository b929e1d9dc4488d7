// Package envconfig reads settings from environment variables for every
// command of the program (the daemon, serve): a Parser whose errors name the
// variable and the bad value, and Common, the variables every command shares
// (ports, logs, the node's name, the store).
//
// What it promises: a value is either valid or an error naming its
// variable, quoting the value (cut short when long) unless it is a secret;
// defaults are applied to unset or blank variables; the first error is kept,
// so a command's loader reads like a list of fields.
//
// What it does not: it knows nothing of the daemon's jobs and timing or the
// service's own variables (packages config and service read those with a
// Parser), and it reads through the getenv it is given, never the process
// environment.
package envconfig

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Parser reads variables through getenv and keeps the first error. Its
// methods return the default after an error, so that reading goes on.
type Parser struct {
	getenv func(string) string
	err    error
}

// NewParser returns a Parser reading through getenv.
func NewParser(getenv func(string) string) *Parser { return &Parser{getenv: getenv} }

// Err returns the first error, or nil.
func (p *Parser) Err() error { return p.err }

// Fail records that name's value is bad, and why, unless an error came
// first: "NAME: bad value "value": why".
func (p *Parser) Fail(name, value, why string) {
	if p.err == nil {
		p.err = fmt.Errorf("%s: bad value %s: %s", name, Quote(value), why)
	}
}

// FailWith records err unless an error came first.
func (p *Parser) FailWith(err error) {
	if p.err == nil {
		p.err = err
	}
}

// Quote quotes v for an error message, cut short if it is long.
func Quote(v string) string {
	const shown = 64
	if len(v) <= shown {
		return strconv.Quote(v)
	}
	cut := shown
	for cut > 0 && !utf8.RuneStart(v[cut]) {
		cut--
	}
	return fmt.Sprintf("%s... (%d bytes)", strconv.Quote(v[:cut]), len(v))
}

// String returns name's value, spaces trimmed.
func (p *Parser) String(name string) string { return strings.TrimSpace(p.getenv(name)) }

// Int reads a whole number from lo to hi; def when unset.
func (p *Parser) Int(name string, def, lo, hi int) int {
	v := p.String(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		p.Fail(name, v, fmt.Sprintf("want a whole number from %d to %d", lo, hi))
		return def
	}
	return n
}

// Duration reads a Go duration ("500ms", "15s"); negative ones only if
// negative is true; def when unset.
func (p *Parser) Duration(name string, def time.Duration, negative bool) time.Duration {
	v := p.String(name)
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	switch {
	case err != nil:
		p.Fail(name, v, `want a duration such as "500ms", "15s" or "1m"`)
		return def
	case d < 0 && !negative:
		p.Fail(name, v, "must not be negative")
		return def
	}
	return d
}

// Bool reads true or false (as strconv.ParseBool); def when unset.
func (p *Parser) Bool(name string, def bool) bool {
	v := p.String(name)
	if v == "" {
		return def
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		p.Fail(name, v, "want true or false")
		return def
	}
	return b
}

// OneOf reads one of allowed, in any case, and returns it as listed; def
// when unset.
func (p *Parser) OneOf(name, def string, allowed ...string) string {
	v := p.String(name)
	if v == "" {
		return def
	}
	for _, a := range allowed {
		if strings.EqualFold(v, a) {
			return a
		}
	}
	p.Fail(name, v, "want one of "+strings.Join(allowed, ", "))
	return def
}

// Text reads a free-form value: anything printable.
func (p *Parser) Text(name string) string {
	v := p.String(name)
	if strings.IndexFunc(v, func(r rune) bool { return !unicode.IsPrint(r) }) >= 0 || !utf8.ValidString(v) {
		p.Fail(name, v, "want printable text, without control characters")
		return ""
	}
	return v
}

// Secret reads a token of at least minLen printable characters without
// spaces, or "" when unset. Its errors never repeat the value.
func (p *Parser) Secret(name string, minLen int) string {
	v := p.getenv(name)
	if v == "" {
		return ""
	}
	fail := func(why string) {
		p.FailWith(fmt.Errorf("%s: bad value (not shown: it is a secret): %s", name, why))
	}
	for _, r := range v {
		if r <= ' ' || r == 0x7f {
			fail("it must not contain spaces or control characters")
			return ""
		}
	}
	if len(v) < minLen {
		fail(fmt.Sprintf("%d characters, want at least %d (e.g. openssl rand -hex 32)", len(v), minLen))
		return ""
	}
	return v
}

// MaxNodeName is the longest NODE_NAME: a Kubernetes pod name (a DNS
// subdomain) is at most 253 characters.
const MaxNodeName = 253

var nodeNameRE = regexp.MustCompile(`^[A-Za-z0-9._-]+$`)

// NodeName reads a node's name: empty, or 1 to MaxNodeName letters, digits,
// '.', '-' and '_'.
func (p *Parser) NodeName(name string) string {
	v := p.String(name)
	if v != "" && (len(v) > MaxNodeName || !nodeNameRE.MatchString(v)) {
		p.Fail(name, v, fmt.Sprintf("want 1 to %d letters, digits, '.', '-' or '_' (a Kubernetes pod name always fits)", MaxNodeName))
		return ""
	}
	return v
}
