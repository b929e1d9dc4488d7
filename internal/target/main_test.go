package target

import (
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
	os.Exit(m.Run())
}
