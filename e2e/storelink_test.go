package e2e

import (
	"errors"
	"io"
	"net"
	"sync"
	"testing"
)

// storeLink is a TCP proxy between one daemon and the store that the test
// can cut: while cut, connections stay open but no byte flows either way,
// as in a network partition (calls hang until they time out); once mended,
// what was held flows on. The other daemons keep their own links.
type storeLink struct {
	ln     net.Listener
	target string

	mu    sync.Mutex
	open  chan struct{} // closed while bytes may flow
	conns []net.Conn
	done  bool
}

// newStoreLink listens on a free port and forwards to target.
func newStoreLink(t *testing.T, target string) *storeLink {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l := &storeLink{ln: ln, target: target, open: make(chan struct{})}
	close(l.open)
	go l.accept()
	t.Cleanup(l.close)
	return l
}

// Addr is the address the daemon dials instead of the store's.
func (l *storeLink) Addr() string { return l.ln.Addr().String() }

func (l *storeLink) accept() {
	for {
		in, err := l.ln.Accept()
		if err != nil {
			return
		}
		out, err := net.Dial("tcp", l.target)
		if err != nil {
			in.Close()
			continue
		}
		l.mu.Lock()
		if l.done {
			l.mu.Unlock()
			in.Close()
			out.Close()
			return
		}
		l.conns = append(l.conns, in, out)
		l.mu.Unlock()
		go l.pipe(out, in)
		go l.pipe(in, out)
	}
}

// pipe copies src to dst, holding each chunk while the link is cut.
func (l *storeLink) pipe(dst, src net.Conn) {
	defer dst.Close()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			l.mu.Lock()
			open := l.open
			l.mu.Unlock()
			<-open
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			if !errors.Is(err, io.EOF) {
				src.Close()
			}
			return
		}
	}
}

// cut stops every byte; mend lets them flow again.
func (l *storeLink) cut() {
	l.mu.Lock()
	defer l.mu.Unlock()
	select {
	case <-l.open:
		l.open = make(chan struct{})
	default:
	}
}

func (l *storeLink) mend() {
	l.mu.Lock()
	defer l.mu.Unlock()
	select {
	case <-l.open:
	default:
		close(l.open)
	}
}

func (l *storeLink) close() {
	l.mu.Lock()
	l.done = true
	conns := l.conns
	l.mu.Unlock()
	l.mend()
	l.ln.Close()
	for _, c := range conns {
		c.Close()
	}
}
