package jobsfile

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
)

// definition is a job as written in the file, with defaults filled in and
// no ${VAR} replaced: what Describe shows and Hash covers.
type definition struct {
	Name             string            `json:"name"`
	Schedule         string            `json:"schedule"`
	Command          []string          `json:"command,omitempty"`
	Shell            string            `json:"shell,omitempty"`
	Env              map[string]string `json:"env,omitempty"`
	Dir              string            `json:"dir,omitempty"`
	HTTP             *httpDefinition   `json:"http,omitempty"`
	Timeout          time.Duration     `json:"timeout"`
	Overlap          Overlap           `json:"overlap"`
	Retries          int               `json:"retries"`
	RetryBackoff     time.Duration     `json:"retry_backoff"`
	StartingDeadline time.Duration     `json:"starting_deadline"`
}

type httpDefinition struct {
	URL     string            `json:"url"`
	Method  string            `json:"method"`
	Headers map[string]string `json:"headers,omitempty"`
	Body    string            `json:"body,omitempty"`
	Success []int             `json:"success,omitempty"`
}

// hashFormat starts what Hash covers: a change of the canonical form
// changes every hash, rather than making two forms collide.
const hashFormat = "go-leader-election jobs file v1\n"

// Hash is a digest of the job's definition as written (hex SHA-256); see
// Set.Hash.
func (j Job) Hash() string {
	return digest([]definition{j.def})
}

// Hash is a digest of the set's definitions (hex SHA-256), the same on
// every replica whose file defines the same jobs, whatever its layout,
// comments, order of jobs and of map keys, and whether defaults are
// written out. It covers the definitions as written: ${VAR} is not
// replaced, so values from the environment (secrets) never enter it and
// replicas whose environments differ still agree; a value written out in
// the file (a header, an env value) does enter it.
func (s Set) Hash() string {
	defs := make([]definition, len(s.Jobs))
	for i, j := range s.Jobs {
		defs[i] = j.def
	}
	slices.SortFunc(defs, func(a, b definition) int { return strings.Compare(a.Name, b.Name) })
	return digest(defs)
}

func digest(defs []definition) string {
	b, err := json.Marshal(defs) // map keys in order: canonical
	if err != nil {
		panic(fmt.Sprintf("jobsfile: encoding definitions: %v", err)) // plain data: cannot fail
	}
	sum := sha256.Sum256(append([]byte(hashFormat), b...))
	return hex.EncodeToString(sum[:])
}

// Describe is the job on one line, as written (${VAR} not replaced), with
// env and header values, the body and any password in the URL hidden: fit
// for logs and status pages. Secrets belong in ${VAR}: an argument or URL
// written out in the file is shown as it is.
func (j Job) Describe() string {
	d := j.def
	parts := []string{fmt.Sprintf("schedule %q", d.Schedule)}
	switch {
	case d.Command != nil:
		parts = append(parts, "command "+quoteList(d.Command))
	case d.Shell != "":
		parts = append(parts, fmt.Sprintf("shell %q", d.Shell))
	case d.HTTP != nil:
		parts = append(parts, describeHTTP(d.HTTP)...)
	}
	if len(d.Env) > 0 {
		parts = append(parts, fmt.Sprintf("env %s (values hidden)", strings.Join(slices.Sorted(maps.Keys(d.Env)), ", ")))
	}
	if d.Dir != "" {
		parts = append(parts, fmt.Sprintf("dir %q", d.Dir))
	}
	if d.Timeout > 0 {
		parts = append(parts, "timeout "+d.Timeout.String())
	}
	parts = append(parts, "overlap "+string(d.Overlap))
	if d.Retries > 0 {
		parts = append(parts, fmt.Sprintf("retries %d (backoff %s, doubling)", d.Retries, d.RetryBackoff))
	}
	switch d.StartingDeadline {
	case UntilNextTick:
	case 0:
		parts = append(parts, "starting deadline 0 (never late)")
	default:
		parts = append(parts, "starting deadline "+d.StartingDeadline.String())
	}
	return d.Name + ": " + strings.Join(parts, "; ")
}

func describeHTTP(h *httpDefinition) []string {
	parts := []string{fmt.Sprintf("http %s %s", h.Method, hidePassword(h.URL))}
	if len(h.Headers) > 0 {
		parts = append(parts, fmt.Sprintf("headers %s (values hidden)", strings.Join(slices.Sorted(maps.Keys(h.Headers)), ", ")))
	}
	if h.Body != "" {
		parts = append(parts, fmt.Sprintf("body of %d bytes", len(h.Body)))
	}
	if h.Success != nil {
		parts = append(parts, fmt.Sprintf("success %v", h.Success))
	}
	return parts
}

// hidePassword hides the password of a URL as written (it may not parse:
// ${VAR} is not replaced).
func hidePassword(u string) string {
	scheme, rest, ok := strings.Cut(u, "://")
	if !ok {
		return u
	}
	end := strings.IndexAny(rest, "/?#")
	if end < 0 {
		end = len(rest)
	}
	user, host, at := strings.Cut(rest[:end], "@")
	name, _, hasPassword := strings.Cut(user, ":")
	if !at || !hasPassword {
		return u
	}
	return scheme + "://" + name + ":xxxxx@" + host + rest[end:]
}

func quoteList(args []string) string {
	q := make([]string, len(args))
	for i, a := range args {
		q[i] = fmt.Sprintf("%q", a)
	}
	return "[" + strings.Join(q, ", ") + "]"
}
