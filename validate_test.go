package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// writeFile writes a jobs file for a test and returns its path.
func writeFile(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "jobs.yaml")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

const validJobs = `jobs:
  - name: backup
    schedule: "0 3 * * *"
    command: [pg_dump, "${DB_URL}"]
    env: {PGPASSWORD: "${PGPASSWORD}"}
  - name: report
    schedule: "@every 1m"
    http:
      url: https://hooks.example.com/report
      headers: {Authorization: "Bearer ${TOKEN}"}
`

var validateEnv = map[string]string{"DB_URL": "postgres://db/prod", "PGPASSWORD": "pgsecret", "TOKEN": "tokensecret"}

func TestValidateGoodFile(t *testing.T) {
	path := writeFile(t, validJobs)
	for _, args := range [][]string{{path}, {}} { // the argument, or JOBS_FILE
		env := map[string]string{"JOBS_FILE": path}
		for k, v := range validateEnv {
			env[k] = v
		}
		var out, errs bytes.Buffer
		before := time.Now()
		if err := runValidate(context.Background(), args, func(k string) string { return env[k] }, &out, &errs); err != nil {
			t.Fatalf("%q: %v\n%s", args, err, errs.String())
		}
		got := out.String()
		for _, want := range []string{path + ": 2 jobs; the environment's configuration is valid", `backup: schedule "0 3 * * *"; command ["pg_dump", "${DB_URL}"]; env PGPASSWORD (values hidden)`,
			"report: schedule \"@every 1m\"; http POST https://hooks.example.com/report; headers Authorization (values hidden)"} {
			if !strings.Contains(got, want) {
				t.Errorf("validate printed:\n%s\nwant %s", got, want)
			}
		}
		for _, secret := range []string{"pgsecret", "tokensecret", "postgres://db/prod"} {
			if strings.Contains(got, secret) {
				t.Errorf("validate shows %s:\n%s", secret, got)
			}
		}
		ticks := regexp.MustCompile(`(?m)^  next ticks: (\S+), (\S+), (\S+)$`).FindAllStringSubmatch(got, -1)
		if len(ticks) != 2 {
			t.Fatalf("want 3 ticks for each of 2 jobs:\n%s", got)
		}
		for _, m := range ticks {
			prev := before
			for _, s := range m[1:] {
				tick, err := time.Parse(time.RFC3339, strings.TrimSuffix(s, ","))
				if err != nil || !tick.After(prev) {
					t.Errorf("tick %s (%v) does not follow %s", s, err, prev)
				}
				prev = tick
			}
		}
	}
}

// TestValidateReportsEveryMistake: the file's mistakes at FILE:LINE:COLUMN
// and the environment's, all of them, with exit status 2.
func TestValidateReportsEveryMistake(t *testing.T) {
	path := writeFile(t, `jobs:
  - name: backup
    schedule: "0 3 * * *"
    command: [pg_dump]
    http: {url: "https://h/"}
  - name: report
    schedule: "every day"
    shell: "${NOPE}"
    colour: blue
`)
	env := map[string]string{"APP_PORT": "80x"}
	err := runValidate(context.Background(), []string{path}, func(k string) string { return env[k] }, &bytes.Buffer{}, &bytes.Buffer{})
	var exit interface{ ExitCode() int }
	if !errors.As(err, &exit) || exit.ExitCode() != 2 {
		t.Fatalf("%v; want exit status 2", err)
	}
	want := []string{
		"validate: 4 mistakes:",
		`environment: APP_PORT: bad value "80x"`,
		path + `:5:5: job "backup": http: a second target (command and http)`,
		path + `:7:15: job "report": schedule: bad schedule "every day"`,
		path + `:9:5: job "report": unknown field "colour"`,
	}
	lines := strings.Split(err.Error(), "\n")
	if len(lines) != len(want) {
		t.Fatalf("%d lines:\n%v\nwant %d", len(lines), err, len(want))
	}
	for i, w := range want {
		if !strings.HasPrefix(lines[i], w) {
			t.Errorf("line %d: %s\nwant %s...", i, lines[i], w)
		}
	}
}

func TestValidateUsage(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{nil, "no jobs file: give FILE, or set JOBS_FILE"},
		{[]string{"a.yaml", "b.yaml"}, "want at most one FILE"},
		{[]string{"--bogus"}, "flag provided but not defined"},
		{[]string{"/no/such/jobs.yaml"}, "/no/such/jobs.yaml"},
	} {
		err := runValidate(context.Background(), c.args, noEnv, &bytes.Buffer{}, &bytes.Buffer{})
		var exit interface{ ExitCode() int }
		if !errors.As(err, &exit) || exit.ExitCode() != 2 || !strings.Contains(err.Error(), c.want) {
			t.Errorf("validate %q: %v; want exit 2 saying %q", c.args, err, c.want)
		}
	}
	var errs bytes.Buffer
	if err := runValidate(context.Background(), []string{"-h"}, noEnv, &bytes.Buffer{}, &errs); err != nil || !strings.Contains(errs.String(), "Usage: go-leader-election validate [FILE]") {
		t.Errorf("validate -h: %v, %q", err, errs.String())
	}
	var out bytes.Buffer
	if err := run(context.Background(), []string{"go-leader-election", "help"}, noEnv, &out, &bytes.Buffer{}); err != nil || !strings.Contains(out.String(), "go-leader-election validate") {
		t.Errorf("help does not list validate: %v\n%s", err, out.String())
	}
}
