package jobsfile

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"go-leader-election/internal/schedule"
	"go-leader-election/internal/target"
)

// parseSchedule is the daemon's schedule parser, as Options wants it.
func parseSchedule(spec, job string) error {
	_, err := schedule.Parse(spec, job)
	return err
}

var env = map[string]string{
	"DB_URL": "postgres://backup:pgsecret@db/prod", "PGPASSWORD": "pgsecret", "HOOK_TOKEN": "hooksecret",
	"HOOK_HOST": "hooks.example.com", "MULTILINE": "a\nb",
}

func options() Options {
	return Options{ParseSchedule: parseSchedule, Getenv: func(k string) string { return env[k] },
		Taken: map[string]string{"go_preacher": "a Go job in jobs/registry.go"}}
}

const good = `# jobs of the example
jobs:
  - name: backup
    schedule: "0 3 * * *"
    command: [pg_dump, --dbname, "${DB_URL}", --file, /backups/$$today.sql]
    env:
      PGPASSWORD: ${PGPASSWORD}
      PGAPPNAME: backup
    dir: /backups
    timeout: 10m
    retries: 2
    overlap: buffer_one
  - name: report
    schedule: "@every 1m"
    http:
      url: https://${HOOK_HOST}/report?full=1
      method: put
      headers:
        Authorization: Bearer ${HOOK_TOKEN}
      body: '{"tick": "now"}'
      success: [200, 202]
    starting_deadline: 30s
    retry_backoff: 5s
  - name: cleanup
    schedule: "*/5 * * * *"
    shell: find /tmp -mtime +1 -delete; echo "$HOME"
`

func TestParseGood(t *testing.T) {
	set, err := Parse("jobs.yaml", []byte(good), options())
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(set.Names(), ","); got != "backup,report,cleanup" {
		t.Fatalf("names %s", got)
	}
	b, r, c := set.Jobs[0], set.Jobs[1], set.Jobs[2]
	wantArgv := []string{"pg_dump", "--dbname", "postgres://backup:pgsecret@db/prod", "--file", "/backups/$today.sql"}
	if b.HTTP != nil || b.Command == nil || fmt.Sprint(b.Command.Argv) != fmt.Sprint(wantArgv) ||
		b.Command.Env["PGPASSWORD"] != "pgsecret" || b.Command.Env["PGAPPNAME"] != "backup" || b.Command.Dir != "/backups" {
		t.Errorf("backup: %#v / argv %q", b, b.Command.Argv)
	}
	if b.Timeout != 10*time.Minute || b.Retries != 2 || b.Overlap != OverlapBufferOne || b.RetryBackoff != DefaultRetryBackoff ||
		b.StartingDeadline != UntilNextTick || b.Line != 3 || b.Column != 5 {
		t.Errorf("backup options: %+v", b)
	}
	h := r.HTTP
	if r.Command != nil || h == nil || h.URL != "https://hooks.example.com/report?full=1" || h.Method != "PUT" ||
		h.Headers["Authorization"] != "Bearer hooksecret" || h.Body != `{"tick": "now"}` || fmt.Sprint(h.Success) != "[200 202]" {
		t.Errorf("report: %+v", h)
	}
	if r.Timeout != 0 || r.Overlap != OverlapForbid || r.StartingDeadline != 30*time.Second || r.RetryBackoff != 5*time.Second {
		t.Errorf("report options: %+v", r)
	}
	if fmt.Sprint(c.Command.Argv) != fmt.Sprint([]string{"/bin/sh", "-c", `find /tmp -mtime +1 -delete; echo "$HOME"`}) {
		t.Errorf("cleanup: %q", c.Command.Argv)
	}
}

// TestParseBad: each mistake is reported at its place, naming the job and
// the field; nothing else is reported.
func TestParseBad(t *testing.T) {
	for _, c := range []struct{ name, yaml, want string }{
		{"missing target", "jobs:\n  - name: a\n    schedule: '@hourly'\n",
			`jobs.yaml:2:5: job "a": no target: want one of command`},
		{"two targets", "jobs:\n  - name: a\n    schedule: '@hourly'\n    command: [x]\n    http: {url: 'http://h/'}\n",
			`jobs.yaml:5:5: job "a": http: a second target (command and http): want exactly one`},
		{"unknown job field", "jobs:\n  - name: a\n    schedule: '@hourly'\n    command: [x]\n    shedule: x\n",
			`jobs.yaml:5:5: job "a": unknown field "shedule" (the fields here: name, schedule,`},
		{"unknown top field", "jobz: []\njobs: []\n", `jobs.yaml:1:1: unknown field "jobz" (the fields here: jobs)`},
		{"unknown http field", "jobs:\n  - name: a\n    schedule: '@hourly'\n    http: {url: 'http://h/', header: {}}\n",
			`jobs.yaml:4:30: job "a": http: unknown field "header"`},
		{"bad schedule", "jobs:\n  - name: a\n    schedule: '61 * * * *'\n    command: [x]\n",
			`jobs.yaml:3:15: job "a": schedule: bad schedule "61 * * * *": `},
		{"no schedule", "jobs:\n  - name: a\n    command: [x]\n", `jobs.yaml:2:5: job "a": no schedule`},
		{"undefined var in an argument", "jobs:\n  - name: a\n    schedule: '@hourly'\n    command: [x, '${NOPE}']\n",
			`jobs.yaml:4:18: job "a": command[1]: ${NOPE}: NOPE is not set (or empty) in the daemon's environment`},
		{"undefined var in env", "jobs:\n  - name: a\n    schedule: '@hourly'\n    command: [x]\n    env: {K: '${NOPE}'}\n",
			`jobs.yaml:5:14: job "a": env.K: ${NOPE}: NOPE is not set`},
		{"undefined var in url", "jobs:\n  - name: a\n    schedule: '@hourly'\n    http: {url: 'http://${NOPE}/'}\n",
			`job "a": http.url: ${NOPE}: NOPE is not set`},
		{"undefined var in a header", "jobs:\n  - name: a\n    schedule: '@hourly'\n    http: {url: 'http://h/', headers: {X-A: '${NOPE}'}}\n",
			`job "a": http.headers.X-A: ${NOPE}: NOPE is not set`},
		{"undefined var in the body", "jobs:\n  - name: a\n    schedule: '@hourly'\n    http: {url: 'http://h/', body: 'x ${NOPE}'}\n",
			`job "a": http.body: ${NOPE}: NOPE is not set`},
		{"lone dollar", "jobs:\n  - name: a\n    schedule: '@hourly'\n    command: [echo, 'costs $5']\n",
			`job "a": command[1]: a lone $ at byte 6: write ${NAME} for a variable, $$ for a dollar sign`},
		{"bad variable name", "jobs:\n  - name: a\n    schedule: '@hourly'\n    command: [echo, '${1X}']\n",
			`${1X}: not a variable name`},
		{"unclosed variable", "jobs:\n  - name: a\n    schedule: '@hourly'\n    command: [echo, '${X']\n", `a ${ without its }`},
		{"name twice", "jobs:\n  - {name: a, schedule: '@hourly', command: [x]}\n  - {name: a, schedule: '@hourly', command: [y]}\n",
			`jobs.yaml:3:12: job "a": name: defined twice (first at line 2)`},
		{"a Go job's name", "jobs:\n  - {name: go_preacher, schedule: '@hourly', command: [x]}\n",
			`jobs.yaml:2:12: job "go_preacher": name: already defined: a Go job in jobs/registry.go`},
		{"bad name", "jobs:\n  - {name: Backup, schedule: '@hourly', command: [x]}\n",
			`job "Backup": name: job name "Backup": want lower case letters`},
		{"no name", "jobs:\n  - {schedule: '@hourly', command: [x]}\n", `jobs.yaml:2:5: job #1: no name`},
		{"field twice", "jobs:\n  - name: a\n    schedule: '@hourly'\n    command: [x]\n    schedule: '@daily'\n",
			`jobs.yaml:5:5: job "a": schedule: given twice (first at line 3)`},
		{"command as a string", "jobs:\n  - {name: a, schedule: '@hourly', command: 'ls -l'}\n",
			`job "a": command: want a list, the program and its arguments: [prog, arg, ...] (no shell: for a command line, use shell:)`},
		{"empty command", "jobs:\n  - {name: a, schedule: '@hourly', command: []}\n", `job "a": command: an empty command`},
		{"empty shell", "jobs:\n  - {name: a, schedule: '@hourly', shell: ' '}\n", `job "a": shell: an empty script`},
		{"env on http", "jobs:\n  - {name: a, schedule: '@hourly', http: {url: 'http://h/'}, env: {A: b}}\n",
			`job "a": env: env is for command and shell targets, not http`},
		{"reserved env", "jobs:\n  - {name: a, schedule: '@hourly', command: [x], env: {JOB_TERM: '1'}}\n",
			`job "a": env.JOB_TERM: set by every run`},
		{"bad env name", "jobs:\n  - {name: a, schedule: '@hourly', command: [x], env: {A-B: '1'}}\n", `job "a": env.A-B: not a variable name`},
		{"reserved header", "jobs:\n  - {name: a, schedule: '@hourly', http: {url: 'http://h/', headers: {idempotency-key: k}}}\n",
			`job "a": http.headers.idempotency-key: set by every request`},
		{"header value with a line break", "jobs:\n  - {name: a, schedule: '@hourly', http: {url: 'http://h/', headers: {X-A: '${MULTILINE}'}}}\n",
			`job "a": http.headers.X-A: its value (not shown) has a character a header cannot carry`},
		{"bad url", "jobs:\n  - {name: a, schedule: '@hourly', http: {url: 'ftp://h/'}}\n", `job "a": http.url: want an http:// or https:// URL`},
		{"no url", "jobs:\n  - {name: a, schedule: '@hourly', http: {method: GET}}\n", `job "a": http: no url`},
		{"bad method", "jobs:\n  - {name: a, schedule: '@hourly', http: {url: 'http://h/', method: 'GE T'}}\n", `job "a": http.method: "GE T": want a method`},
		{"bad success", "jobs:\n  - {name: a, schedule: '@hourly', http: {url: 'http://h/', success: [200, 700]}}\n",
			`job "a": http.success[1]: 700: want an HTTP status, from 100 to 599`},
		{"bad overlap", "jobs:\n  - {name: a, schedule: '@hourly', command: [x], overlap: allow}\n",
			`job "a": overlap: "allow": want forbid, replace or buffer_one`},
		{"negative retries", "jobs:\n  - {name: a, schedule: '@hourly', command: [x], retries: -1}\n", `job "a": retries: -1: must be 0 or more`},
		{"retries not a number", "jobs:\n  - {name: a, schedule: '@hourly', command: [x], retries: two}\n", `job "a": retries: "two": want a whole number`},
		{"zero backoff", "jobs:\n  - {name: a, schedule: '@hourly', command: [x], retry_backoff: 0s}\n", `job "a": retry_backoff: 0s: must be more than 0`},
		{"negative deadline", "jobs:\n  - {name: a, schedule: '@hourly', command: [x], starting_deadline: -1s}\n", `job "a": starting_deadline: -1s: must be 0`},
		{"timeout without a unit", "jobs:\n  - {name: a, schedule: '@hourly', command: [x], timeout: 30}\n",
			`job "a": timeout: "30": want a duration such as 30s`},
		{"zero timeout", "jobs:\n  - {name: a, schedule: '@hourly', command: [x], timeout: 0s}\n", `job "a": timeout: 0s: must be more than 0`},
		{"unquoted cron", "jobs:\n  - name: a\n    schedule: */5 * * * *\n    command: [x]\n",
			`jobs.yaml:3:15: YAML: `},
		{"empty file", "", `jobs.yaml:1:1: the file is empty`},
		{"no jobs", "{}\n", `jobs.yaml:1:1: no jobs: list`},
		{"jobs not a list", "jobs: {a: 1}\n", `jobs.yaml:1:7: jobs: want a list of jobs, not a map`},
		{"a job not a map", "jobs:\n  - backup\n", `jobs.yaml:2:5: job #1: want a job: a map with name, schedule and one target`},
		{"top not a map", "- a\n", `jobs.yaml:1:1: want a map with a jobs: list at the top, not a list`},
		{"two documents", "jobs: []\n---\njobs: []\n", `jobs.yaml:2:1: a second YAML document`},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse("jobs.yaml", []byte(c.yaml), options())
			var es Errors
			if !errors.As(err, &es) || !errors.Is(err, ErrInvalid) {
				t.Fatalf("%v; want Errors", err)
			}
			if len(es) != 1 || !strings.Contains(es[0].Error(), c.want) {
				t.Fatalf("errors:\n%v\nwant one, containing %q", err, c.want)
			}
			for _, secret := range []string{"pgsecret", "hooksecret"} {
				if strings.Contains(err.Error(), secret) {
					t.Fatalf("the error shows a secret: %v", err)
				}
			}
		})
	}
}

// TestParseCollectsEveryError: one load reports every mistake of the file,
// in the file's order, and no job of a file with mistakes.
func TestParseCollectsEveryError(t *testing.T) {
	yaml := `jobs:
  - name: a
    schedule: "bad"
    command: ["${NOPE}"]
  - name: b
    schedule: "@hourly"
  - name: a
    schedule: "@hourly"
    shell: "true"
    overlap: sometimes
`
	set, err := Parse("dir/jobs.yaml", []byte(yaml), options())
	var es Errors
	if !errors.As(err, &es) || len(set.Jobs) != 0 {
		t.Fatalf("%v, %d jobs", err, len(set.Jobs))
	}
	want := []string{
		`dir/jobs.yaml:3:15: job "a": schedule: bad schedule "bad"`,
		`dir/jobs.yaml:4:15: job "a": command[0]: ${NOPE}: NOPE is not set`,
		`dir/jobs.yaml:5:5: job "b": no target`,
		`dir/jobs.yaml:7:11: job "a": name: defined twice (first at line 2)`,
		`dir/jobs.yaml:10:14: job "a": overlap: "sometimes": want forbid, replace or buffer_one`,
	}
	if len(es) != len(want) {
		t.Fatalf("%d errors:\n%v\nwant %d", len(es), err, len(want))
	}
	for i, w := range want {
		if !strings.HasPrefix(es[i].Error(), w) {
			t.Errorf("error %d: %s\nwant %s...", i, es[i], w)
		}
	}
}

func TestLoad(t *testing.T) {
	if _, err := Load("/no/such/jobs.yaml", options()); err == nil || !strings.Contains(err.Error(), "/no/such/jobs.yaml") {
		t.Fatalf("%v; want an error naming the file", err)
	}
	if _, err := Parse("jobs.yaml", []byte(good), Options{}); err == nil {
		t.Fatal("no ParseSchedule: accepted")
	}
}

// TestDescribeHidesSecrets: env and header values, the body and a URL's
// password never show; ${VAR} shows as written.
func TestDescribeHidesSecrets(t *testing.T) {
	set, err := Parse("jobs.yaml", []byte(good+`  - name: literal
    schedule: "@hourly"
    http:
      url: https://user:urlsecret@h/x
      headers: {Authorization: literalsecret}
      body: bodysecret
`), options())
	if err != nil {
		t.Fatal(err)
	}
	var all strings.Builder
	for _, j := range set.Jobs {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
			fmt.Fprintf(&all, verb+"\n", j)
		}
		fmt.Fprintln(&all, j.Describe())
	}
	for _, secret := range []string{"pgsecret", "hooksecret", "hooks.example.com", "urlsecret", "literalsecret", "bodysecret"} {
		if strings.Contains(all.String(), secret) {
			t.Errorf("a description shows %q:\n%s", secret, all.String())
		}
	}
	want := []string{
		`backup: schedule "0 3 * * *"; command ["pg_dump", "--dbname", "${DB_URL}", "--file", "/backups/$$today.sql"]; env PGAPPNAME, PGPASSWORD (values hidden); dir "/backups"; timeout 10m0s; overlap buffer_one; retries 2 (backoff 1s, doubling)`,
		`report: schedule "@every 1m"; http PUT https://${HOOK_HOST}/report?full=1; headers Authorization (values hidden); body of 15 bytes; success [200 202]; overlap forbid; starting deadline 30s`,
		`cleanup: schedule "*/5 * * * *"; shell "find /tmp -mtime +1 -delete; echo \"$HOME\""; overlap forbid`,
		`literal: schedule "@hourly"; http POST https://user:xxxxx@h/x; headers Authorization (values hidden); body of 10 bytes; overlap forbid`,
	}
	for i, w := range want {
		if got := set.Jobs[i].Describe(); got != w {
			t.Errorf("Describe:\n got %s\nwant %s", got, w)
		}
	}
}

// TestHash: replicas agree when the definitions agree, whatever the layout
// and the environment's values; any change of a definition changes it.
func TestHash(t *testing.T) {
	load := func(yaml string, env map[string]string) Set {
		t.Helper()
		o := options()
		o.Getenv = func(k string) string { return env[k] }
		set, err := Parse("jobs.yaml", []byte(yaml), o)
		if err != nil {
			t.Fatal(err)
		}
		return set
	}
	base := load(good, env)
	same := map[string]string{
		"reordered, reformatted, defaults written out": `jobs:
- name: cleanup
  schedule: "*/5 * * * *"
  shell: find /tmp -mtime +1 -delete; echo "$HOME"
  overlap: forbid # the default
- {name: report, schedule: "@every 1m", starting_deadline: 30s, retry_backoff: 5s, http: {method: PUT, url: "https://${HOOK_HOST}/report?full=1", headers: {Authorization: "Bearer ${HOOK_TOKEN}"}, body: '{"tick": "now"}', success: [200, 202]}}
- name: backup
  schedule: 0 3 * * *
  command: [pg_dump, --dbname, "${DB_URL}", --file, /backups/$$today.sql]
  env: {PGAPPNAME: backup, PGPASSWORD: "${PGPASSWORD}"}
  dir: /backups
  timeout: 600s
  retries: 2
  retry_backoff: 1s
  overlap: buffer_one
`,
	}
	for why, yaml := range same {
		if h := load(yaml, env).Hash(); h != base.Hash() {
			t.Errorf("%s: hash %s, want %s", why, h, base.Hash())
		}
	}
	otherSecrets := map[string]string{}
	for k, v := range env {
		otherSecrets[k] = v + "-rotated"
	}
	if h := load(good, otherSecrets).Hash(); h != base.Hash() {
		t.Error("other values in the environment changed the hash")
	}
	for _, change := range [][2]string{
		{"timeout: 10m", "timeout: 11m"}, {"retries: 2", "retries: 3"}, {"PGAPPNAME: backup", "PGAPPNAME: backup2"},
		{"method: put", "method: post"}, {"success: [200, 202]", "success: [200]"}, {"- name: cleanup", "- name: cleanup2"},
		{"\"*/5 * * * *\"", "\"*/6 * * * *\""}, {"starting_deadline: 30s", "starting_deadline: 0s"},
	} {
		changed := strings.Replace(good, change[0], change[1], 1)
		if changed == good {
			t.Fatalf("%q is not in the file", change[0])
		}
		if load(changed, env).Hash() == base.Hash() {
			t.Errorf("%s → %s: the hash did not change", change[0], change[1])
		}
	}
	if base.Jobs[0].Hash() == base.Jobs[1].Hash() || len(base.Hash()) != 64 {
		t.Error("job hashes collide, or the set's is not hex SHA-256")
	}
}

// TestJobRuns: a loaded job runs its target.
func TestJobRuns(t *testing.T) {
	set, err := Parse("jobs.yaml", []byte("jobs:\n  - {name: a, schedule: '@hourly', command: [/bin/sh, -c, 'exit 3']}\n"), options())
	if err != nil {
		t.Fatal(err)
	}
	res, err := set.Jobs[0].Run(t.Context(), target.Invocation{Job: "a", Tick: time.Now()})
	if res.Status != "exit 3" || !errors.Is(err, target.ErrFailed) {
		t.Fatalf("%+v, %v", res, err)
	}
}
