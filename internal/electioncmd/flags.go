package electioncmd

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"google.golang.org/grpc/status"

	"go-leader-election/electionclient"
)

// DefaultServer is --server's default.
const DefaultServer = "localhost:50051"

// servers is a repeatable --server flag.
type servers []string

func (s *servers) String() string { return strings.Join(*s, ",") }

func (s *servers) Set(v string) error {
	for _, a := range strings.Split(v, ",") {
		if a = strings.TrimSpace(a); a == "" {
			return errors.New("empty server address")
		}
		*s = append(*s, a)
	}
	return nil
}

// common are the flags of lock and leader.
type common struct {
	servers servers
	token   string
}

func (c *common) register(fs *flag.FlagSet) {
	fs.Var(&c.servers, "server", "`host:port` of a lease server; repeat (or separate by commas) for several (default "+DefaultServer+")")
	fs.StringVar(&c.token, "token", "", "bearer `token` the servers require (default $LEASE_TOKEN)")
}

// client returns a client of the servers; retries are told on stderr.
func (c *common) client(cmd string, getenv func(string) string, stderr io.Writer) (*electionclient.Client, error) {
	if len(c.servers) == 0 {
		c.servers = servers{DefaultServer}
	}
	if c.token == "" {
		c.token = strings.TrimSpace(getenv("LEASE_TOKEN"))
	}
	return electionclient.New(electionclient.Config{
		Servers: c.servers, Token: c.token,
		OnRetry: func(r electionclient.Retry) {
			next := "trying the next server"
			if r.Wait > 0 {
				next = fmt.Sprintf("retrying in %s", r.Wait.Round(10e6))
			}
			st := status.Convert(r.Err)
			fmt.Fprintf(stderr, "%s: %s: server %s: %s (%s); %s\n", cmd, r.Op, r.Server, st.Code(), st.Message(), next)
		},
	})
}

// parse parses args, printing usage on -h (then returning flag.ErrHelp).
func parse(fs *flag.FlagSet, usage string, args []string, stderr io.Writer) error {
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, usage)
		fs.PrintDefaults()
	}
	return fs.Parse(args)
}
