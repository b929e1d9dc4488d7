package electioncmd

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

	"go-leader-election/electionclient"
)

const leaderUsage = `Usage: go-leader-election leader [flags] ELECTION

Prints the current leader of ELECTION, its term and expiry:

  election=production leader=web-1-3f9a2c1e term=4 expires=2026-11-22T12:00:10.123Z remaining=8.1s

and exits 0; with no leader it prints "leader=" (and the latest term) and
exits 3. With --limit N (a semaphore, as lock --limit N) it prints one such
line per slot, ELECTION/slot-0 to ELECTION/slot-N-1, and exits 3 when no slot
is held. Flags:
`

// leaderTimeout bounds the whole command, retries included.
const leaderTimeout = 10 * time.Second

// Leader is "go-leader-election leader".
func Leader(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var c common
	var limit int
	fs := flag.NewFlagSet("leader", flag.ContinueOnError)
	c.register(fs)
	fs.IntVar(&limit, "limit", 0, "list the holders of the `N` slots of the semaphore ELECTION (lock --limit N)")
	if err := parse(fs, leaderUsage, args, stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return &ExitError{Code: 2, Err: fmt.Errorf("leader: %w", err)}
	}
	if fs.NArg() != 1 {
		return &ExitError{Code: 2, Err: errors.New("leader: want one argument, ELECTION (see leader -h)")}
	}
	names := []string{fs.Arg(0)}
	if limitSet(fs) {
		var err error
		if names, err = electionclient.Slots(fs.Arg(0), limit); err != nil {
			return &ExitError{Code: 2, Err: fmt.Errorf("leader: --limit %d: %w", limit, err)}
		}
	}
	client, err := c.client("leader", getenv, stderr)
	if err != nil {
		return fmt.Errorf("leader: %w", err)
	}
	defer client.Close()
	ctx, cancel := context.WithTimeout(ctx, leaderTimeout)
	defer cancel()
	held := 0
	for _, name := range names {
		e, err := client.Election(name, electionclient.ElectionOptions{})
		if err != nil {
			return &ExitError{Code: 2, Err: fmt.Errorf("leader: %w", err)}
		}
		l, err := e.Leader(ctx)
		if err != nil {
			return fmt.Errorf("leader: %w", err)
		}
		if !l.Held() {
			fmt.Fprintf(stdout, "election=%s leader= term=%d\n", name, l.Term)
			continue
		}
		held++
		fmt.Fprintf(stdout, "election=%s leader=%s term=%d expires=%s remaining=%s\n", name, l.Node, l.Term,
			l.Expires.UTC().Format("2006-01-02T15:04:05.000Z07:00"), l.Remaining.Round(time.Millisecond))
	}
	if held == 0 {
		return &ExitError{Code: 3}
	}
	return nil
}

// limitSet reports whether --limit was given.
func limitSet(fs *flag.FlagSet) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == "limit" })
	return set
}
