// Command go-leader-election runs scheduled jobs on replicated services: every
// tick of every job runs once, on one replica, by leases in a shared store.
// See README.md.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"go-leader-election/internal/procgroup"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == procgroup.SupervisorArg { // a job command's supervisor
		os.Exit(procgroup.SupervisorMain(os.Args[2:]))
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() {
		<-ctx.Done()
		stop() // a second signal now takes the default action: exit at once
	}()
	// The environment's names go in the context, for run's check of
	// misspelt variables; run itself never reads the process environment.
	ctx = withEnviron(ctx, os.Environ())
	if len(os.Args) == 1 { // the daemon: SIGHUP asks it to read its jobs file again
		reloads := make(chan os.Signal, 1)
		signal.Notify(reloads, syscall.SIGHUP)
		ctx = withReloads(ctx, reloads)
	}
	if err := run(ctx, os.Args, os.Getenv, os.Stdout, os.Stderr); err != nil {
		code := 1
		var exit interface{ ExitCode() int } // a command's own status (lock, leader)
		if errors.As(err, &exit) && exit.ExitCode() > 0 {
			code = exit.ExitCode()
		}
		if err.Error() != "" {
			fmt.Fprintln(os.Stderr, "go-leader-election:", err)
		}
		os.Exit(code)
	}
}
