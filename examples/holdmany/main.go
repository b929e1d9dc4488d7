// Command holdmany holds twenty elections (shard-00 to shard-19) on one
// session until SIGTERM or the session's loss: the README's example of
// electionclient.Session. Usage: holdmany SERVER NODE.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"go-leader-election/electionclient"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "holdmany:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	if len(args) != 2 {
		return errors.New("usage: holdmany SERVER NODE")
	}
	c, err := electionclient.New(electionclient.Config{Servers: args[:1], Token: getenv("LEASE_TOKEN")})
	if err != nil {
		return err
	}
	defer c.Close()
	s, err := c.NewSession(ctx, electionclient.SessionOptions{Node: args[1], TTL: 2 * time.Second})
	if err != nil {
		return err
	}
	defer s.Close(context.WithoutCancel(ctx)) // hands every election over at once
	for i := range 20 {
		lead, err := s.Campaign(ctx, fmt.Sprintf("shard-%02d", i)) // blocks until leader
		if err != nil {
			return err
		}
		fmt.Fprintln(stdout, "leading", lead.Election().Name(), "term", lead.Term())
	}
	select {
	case <-ctx.Done(): // SIGTERM: the deferred Close frees all twenty
	case <-s.Done(): // lost: stop acting on all twenty at once
	}
	return s.Err()
}
