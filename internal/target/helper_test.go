package target

import (
	"context"
	"fmt"
	"os"
	"time"

	"go-leader-election/internal/procgroup"
)

// helperEnv makes the test binary a stand-in for the daemon: it runs one
// command target and prints its output, until it is killed.
const helperEnv = "TARGET_TEST_HELPER"

// runHelper runs a command that prints its process group's id and then
// waits on a background sleep, supervised or not (mode), as the daemon
// would run a job's command. The test kills this process with SIGKILL.
func runHelper(mode string) int {
	c := Command{Argv: []string{"/bin/sh", "-c", "sleep 30 & echo $$; wait"}}
	if mode == "supervised" {
		sup, err := procgroup.NewSupervisor(procgroup.Self())
		if err != nil {
			fmt.Fprintln(os.Stderr, "helper:", err)
			return 1
		}
		c.Supervisor = sup
	}
	_, err := c.Run(context.Background(), Invocation{Job: "helper", Tick: time.Now(), KillGrace: time.Second,
		Output: func(_, line string) { fmt.Println(line) }})
	fmt.Fprintln(os.Stderr, "helper: the command returned:", err)
	return 1
}
