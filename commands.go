package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"

	"go-leader-election/internal/config"
	"go-leader-election/internal/electioncmd"
	"go-leader-election/jobs"
)

// command is a subcommand as help lists it.
type command struct{ name, summary string }

// commands are the subcommands run knows, for help and for the error on
// an unknown one: the emulator, electioncmd's (its list is the one
// source), version and help. Without one, the program runs the daemon.
var commands = slices.Concat(
	[]command{{"emulator", "run the Datastore emulator (its flags: go-leader-election emulator -h)"}},
	electionCommands(),
	[]command{
		{"validate", "check a jobs file and this environment's settings, print each job's next ticks (go-leader-election validate -h)"},
		{"version", "print the module version and VCS revision"},
		{"help", "print this help (also -h, --help)"},
	},
)

func electionCommands() []command {
	var out []command
	for _, c := range electioncmd.Commands() {
		out = append(out, command{c.Name, c.Summary})
	}
	return out
}

func commandNames() string {
	names := make([]string, len(commands))
	for i, c := range commands {
		names[i] = c.name
	}
	return strings.Join(names, ", ")
}

// printHelp writes the usage: the commands, and where the settings are.
func printHelp(w io.Writer) {
	fmt.Fprint(w, `go-leader-election runs scheduled jobs on replicated services: every tick of
every job runs once, on one replica, by leases in a shared store.

Usage:
  go-leader-election             run the daemon
`)
	for _, c := range commands {
		fmt.Fprintf(w, "  go-leader-election %-11s %s\n", c.name, c.summary)
	}
	fmt.Fprint(w, `
The daemon takes no flags: its settings are environment variables, listed
with their defaults and meanings in README.md, section "Configuration" (log
events in "Log events", HTTP endpoints in "HTTP"). A bad value stops it
before anything starts. It reads:
`)
	line := " "
	for _, v := range config.Variables(jobNames(jobs.Builtin(jobs.Settings{}, true))...) {
		if len(line)+1+len(v) > 78 {
			fmt.Fprintln(w, line)
			line = " "
		}
		line += " " + v
	}
	fmt.Fprintln(w, line)
	fmt.Fprint(w, `
Stop it with Ctrl-C or SIGTERM: it lets running jobs finish, releases its
leases, and exits.
`)
}

// versionLine describes the build: the module version, the VCS revision
// and time, and the Go toolchain, from the build information.
func versionLine(bi *debug.BuildInfo, ok bool) string {
	platform := runtime.GOOS + "/" + runtime.GOARCH
	if !ok || bi == nil {
		return fmt.Sprintf("go-leader-election: no build information (%s %s)", runtime.Version(), platform)
	}
	version := bi.Main.Version
	if version == "" {
		version = "(unknown version)"
	}
	settings := map[string]string{}
	for _, s := range bi.Settings {
		settings[s.Key] = s.Value
	}
	var vcs []string
	if r := settings["vcs.revision"]; r != "" {
		vcs = append(vcs, "revision "+r)
	}
	if t := settings["vcs.time"]; t != "" {
		vcs = append(vcs, t)
	}
	if settings["vcs.modified"] == "true" {
		vcs = append(vcs, "modified")
	}
	if len(vcs) == 0 {
		vcs = append(vcs, "no VCS revision")
	}
	goVersion := bi.GoVersion
	if goVersion == "" {
		goVersion = runtime.Version()
	}
	return fmt.Sprintf("go-leader-election %s (%s), %s %s", version, strings.Join(vcs, ", "), goVersion, platform)
}

// environKey carries, in run's context, the process environment in
// os.Environ's form; see run.
type environKey struct{}

// withEnviron returns ctx carrying environ for run.
func withEnviron(ctx context.Context, environ []string) context.Context {
	return context.WithValue(ctx, environKey{}, environ)
}

func environFrom(ctx context.Context) []string {
	environ, _ := ctx.Value(environKey{}).([]string)
	return environ
}

// reloadsKey carries, in run's context, the signals that ask the daemon to
// read its jobs file again (SIGHUP; main subscribes).
type reloadsKey struct{}

// withReloads returns ctx carrying reloads for run.
func withReloads(ctx context.Context, reloads <-chan os.Signal) context.Context {
	return context.WithValue(ctx, reloadsKey{}, reloads)
}

// reloadsFrom returns the reload signals; nil (none ever) if main put none.
func reloadsFrom(ctx context.Context) <-chan os.Signal {
	r, _ := ctx.Value(reloadsKey{}).(<-chan os.Signal)
	return r
}
