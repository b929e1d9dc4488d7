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

// TestScaleChurn runs the churn mode small and fast: 2 nodes, a third
// joins and node0 leaves; no tick runs twice and, at the end, no node leads
// more than its share.
func TestScaleChurn(t *testing.T) {
	if testing.Short() {
		t.Skip("runs for 12 seconds")
	}
	var out, errs bytes.Buffer
	args := []string{"-jobs", "6", "-duration", "12s", "-nodes", "2", "-churn", "-member-period", "500ms"}
	if err := run(context.Background(), args, &out, &errs); err != nil {
		t.Fatalf("run: %v\nstderr:\n%s", err, errs.String())
	}
	t.Logf("stdout:\n%s\nstderr:\n%s", out.String(), errs.String())
	row := regexp.MustCompile(`(?m)^\| 6 \| 2 \| (\d+) \| (\d+) \| (\d+) \|`).FindStringSubmatch(out.String())
	if row == nil {
		t.Fatalf("no table row for 6 jobs × 2 nodes in the output")
	}
	if row[1] == "0" || row[2] != "0" {
		t.Errorf("job-ticks judged %s, runs twice %s; want some, 0", row[1], row[2])
	}
	// The balance table: jobs, balance, nodes at the end, led per node, cap, within.
	bal := regexp.MustCompile(`(?m)^\| 6 \| on \| 2 \| node0 0, node1 \d, node2 \d \| 3 \| (yes|no) \|.*node2 joined at 4 s; node0 left at 8 s`).FindStringSubmatch(out.String())
	if bal == nil {
		t.Fatalf("no balance row for 6 jobs with node2 joining and node0 leaving")
	}
	if bal[1] != "yes" {
		t.Errorf("a node leads more than ceil(6/2) jobs at the end")
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
	if o, err := parseFlags([]string{"-churn"}, &errs); err != nil || o.duration.Seconds() != 60 || !o.balance {
		t.Errorf("-churn: duration %s, balance %v, err %v; want 60s, true", o.duration, o.balance, err)
	}
	if o, err := parseFlags([]string{"-balance=false"}, &errs); err != nil || o.balance || o.duration.Seconds() != 30 {
		t.Errorf("-balance=false: balance %v, duration %s, err %v; want false, 30s", o.balance, o.duration, err)
	}
	for _, bad := range [][]string{{"-jobs", "100,10"}, {"-jobs", "x"}, {"-nodes", "0"}, {"-idle-stores", "redis"},
		{"-churn", "-idle"}, {"-churn", "-duration", "5s"}, {"-member-period", "10ms"}} {
		if _, err := parseFlags(bad, &errs); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}
