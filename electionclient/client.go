package electionclient

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync/atomic"
	"time"

	"google.golang.org/grpc"

	pb "go-leader-election/api/leaderelection/v1"
)

// DefaultCallTimeout bounds one attempt of one call, unless Config says.
const DefaultCallTimeout = 5 * time.Second

// Config says which servers to call and how.
type Config struct {
	// Servers are the host:port addresses of lease servers. Required. Calls
	// go to one at a time (the last that answered) and move to the next
	// when one fails in a way another might not.
	Servers []string
	// Token, when set, is sent on every call as "authorization: Bearer
	// <Token>".
	Token string
	// TLS, when set, makes every connection TLS with this configuration
	// (RootCAs: the CAs trusted to sign the servers' certificates, nil for
	// the system's; Certificates or GetClientCertificate: this client's
	// certificate, for servers that require one; ServerName: the name
	// the servers' certificates must carry, default the host dialled).
	// Nil: plaintext. A TLS refusal (a plaintext client against a TLS
	// server or the reverse, an untrusted server certificate, a client
	// certificate missing or refused) fails a call at once with a
	// *CallError matching ErrTLS, naming the cause.
	TLS *tls.Config
	// DialOptions are added after the client's own;
	// grpc.WithTransportCredentials here replaces TLS (and the TLS
	// refusals are then retried as any UNAVAILABLE).
	DialOptions []grpc.DialOption
	// CallTimeout bounds one attempt of one call on one server. Default
	// DefaultCallTimeout; heartbeats are bounded by the trusted time too.
	CallTimeout time.Duration
	// OnRetry, if set, is told of every failed attempt that will be tried
	// again. It must not block.
	OnRetry func(Retry)
}

// Retry describes a failed attempt that will be tried again.
type Retry struct {
	Op      string // "campaign", "heartbeat", "resign", "leader", "observe", "session", "keepalive", "close"
	Server  string // the server that failed
	Attempt int    // 1 for the first failure of this call
	Err     error
	// Wait is how long the client waits before the next attempt: zero when
	// it tries the next server at once.
	Wait time.Duration
}

// Client calls a set of lease servers. Safe for concurrent use.
type Client struct {
	cfg    Config
	conns  []server
	prefs  atomic.Int32 // index of the server to try first
	keeper *keeper      // the sessions' keepalive stream
}

type server struct {
	addr  string
	cc    *grpc.ClientConn
	api   pb.LeaderElectionClient
	watch *connWatch // tells a TLS refusal from a server down
}

// New returns a Client; it does not connect until the first call.
func New(cfg Config) (*Client, error) {
	if len(cfg.Servers) == 0 {
		return nil, errors.New("electionclient: Config.Servers is empty")
	}
	if cfg.CallTimeout < 0 {
		return nil, fmt.Errorf("electionclient: negative Config.CallTimeout %s", cfg.CallTimeout)
	}
	if cfg.CallTimeout == 0 {
		cfg.CallTimeout = DefaultCallTimeout
	}
	var opts []grpc.DialOption
	if cfg.Token != "" {
		opts = append(opts, grpc.WithPerRPCCredentials(bearer(cfg.Token)))
	}
	c := &Client{cfg: cfg}
	c.keeper = newKeeper(c)
	for _, addr := range cfg.Servers {
		w := newConnWatch(addr, cfg.TLS)
		cc, err := grpc.NewClient(addr, append(append([]grpc.DialOption{grpc.WithTransportCredentials(w.credentials(cfg.TLS))}, opts...), cfg.DialOptions...)...)
		if err != nil {
			_ = c.Close()
			return nil, fmt.Errorf("electionclient: server %q: %w", addr, err)
		}
		c.conns = append(c.conns, server{addr: addr, cc: cc, api: pb.NewLeaderElectionClient(cc), watch: w})
	}
	return c, nil
}

// Close closes the connections. Leaderships and sessions end by their own
// rules (Done closes when the trusted time runs out); Resign and Close them
// first.
func (c *Client) Close() error {
	c.keeper.close()
	var errs []error
	for _, s := range c.conns {
		errs = append(errs, s.cc.Close())
	}
	return errors.Join(errs...)
}

// bearer sends the token on every call.
type bearer string

func (b bearer) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	return map[string]string{"authorization": "Bearer " + string(b)}, nil
}

// RequireTransportSecurity is false: the token may cross plaintext (a mesh
// may encrypt it), as Config.TLS is optional.
func (bearer) RequireTransportSecurity() bool { return false }

// call runs f on one server after another until it succeeds, fails in a
// way retrying cannot mend (a *CallError), or ctx ends (ctx's error, with
// the last failure). Each attempt is bounded by attempt (0: CallTimeout).
// After every server has failed once, it waits a backoff of up to maxWait
// before the next round.
func (c *Client) call(ctx context.Context, op string, attempt, maxWait time.Duration, f func(ctx context.Context, api pb.LeaderElectionClient) error) error {
	if attempt <= 0 || attempt > c.cfg.CallTimeout {
		attempt = c.cfg.CallTimeout
	}
	first := int(c.prefs.Load())
	var last error
	for n := 1; ; n++ {
		i := (first + n - 1) % len(c.conns)
		s := c.conns[i]
		actx, cancel := context.WithTimeout(ctx, attempt)
		err := f(actx, s.api)
		cancel()
		if err == nil {
			c.prefs.Store(int32(i))
			return nil
		}
		if ctx.Err() != nil {
			return fmt.Errorf("electionclient: %s: %w (last failure: %v)", op, context.Cause(ctx), err)
		}
		if !retryable(err) {
			return &CallError{Op: op, Server: s.addr, Err: err}
		}
		if refused := s.watch.refused(ctx, err); refused != nil {
			return &CallError{Op: op, Server: s.addr, Err: refused}
		}
		last = err
		var wait time.Duration
		if n%len(c.conns) == 0 { // a round is over
			wait = backoff(n/len(c.conns), maxWait)
		}
		if c.cfg.OnRetry != nil {
			c.cfg.OnRetry(Retry{Op: op, Server: s.addr, Attempt: n, Err: err, Wait: wait})
		}
		if wait > 0 {
			t := time.NewTimer(wait)
			select {
			case <-t.C:
			case <-ctx.Done():
				t.Stop()
				return fmt.Errorf("electionclient: %s: %w (last failure: %v)", op, context.Cause(ctx), last)
			}
		}
	}
}

// backoff is the wait after the round-th failed round: 100ms doubling up to
// maxWait, with 20% jitter.
func backoff(round int, maxWait time.Duration) time.Duration {
	d := 100 * time.Millisecond << min(round-1, 10)
	d = min(d, maxWait)
	return time.Duration(float64(d) * (0.8 + 0.4*rand.Float64()))
}
