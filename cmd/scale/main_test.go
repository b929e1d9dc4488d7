package main

import (
	"bytes"
	"context"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestMain lets the test binary be the emulator child: the scale run
// re-executes os.Executable(), which is this binary, with -role=emulator.
func TestMain(m *testing.M) {
	if slices.Contains(os.Args[1:], "-role=emulator") {
		main()
		return
	}
	os.Exit(m.Run())
}

func TestScaleRun(t *testing.T) {
	if testing.Short() {
		t.Skip("runs for several seconds")
	}
	var out, errs bytes.Buffer
	if err := run(context.Background(), []string{"-jobs", "5", "-duration", "4s", "-nodes", "2"}, &out, &errs); err != nil {
		t.Fatalf("run: %v\nstderr:\n%s", err, errs.String())
	}
	t.Logf("stdout:\n%s\nstderr:\n%s", out.String(), errs.String())
	// The first table's row for 5 jobs: jobs, nodes, job-ticks judged, runs twice, missed.
	row := regexp.MustCompile(`(?m)^\| 5 \| 2 \| (\d+) \| (\d+) \| (\d+) \|`).FindStringSubmatch(out.String())
	if row == nil {
		t.Fatalf("no table row for 5 jobs × 2 nodes in the output")
	}
	if !strings.Contains(out.String(), "| jobs | nodes | job-ticks judged | runs twice | missed ticks |") {
		t.Errorf("no table header in the output")
	}
	if row[1] == "0" {
		t.Errorf("no job-ticks judged")
	}
	if row[2] != "0" {
		t.Errorf("runs twice = %s, want 0", row[2])
	}
}

func TestProcCPU(t *testing.T) {
	if _, err := procCPU("self"); err != nil {
		t.Fatal(err)
	}
	st, err := procStatus("self")
	if err != nil {
		t.Fatal(err)
	}
	if st["VmRSS"] <= 0 || st["VmHWM"] < st["VmRSS"] {
		t.Errorf("VmRSS %d, VmHWM %d", st["VmRSS"], st["VmHWM"])
	}
}

func TestParseFlags(t *testing.T) {
	var errs bytes.Buffer
	o, err := parseFlags([]string{"-idle"}, &errs)
	if err != nil || o.duration.Seconds() != 60 {
		t.Errorf("-idle: duration %s, err %v; want 60s", o.duration, err)
	}
	for _, bad := range [][]string{{"-jobs", "100,10"}, {"-jobs", "x"}, {"-nodes", "0"}, {"-idle-stores", "redis"}} {
		if _, err := parseFlags(bad, &errs); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}
