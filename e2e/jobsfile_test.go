//go:build linux

package e2e

import (
	"bufio"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"go-leader-election/internal/procgroup"
	"go-leader-election/internal/procgroup/proctest"
	"go-leader-election/internal/target"
)

// TestValidateBuiltBinary: validate exits 2 naming FILE:LINE:COLUMN for a
// broken file, 0 for a good one.
func TestValidateBuiltBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("e2e")
	}
	dir := t.TempDir()
	broken := filepath.Join(dir, "broken.yaml")
	good := filepath.Join(dir, "good.yaml")
	if err := os.WriteFile(broken, []byte("jobs:\n  - name: a\n    schedule: \"@hourly\"\n    comand: [true]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(good, []byte("jobs:\n  - name: a\n    schedule: \"@hourly\"\n    command: [\"true\"]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(binary, "validate", broken).CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 2 || !strings.Contains(string(out), "\n"+broken+`:4:5: job "a": unknown field "comand"`) {
		t.Fatalf("validate of a broken file: %v\n%s", err, out)
	}
	cmd := exec.Command(binary, "validate")
	cmd.Env = append(os.Environ(), "JOBS_FILE="+good)
	if out, err := cmd.CombinedOutput(); err != nil || !strings.Contains(string(out), "next ticks: ") {
		t.Fatalf("validate of a good file: %v\n%s", err, out)
	}
}

// TestBuiltBinaryRefusesABrokenJobsFile: the daemon with a broken
// JOBS_FILE stops before it starts anything (no log line, no port), with
// every mistake as FILE:LINE:COLUMN, as validate reports them.
func TestBuiltBinaryRefusesABrokenJobsFile(t *testing.T) {
	if testing.Short() {
		t.Skip("e2e")
	}
	broken := filepath.Join(t.TempDir(), "broken.yaml")
	body := "jobs:\n  - name: a\n    schedule: \"@hourly\"\n    comand: [true]\n  - name: b\n    schedule: \"every day\"\n    shell: \"true\"\n"
	if err := os.WriteFile(broken, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(binary)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "JOBS_FILE=" + broken, "APP_PORT=0", "LOG_FORMAT=json"}
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 2 {
		t.Fatalf("the daemon with a broken JOBS_FILE: %v, want exit status 2, as validate's\n%s", err, stderr.String())
	}
	for _, want := range []string{broken + `:4:5: job "a": unknown field "comand"`, broken + `:6:15: job "b": schedule`} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("stderr does not name %q:\n%s", want, stderr.String())
		}
	}
	if stdout.Len() != 0 {
		t.Errorf("the daemon logged before it stopped:\n%s", stdout.String())
	}
}

// TestBuiltBinarySupervisesAGroup: the built binary, as the supervisor of
// commands, kills each command's whole group when its socket to the daemon
// ends, as it does when the daemon dies (the kernel closes it then):
// sh -c 'sleep 30 & ...; wait' leaves no sleep behind.
func TestBuiltBinarySupervisesAGroup(t *testing.T) {
	if testing.Short() {
		t.Skip("e2e")
	}
	sup, err := procgroup.NewSupervisor(binary)
	if err != nil {
		t.Fatal(err)
	}
	defer sup.Close()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	p, err := sup.Start(procgroup.Spec{Argv: []string{"/bin/sh", "-c", "sleep 30 & echo $$; wait"}, Stdout: w})
	w.Close()
	if err != nil {
		t.Fatal(err)
	}
	pgid := p.Pid()
	t.Cleanup(func() { _ = syscall.Kill(-pgid, syscall.SIGKILL) })
	line, _ := bufio.NewReader(r).ReadString('\n')
	if line != strconv.Itoa(pgid)+"\n" || len(proctest.Group(pgid)) < 2 {
		t.Fatalf("the command said %q, group %d has %v; want its id, sh and sleep", line, pgid, proctest.Group(pgid))
	}
	if err := sup.Close(); err != nil {
		t.Fatal(err)
	}
	proctest.WaitGroupGone(t, pgid, 10*time.Second)
	if st, err := p.Wait(); err != nil || st.String() != "signal: killed" {
		t.Fatalf("%v, %v; want killed", st, err)
	}
}

// BenchmarkBuiltBinarySupervisedStart measures the time from the call to a
// command's first output line with the built daemon as its supervisor
// (started once, before), against the same command started directly.
func BenchmarkBuiltBinarySupervisedStart(b *testing.B) {
	if testing.Short() {
		b.Skip("e2e")
	}
	sup, err := procgroup.NewSupervisor(binary)
	if err != nil {
		b.Fatal(err)
	}
	defer sup.Close()
	for _, c := range []struct {
		name       string
		supervisor *procgroup.Supervisor
	}{{"supervised", sup}, {"direct", nil}} {
		b.Run(c.name, func(b *testing.B) {
			cmd := target.Command{Argv: []string{"/bin/echo", "started"}, Supervisor: c.supervisor}
			lat := make([]time.Duration, 0, b.N)
			for b.Loop() {
				var first time.Duration
				start := time.Now()
				inv := target.Invocation{Job: "bench", Tick: start, Output: func(_, _ string) {
					if first == 0 {
						first = time.Since(start)
					}
				}}
				if _, err := cmd.Run(context.Background(), inv); err != nil {
					b.Fatal(err)
				}
				lat = append(lat, first)
			}
			slices.Sort(lat)
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "µs-p50-to-output")
			b.ReportMetric(float64(lat[min(len(lat)-1, len(lat)*99/100)].Microseconds()), "µs-p99-to-output")
		})
	}
}
