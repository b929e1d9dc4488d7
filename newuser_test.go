package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"regexp"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
	"time"

	"go-leader-election/emulator"
	"go-leader-election/internal/electioncmd"
)

// What a new user trips over (issue 14): help, version, typos, bad store
// addresses, log noise.

func TestHelp(t *testing.T) {
	names, _ := readmeVariables(t)
	for _, arg := range []string{"help", "-h", "--help", "-help"} {
		var out, errs bytes.Buffer
		if err := run(context.Background(), []string{"go-leader-election", arg}, noEnv, &out, &errs); err != nil {
			t.Fatalf("%s: %v", arg, err)
		}
		help := out.String()
		for _, want := range []string{"emulator", "version", "help", "README.md", `"Configuration"`, "Ctrl-C"} {
			if !strings.Contains(help, want) {
				t.Errorf("%s: the help does not mention %s:\n%s", arg, want, help)
			}
		}
		for _, c := range electioncmd.Commands() { // listed in help, and run by run
			if !strings.Contains(help, "go-leader-election "+c.Name+" ") || !strings.Contains(help, c.Summary) ||
				electioncmd.Lookup(c.Name) == nil {
				t.Errorf("%s: the help does not list the %s command with its summary, or run cannot run it", arg, c.Name)
			}
		}
		for _, v := range append(names, "GO_PREACHER_SCHEDULE") {
			if !regexp.MustCompile(`\b` + v + `\b`).MatchString(help) {
				t.Errorf("%s: the help does not list %s, which README.md's table has", arg, v)
			}
		}
		if errs.Len() != 0 {
			t.Errorf("%s wrote to stderr: %q", arg, errs.String())
		}
	}
	err := run(context.Background(), []string{"go-leader-election", "serv"}, noEnv, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), `"serv"`) || !strings.Contains(err.Error(), "help") {
		t.Errorf("an unknown command: %v, want an error naming it and pointing to help", err)
	}
}

func TestVersion(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), []string{"go-leader-election", "version"}, noEnv, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	if line := out.String(); !strings.HasPrefix(line, "go-leader-election ") || !strings.Contains(line, runtime.Version()) ||
		strings.Count(line, "\n") != 1 {
		t.Errorf("version: %q, want one line with the module version and %s", line, runtime.Version())
	}

	bi := &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: "go-leader-election", Version: "v1.4.0"},
		Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "2af75c6e01f7b6749115fbc01b16b1dfe9c45942"},
			{Key: "vcs.time", Value: "2026-12-01T12:30:54Z"}, {Key: "vcs.modified", Value: "true"}}}
	line := versionLine(bi, true)
	for _, want := range []string{"v1.4.0", "revision 2af75c6e01f7b6749115fbc01b16b1dfe9c45942", "2026-12-01T12:30:54Z", "modified", "go1.26.8"} {
		if !strings.Contains(line, want) {
			t.Errorf("versionLine = %q, want it to contain %q", line, want)
		}
	}
	if line := versionLine(nil, false); !strings.Contains(line, "no build information") {
		t.Errorf("versionLine without build info = %q", line)
	}
}

// badValues has, for every variable in README.md's Configuration table, a
// value the daemon must refuse before anything starts.
var badValues = map[string]string{
	"APP_PORT":                "80x",
	"APP_STAGE":               "prod\x1b[2J",
	"LOG_FORMAT":              "text",
	"LOG_LEVEL":               "verbose",
	"NODE_NAME":               "my laptop",
	"STORE":                   "redis",
	"DATASTORE_PROJECT_ID":    "My Project",
	"GOOGLE_CLOUD_PROJECT":    "My_Project",
	"DATASTORE_EMULATOR_HOST": "http://localhost:8081",
	"DATASTORE_DATABASE":      "Prod DB",
	"DATASTORE_NAMESPACE":     "prod/eu",
	"DATASTORE_KIND":          "__Lease__",
	"GO_PREACHER_SCHEDULE":    "every tuesday-ish", // for <JOB>_SCHEDULE
	"PREACHER_TIMES":          "-1",
	"PREACHER_PAUSE":          "1 second",
	"SHUTDOWN_TIMEOUT":        "-5s",
	"LEASE_GRACE":             "0",
	"LEASE_DURATION":          "2s", // not above RENEW_DEADLINE (2s)
	"RENEW_DEADLINE":          "1m",
	"RETRY_PERIOD":            "0s",
	"FOLLOWER_DELAY":          "soon",
	"STORE_TIMEOUT":           "30s",
	"CLOCK_OFFSET":            "+-1s",
	"BALANCE":                 "maybe",
	"MEMBER_PERIOD":           "100ms",
	"HISTORY_LIMIT":           "501",
	"ADMIN_TOKEN":             "short",
	"JOBS_FILE":               "/nonexistent/jobs.yaml",
	"DEMO_JOBS":               "maybe",
	"DATABASE_URL":            "postgres://app:s3cret@db:99999/app", // the port; the password is never shown
	"POSTGRES_SCHEMA":         "Jobs",
}

// TestEveryBadValueStopsTheDaemonBeforeAnythingStarts: README.md promises
// that a bad value stops the daemon before anything starts, with a message
// naming the variable and the value. It must hold for every variable the
// table lists.
func TestEveryBadValueStopsTheDaemonBeforeAnythingStarts(t *testing.T) {
	names, patterns := readmeVariables(t)
	for _, p := range patterns {
		if !p.MatchString("GO_PREACHER_SCHEDULE") {
			t.Errorf("README.md's table has a templated variable %s that the test does not cover", p)
		}
	}
	for _, name := range names {
		if _, ok := badValues[name]; !ok {
			t.Errorf("README.md's table lists %s; add a bad value for it to badValues", name)
		}
	}
	for name, value := range badValues {
		t.Run(name, func(t *testing.T) {
			env := map[string]string{name: value, "APP_PORT": "0"}
			if name == "APP_PORT" {
				env["APP_PORT"] = value
			}
			var out, errs bytes.Buffer
			err := run(context.Background(), []string{"go-leader-election"}, func(k string) string { return env[k] }, &out, &errs)
			if err == nil {
				t.Fatalf("%s=%q: the daemon started", name, value)
			}
			switch {
			case name == "ADMIN_TOKEN": // a secret: named, never echoed
				if !strings.Contains(err.Error(), name) || strings.Contains(err.Error(), value) {
					t.Errorf("%s: %q, want it to name the variable and not repeat the secret", name, err)
				}
			case name == "DATABASE_URL": // named, shown without its password
				if !strings.Contains(err.Error(), `"postgres://app:xxxxx@db:99999/app"`) || strings.Contains(err.Error(), "s3cret") {
					t.Errorf("%s: %q, want it to name the variable and show the value without the password", name, err)
				}
			case !strings.Contains(err.Error(), name) || !strings.Contains(err.Error(), strconv.Quote(value)) &&
				!strings.Contains(err.Error(), value):
				t.Errorf("%s=%q: %q, want it to name the variable and the value", name, value, err)
			}
			if out.Len() != 0 || errs.Len() != 0 {
				t.Errorf("%s=%q: the daemon wrote before stopping:\n%s%s", name, value, out.String(), errs.String())
			}
		})
	}
}

func TestMisspeltVariableStopsTheDaemon(t *testing.T) {
	env := map[string]string{"GO_PREACHR_SCHEDULE": "@every 1s", "APP_PORT": "0"}
	ctx := withEnviron(context.Background(), []string{"GO_PREACHR_SCHEDULE=@every 1s", "APP_PORT=0", "PATH=/bin"})
	var out bytes.Buffer
	err := run(ctx, []string{"go-leader-election"}, func(k string) string { return env[k] }, &out, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "GO_PREACHR_SCHEDULE") || !strings.Contains(err.Error(), "did you mean GO_PREACHER_SCHEDULE") {
		t.Fatalf("run with GO_PREACHR_SCHEDULE set: %v, want an error naming it, with did you mean GO_PREACHER_SCHEDULE", err)
	}
	if out.Len() != 0 {
		t.Errorf("the daemon wrote before stopping: %s", out.String())
	}
}

func TestEmulatorHostAloneSaysWhyDatastore(t *testing.T) {
	env := map[string]string{"DATASTORE_EMULATOR_HOST": "localhost:8081"}
	err := run(context.Background(), []string{"go-leader-election"}, func(k string) string { return env[k] }, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "DATASTORE_EMULATOR_HOST is set, so STORE=datastore") ||
		!strings.Contains(err.Error(), "DATASTORE_PROJECT_ID") {
		t.Errorf("only DATASTORE_EMULATOR_HOST set: %v, want an error saying it chose Datastore, which needs DATASTORE_PROJECT_ID", err)
	}
}

// TestUnreachableStoreIsNamed: with no store at DATASTORE_EMULATOR_HOST,
// readiness and the log name the address tried, and the outage is logged
// once, at warn, however many calls fail.
func TestUnreachableStoreIsNamed(t *testing.T) {
	addr := "127.0.0.1:" + strconv.Itoa(freePort(t))
	env := datastoreEnv(addr)
	env["LOG_LEVEL"] = "debug"
	d := startDaemon(t, env)

	// Four failed calls, from both jobs, at debug: the outage is logged.
	failed := 0
	d.out.waitFor(t, "four failed store calls", func(l string, ev event) bool {
		if ev.Message == "Store call failed" {
			if !strings.Contains(l, `"level":"debug"`) {
				t.Errorf("a failed call of a logged outage, not at debug: %s", l)
			}
			failed++
		}
		return failed >= 4
	})
	outages := 0
	for _, l := range d.out.snapshot() {
		var ev event
		_ = json.Unmarshal([]byte(l), &ev)
		if ev.Message == "Store unavailable" {
			outages++
			if !strings.Contains(l, `"level":"warn"`) || !strings.Contains(l, addr) || !strings.Contains(l, "DATASTORE_EMULATOR_HOST") {
				t.Errorf("Store unavailable: %s, want warn, naming %s and DATASTORE_EMULATOR_HOST", l, addr)
			}
		}
		if ev.Message == "Store selected" && !strings.Contains(l, `"address":"`+addr+`"`) {
			t.Errorf("Store selected: %s, want the address %s", l, addr)
		}
	}
	if outages != 1 {
		t.Errorf("%d Store unavailable events, want 1", outages)
	}

	resp, err := http.Get(d.base + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 503 || !strings.Contains(string(body), addr) || !strings.Contains(string(body), "DATASTORE_EMULATOR_HOST") {
		t.Errorf("/readyz: %d %q, want 503 naming %s and DATASTORE_EMULATOR_HOST", resp.StatusCode, body, addr)
	}
}

// TestLifecycleEvents: at start, one Scheduled event per job with its first
// tick; at shutdown, Shutting down before any Released, and Stopped last.
func TestLifecycleEvents(t *testing.T) {
	d := startDaemon(t, map[string]string{"NODE_NAME": "solo", "GO_PREACHER_SCHEDULE": "@every 1s",
		"SCALA_PREACHER_SCHEDULE": "@every 1s", "PREACHER_PAUSE": "1ms"})
	finished := map[string]bool{}
	d.out.waitFor(t, "a run of each job", func(_ string, ev event) bool {
		if ev.Message == "Finished" {
			finished[ev.Job] = true
		}
		return len(finished) == 2
	})
	if err := d.stop(); err != nil {
		t.Fatal(err)
	}

	all := d.out.snapshot()
	shuttingDown, released := -1, 0
	scheduled := map[string]time.Time{}
	firstRun := map[string]time.Time{}
	for i, l := range all {
		var ev struct {
			event
			FirstTick string `json:"first_tick"`
		}
		if json.Unmarshal([]byte(l), &ev) != nil {
			continue // a sermon
		}
		switch ev.Message {
		case "Scheduled":
			ft, err := time.Parse(time.RFC3339, ev.FirstTick)
			if err != nil || ft.Before(ev.Time.Truncate(time.Second)) || ft.Sub(ev.Time) > time.Second {
				t.Errorf("Scheduled: %s, want first_tick, RFC 3339, within the second after the event", l)
			}
			if _, dup := scheduled[ev.Job]; dup {
				t.Errorf("a second Scheduled event for %s", ev.Job)
			}
			scheduled[ev.Job] = ft
		case "Running":
			if _, ok := firstRun[ev.Job]; !ok {
				firstRun[ev.Job], _ = time.Parse(time.RFC3339, ev.Tick)
			}
		case "Released":
			released++
			if shuttingDown < 0 {
				t.Errorf("Released (line %d) before Shutting down:\n%s", i, strings.Join(all, "\n"))
			}
		}
		if strings.HasPrefix(ev.Message, "Shutting down") && shuttingDown < 0 {
			shuttingDown = i
		}
	}
	for job, run := range firstRun {
		if ft, ok := scheduled[job]; !ok || run.Before(ft) {
			t.Errorf("%s: first run at tick %s, Scheduled first_tick %s (logged: %v)", job, run, ft, ok)
		}
	}
	if len(scheduled) != 2 || released != 2 || shuttingDown < 0 {
		t.Errorf("%d Scheduled events, %d Released, Shutting down at line %d; want 2, 2 and a line", len(scheduled), released, shuttingDown)
	}
	var last event
	_ = json.Unmarshal([]byte(all[len(all)-1]), &last)
	if last.Message != "Stopped" {
		t.Errorf("last event %q, want Stopped", all[len(all)-1])
	}
}

// TestREADMEAgreesWithTheEmulator: the local cluster's exports in README.md
// are what the emulator prints with its defaults, and README.md tells a
// `go run .` user to stop it with Ctrl-C (a signal to the go command
// orphans the daemon, which keeps the port).
func TestREADMEAgreesWithTheEmulator(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	exports := regexp.MustCompile(`(?m)^export DATASTORE_EMULATOR_HOST=(\S+) DATASTORE_PROJECT_ID=(\S+)`).FindSubmatch(readme)
	if exports == nil {
		t.Fatal("README.md: no `export DATASTORE_EMULATOR_HOST=... DATASTORE_PROJECT_ID=...` line")
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"go-leader-election", "emulator", "--host-port=127.0.0.1:0"}, noEnv, pw, io.Discard)
		pw.Close()
	}()
	printed := map[string]string{}
	sc := bufio.NewScanner(pr)
	for len(printed) < 5 && sc.Scan() {
		k, v, _ := strings.Cut(strings.TrimPrefix(sc.Text(), "export "), "=")
		printed[k] = v
	}
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if printed["DATASTORE_PROJECT_ID"] != string(exports[2]) || emulator.DefaultProject != string(exports[2]) {
		t.Errorf("the emulator prints DATASTORE_PROJECT_ID=%s, README.md exports %s", printed["DATASTORE_PROJECT_ID"], exports[2])
	}
	if !bytes.Contains(readme, []byte("--host-port="+string(exports[1]))) {
		t.Errorf("README.md exports DATASTORE_EMULATOR_HOST=%s but starts the emulator elsewhere", exports[1])
	}

	runIt := readme[bytes.Index(readme, []byte("## Run it")):bytes.Index(readme, []byte("## Test it"))]
	if !bytes.Contains(runIt, []byte("Ctrl-C")) {
		t.Errorf("README.md's Run it section does not say to stop `go run .` with Ctrl-C:\n%s", runIt)
	}
}

func noEnv(string) string { return "" }

// snapshot returns every line so far.
func (l *lines) snapshot() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.all...)
}

// readmeVariables returns the variables README.md's Configuration table
// names, and patterns for the templated ones (<JOB>_SCHEDULE).
func readmeVariables(t *testing.T) (names []string, patterns []*regexp.Regexp) {
	t.Helper()
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	in := false
	for _, line := range strings.Split(string(readme), "\n") {
		if strings.HasPrefix(line, "#") {
			in = line == "## Configuration"
			continue
		}
		if !in || !strings.HasPrefix(line, "| `") {
			continue
		}
		for _, m := range regexp.MustCompile("`([^`]+)`").FindAllStringSubmatch(strings.Split(line, "|")[1], -1) {
			if strings.Contains(m[1], "<") {
				p := regexp.MustCompile(`<[^>]+>`).ReplaceAllString(regexp.QuoteMeta(m[1]), `[A-Z0-9_]+`)
				patterns = append(patterns, regexp.MustCompile("^"+p+"$"))
				continue
			}
			names = append(names, m[1])
		}
	}
	if len(names) < 10 {
		t.Fatalf("README.md: %d variables in the Configuration table (%v); has its layout changed?", len(names), names)
	}
	return names, patterns
}
