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

// TestBuiltBinarySupervisesAGroup: the built binary, run as a command's
// supervisor, kills the command's whole group when its control pipe closes,
// as the kernel closes it when the daemon dies: sh -c 'sleep 30 & ...; wait'
// leaves no sleep behind.
func TestBuiltBinarySupervisesAGroup(t *testing.T) {
	if testing.Short() {
		t.Skip("e2e")
	}
	ctrlR, ctrlW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	statR, statW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	sup := exec.Command(binary, procgroup.SupervisorArg, "--", "/bin/sh", "-c", "sleep 30 & echo $$; wait")
	stdout, err := sup.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	sup.Stdin, sup.ExtraFiles = ctrlR, []*os.File{statW}
	if err := sup.Start(); err != nil {
		t.Fatal(err)
	}
	ctrlR.Close()
	statW.Close()
	status := bufio.NewReader(statR)
	started, _ := status.ReadString('\n')
	line, _ := bufio.NewReader(stdout).ReadString('\n')
	pgid, err := strconv.Atoi(strings.TrimSpace(line))
	if err != nil || started != "started "+strconv.Itoa(pgid)+"\n" {
		t.Fatalf("the supervisor said %q, the command %q", started, line)
	}
	t.Cleanup(func() { _ = syscall.Kill(-pgid, syscall.SIGKILL) })
	if len(proctest.Group(pgid)) < 2 {
		t.Fatalf("group %d: %v, want sh and sleep", pgid, proctest.Group(pgid))
	}
	ctrlW.Close()
	proctest.WaitGroupGone(t, pgid, 10*time.Second)
	if final, _ := status.ReadString('\n'); final != "signal 9\n" {
		t.Fatalf("final status %q, want signal 9 (SIGKILL)", final)
	}
	if err := sup.Wait(); err != nil {
		t.Fatalf("the supervisor: %v", err)
	}
}

// BenchmarkBuiltBinarySupervisedStart measures the time from the call to a
// command's first output line with the built daemon as its supervisor (its
// own start, package initialisation included, is the cost), against the
// same command started directly.
func BenchmarkBuiltBinarySupervisedStart(b *testing.B) {
	if testing.Short() {
		b.Skip("e2e")
	}
	for _, c := range []struct{ name, supervisor string }{{"supervised", binary}, {"direct", ""}} {
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
