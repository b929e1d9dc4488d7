package emulator

import (
	"bufio"
	"bytes"
	"net"
	"sync"
	"time"
)

// The emulator answers gRPC and its HTTP admin API on one port, like
// gcloud's. Connections that open with the HTTP/2 client preface go to
// gRPC's own transport, which batches its writes; serving gRPC through
// net/http's HTTP/2 server instead costs a write system call per frame,
// about half the emulator's CPU under load.
var h2Preface = []byte("PRI * HTTP/2.0")

// splitListener accepts from l and hands each connection to grpcL or httpL.
type splitListener struct {
	l            net.Listener
	grpcL, httpL *chanListener
}

func newSplitListener(l net.Listener) *splitListener {
	done := make(chan struct{})
	var once sync.Once
	closeAll := func() { once.Do(func() { close(done) }) }
	return &splitListener{
		l:     l,
		grpcL: &chanListener{addr: l.Addr(), conns: make(chan net.Conn), done: done, close: closeAll},
		httpL: &chanListener{addr: l.Addr(), conns: make(chan net.Conn), done: done, close: closeAll},
	}
}

// run accepts until l is closed.
func (s *splitListener) run() {
	defer s.grpcL.close()
	for {
		c, err := s.l.Accept()
		if err != nil {
			return
		}
		go s.route(c)
	}
}

func (s *splitListener) route(c net.Conn) {
	br := bufio.NewReaderSize(c, len(h2Preface))
	_ = c.SetReadDeadline(time.Now().Add(30 * time.Second))
	head, err := br.Peek(len(h2Preface))
	_ = c.SetReadDeadline(time.Time{})
	if err != nil && len(head) == 0 {
		c.Close()
		return
	}
	conn := &peekedConn{Conn: c, r: br}
	target := s.httpL
	if bytes.Equal(head, h2Preface) {
		target = s.grpcL
	}
	select {
	case target.conns <- conn:
	case <-target.done:
		c.Close()
	}
}

// peekedConn replays what was peeked before reading on.
type peekedConn struct {
	net.Conn
	r *bufio.Reader
}

func (p *peekedConn) Read(b []byte) (int, error) { return p.r.Read(b) }

// chanListener is a net.Listener fed by splitListener.
type chanListener struct {
	addr  net.Addr
	conns chan net.Conn
	done  chan struct{}
	close func()
}

func (l *chanListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *chanListener) Close() error   { l.close(); return nil }
func (l *chanListener) Addr() net.Addr { return l.addr }
