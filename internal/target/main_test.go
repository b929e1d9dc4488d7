package target

import (
	"fmt"
	"os"
	"testing"

	"go-leader-election/internal/procgroup"
)

// TestMain lets the test binary be the supervisor of the commands it runs,
// as the daemon is, and the daemon a kill -9 test kills (helper_test.go).
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == procgroup.SupervisorArg {
		os.Exit(procgroup.SupervisorMain(os.Args[2:]))
	}
	if mode := os.Getenv(helperEnv); mode != "" {
		os.Exit(runHelper(mode))
	}
	// Spares each supervisor (this test binary, maybe built with -race) the
	// race detector's 1s sleep at exit.
	os.Setenv("GORACE", "atexit_sleep_ms=0")
	sup, err := procgroup.NewSupervisor(procgroup.Self())
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	supervisor = sup
	code := m.Run()
	sup.Close()
	os.Exit(code)
}

// supervisor serves the tests' supervised commands, as the daemon's serves
// its jobs'.
var supervisor *procgroup.Supervisor
