package pgtest

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/jackc/pgx/v5"
)

// Proxy is a TCP proxy in front of a PostgreSQL server that can lose the
// answers to COMMITs: it reads the server's messages, and when a COMMIT's
// CommandComplete comes and Lose says so, it closes both connections
// instead of passing it on. The server has committed; the client never
// learns it, as when a network drops after the commit.
type Proxy struct {
	// URL is the server's URL, through the proxy.
	URL string
	ln  net.Listener
	// lose is asked at each COMMIT answer whether to lose it.
	lose atomic.Pointer[func() bool]
	// Lost counts the answers lost.
	Lost  atomic.Int64
	wg    sync.WaitGroup
	mu    sync.Mutex
	conns map[net.Conn]bool
}

// NewProxy starts a proxy to url's server (sslmode=disable: the proxy reads
// the protocol in the clear), closed when t ends.
func NewProxy(t testing.TB, url string) *Proxy {
	t.Helper()
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		t.Fatal(err)
	}
	target := net.JoinHostPort(cfg.Host, strconv.Itoa(int(cfg.Port)))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &Proxy{ln: ln, conns: map[net.Conn]bool{}}
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	p.URL = strings.Replace(url, target, "127.0.0.1:"+port, 1)
	if p.URL == url {
		t.Fatalf("pgtest: cannot find %s in %s", target, url)
	}
	p.wg.Go(func() { p.accept(target) })
	t.Cleanup(p.close)
	return p
}

// SetLose installs the rule (nil: lose none).
func (p *Proxy) SetLose(lose func() bool) {
	if lose == nil {
		p.lose.Store(nil)
		return
	}
	p.lose.Store(&lose)
}

// LoseNext loses the next n COMMIT answers.
func (p *Proxy) LoseNext(n int64) {
	var left atomic.Int64
	left.Store(n)
	p.SetLose(func() bool { return left.Add(-1) >= 0 })
}

func (p *Proxy) accept(target string) {
	for {
		client, err := p.ln.Accept()
		if err != nil {
			return
		}
		server, err := net.Dial("tcp", target)
		if err != nil {
			client.Close()
			continue
		}
		p.mu.Lock()
		p.conns[client], p.conns[server] = true, true
		p.mu.Unlock()
		p.wg.Go(func() {
			_, _ = io.Copy(server, client)
			server.Close()
		})
		p.wg.Go(func() {
			p.answers(client, server)
			client.Close()
			server.Close()
		})
	}
}

var commitTag = []byte("COMMIT\x00")

// answers passes the server's messages to the client, one at a time, until
// a lost COMMIT answer or an error.
func (p *Proxy) answers(client, server net.Conn) {
	r := bufio.NewReader(server)
	header := make([]byte, 5)
	for {
		if _, err := io.ReadFull(r, header); err != nil {
			return
		}
		n := int(binary.BigEndian.Uint32(header[1:])) - 4
		if n < 0 {
			return
		}
		body := make([]byte, n)
		if _, err := io.ReadFull(r, body); err != nil {
			return
		}
		if header[0] == 'C' && bytes.Equal(body, commitTag) {
			if lose := p.lose.Load(); lose != nil && (*lose)() {
				p.Lost.Add(1)
				return
			}
		}
		if _, err := (&net.Buffers{header, body}).WriteTo(client); err != nil {
			return
		}
	}
}

func (p *Proxy) close() {
	p.ln.Close()
	p.mu.Lock()
	for c := range p.conns {
		c.Close()
	}
	p.mu.Unlock()
	p.wg.Wait()
}
