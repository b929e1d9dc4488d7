package electionclient

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	pb "go-leader-election/api/leaderelection/v1"
)

// Defaults for ElectionOptions.
const (
	DefaultTTL   = 10 * time.Second
	DefaultTrust = 2.0 / 3
)

// ElectionOptions configure an Election.
type ElectionOptions struct {
	// Node names this process to the servers. Unique per process: two
	// processes with one node id are one node. Default DefaultNode().
	Node string
	// TTL is the lease asked for, from 1s to 1h. Default DefaultTTL.
	TTL time.Duration
	// Trust is the fraction of each granted TTL this process acts on,
	// counted from before it sent the request: 0 < Trust < 1. Default
	// DefaultTrust (2/3). Heartbeats go every Trust/2 of the TTL.
	Trust float64
	// PollInterval is how often Campaign asks while another node leads.
	// Default TTL/10, between 50ms and 500ms: a peer that dies is replaced
	// within its TTL plus about two intervals.
	PollInterval time.Duration
}

// Election is one election, as one node takes part in it.
type Election struct {
	c    *Client
	name string
	o    ElectionOptions
}

// Election returns the election named name (1 to 256 bytes of printable
// UTF-8), checking the options; it makes no call.
func (c *Client) Election(name string, o ElectionOptions) (*Election, error) {
	if err := pb.CheckName("election", name); err != nil {
		return nil, fmt.Errorf("electionclient: %w", err)
	}
	o, err := electionOptions(o)
	if err != nil {
		return nil, err
	}
	return &Election{c: c, name: name, o: o}, nil
}

// electionOptions fills in o's defaults and checks it.
func electionOptions(o ElectionOptions) (ElectionOptions, error) {
	if o.Node == "" {
		o.Node = DefaultNode()
	}
	if o.TTL == 0 {
		o.TTL = DefaultTTL
	}
	if o.Trust == 0 {
		o.Trust = DefaultTrust
	}
	if o.PollInterval == 0 {
		o.PollInterval = min(max(o.TTL/10, 50*time.Millisecond), 500*time.Millisecond)
	}
	switch err := errors.Join(pb.CheckName("node", o.Node), pb.CheckTTL(o.TTL)); {
	case err != nil:
		return o, fmt.Errorf("electionclient: %w", err)
	case !(o.Trust > 0 && o.Trust < 1):
		return o, fmt.Errorf("electionclient: trust %v must be between 0 and 1, exclusive", o.Trust)
	case o.PollInterval < 0:
		return o, fmt.Errorf("electionclient: negative poll interval %s", o.PollInterval)
	}
	return o, nil
}

// Name returns the election's name.
func (e *Election) Name() string { return e.name }

// Node returns this node's id.
func (e *Election) Node() string { return e.o.Node }

// DefaultNode returns the host name with a random suffix
// ("web-1-3f9a2c1e"): unique per process.
func DefaultNode() string {
	host, err := os.Hostname()
	if err != nil || pb.CheckName("node", host) != nil {
		host = "node"
	}
	var b [4]byte
	_, _ = rand.Read(b[:])
	const room = pb.MaxNameBytes - 1 - 2*len(b)
	if len(host) > room {
		host = host[:room]
	}
	return host + "-" + hex.EncodeToString(b[:])
}

// Leader is who leads an election, as a server answered.
type Leader struct {
	// Node is the leader's node id; empty when nobody leads.
	Node string
	// Term is the leader's term, or the latest term on record when nobody
	// leads (0: never won).
	Term int64
	// Expires is when the lease lapses unless renewed, by the answering
	// server's clock; Remaining is the time left, as that server measured
	// it. For display: the server may let it lapse later, never earlier.
	Expires   time.Time
	Remaining time.Duration
}

// Held reports whether somebody leads.
func (l Leader) Held() bool { return l.Node != "" }

func leaderFrom(l *pb.Leader, term int64) Leader {
	if l == nil {
		return Leader{Term: term}
	}
	return Leader{Node: l.GetNodeId(), Term: l.GetTerm(), Expires: l.GetExpireTime().AsTime(), Remaining: l.GetRemaining().AsDuration()}
}

// Leader asks a server who leads now.
func (e *Election) Leader(ctx context.Context) (Leader, error) {
	var resp *pb.GetCurrentLeaderResponse
	err := e.c.call(ctx, "leader", 0, 2*time.Second, func(ctx context.Context, api pb.LeaderElectionClient) (err error) {
		resp, err = api.GetCurrentLeader(ctx, &pb.GetCurrentLeaderRequest{Election: e.name})
		return err
	})
	if err != nil {
		return Leader{}, err
	}
	return leaderFrom(resp.GetLeader(), resp.GetTerm()), nil
}

// Observe calls f with the current leader, then at every change (a new
// leader or term, a release, a lapse), from a Watch stream it opens again,
// on the next server, whenever one ends. It returns when ctx ends (with
// ctx's error) or on a failure retrying cannot mend (a *CallError). f runs
// on Observe's goroutine; while it runs, intermediate changes may be
// skipped (f is then told the latest).
func (e *Election) Observe(ctx context.Context, f func(Leader)) error {
	var last Leader
	told := false
	return e.c.call(ctx, "observe", 0, 2*time.Second, func(_ context.Context, api pb.LeaderElectionClient) error {
		return e.watch(ctx, api, func(l Leader) {
			if !told || l.Node != last.Node || l.Term != last.Term {
				last, told = l, true
				f(l)
			}
		})
	})
}

// errNoFirst ends a stream whose first message did not come in time.
var errNoFirst = errors.New("no first message within the call timeout")

// watch follows one stream until it ends, and always returns an error. The
// call timeout bounds only the wait for the first message: a healthy stream
// lasts as long as ctx.
func (e *Election) watch(ctx context.Context, api pb.LeaderElectionClient, f func(Leader)) error {
	sctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	t := time.AfterFunc(e.c.cfg.CallTimeout, func() { cancel(errNoFirst) })
	defer t.Stop()
	stream, err := api.Watch(sctx, &pb.WatchRequest{Election: e.name})
	if err != nil {
		return err
	}
	for {
		resp, err := stream.Recv()
		switch {
		case err == nil:
		case ctx.Err() != nil:
			return ctx.Err()
		case context.Cause(sctx) == errNoFirst:
			return status.Error(codes.DeadlineExceeded, errNoFirst.Error())
		case errors.Is(err, io.EOF):
			return status.Error(codes.Unavailable, "the watch stream ended")
		default:
			return err
		}
		t.Stop()
		f(leaderFrom(resp.GetLeader(), resp.GetTerm()))
	}
}
