//go:build unix

package procgroup

import (
	"net"
	"os"
	"os/signal"
	"sync"
	"syscall"
)

// SupervisorMain is the supervisor's main: the program calls it when its
// first argument is SupervisorArg (args are the rest) and exits with what it
// returns. It serves the socket on file descriptor 3 until the program
// closes it or dies, then kills every group it still runs.
func SupervisorMain(args []string) int {
	// Signals meant for the program's group (a terminal's Ctrl-C) must not
	// end the supervisor: it would leave the commands unwatched. They are
	// caught, not ignored, so that commands start with default handlers.
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT)
	go func() {
		for range sigs {
		}
	}()
	if len(args) != 0 {
		return 2
	}
	f := os.NewFile(3, "supervisor")
	c, err := net.FileConn(f)
	f.Close()
	if err != nil {
		return 2
	}
	z := &zygote{conn: c.(*net.UnixConn), groups: map[uint64]*Group{}}
	z.serve()
	z.killAll()
	return 0
}

// zygote is the supervisor's state: the groups it runs, by request id.
type zygote struct {
	conn   *net.UnixConn
	send   sync.Mutex
	mu     sync.Mutex
	groups map[uint64]*Group
	wg     sync.WaitGroup // the groups' waiters, which send their last reply
}

// serve handles requests until the socket ends. Commands start one at a
// time, from this goroutine only, so no descriptor received for one can
// leak into another's fork (they are close-on-exec from the start anyway).
func (z *zygote) serve() {
	buf := make([]byte, maxRequest)
	oob := make([]byte, syscall.CmsgSpace(2*4))
	for {
		n, oobn, _, _, err := z.conn.ReadMsgUnix(buf, oob)
		if err != nil || n == 0 {
			return
		}
		files := received(oob[:oobn])
		var req request
		switch {
		case decode(buf[:n], &req) != nil:
		case req.Op == opStart && len(files) == 2:
			z.start(req, files[0], files[1])
		case req.Op == opStart:
			z.reply(reply{ID: req.ID, Error: "procgroup: a start request without stdout and stderr"})
		case req.Op == opSignal:
			z.mu.Lock()
			g := z.groups[req.ID]
			z.mu.Unlock()
			if g != nil {
				_ = g.Signal(syscall.Signal(req.Signal))
			}
		}
		for _, f := range files {
			f.Close() // the command has its copies
		}
	}
}

// received are the descriptors a message carried.
func received(oob []byte) []*os.File {
	msgs, err := syscall.ParseSocketControlMessage(oob)
	if err != nil {
		return nil
	}
	var files []*os.File
	for _, m := range msgs {
		fds, err := syscall.ParseUnixRights(&m)
		if err != nil {
			continue
		}
		for _, fd := range fds {
			files = append(files, os.NewFile(uintptr(fd), "output"))
		}
	}
	return files
}

// start starts one command and answers; a waiter sends its status later.
func (z *zygote) start(req request, stdout, stderr *os.File) {
	g, err := Spec{Argv: req.Argv, Env: req.Env, Dir: req.Dir, Stdout: stdout, Stderr: stderr}.start()
	if err != nil {
		z.reply(reply{ID: req.ID, Error: err.Error()})
		return
	}
	z.mu.Lock()
	z.groups[req.ID] = g
	z.mu.Unlock()
	z.reply(reply{ID: req.ID, Pid: g.Pid()})
	z.wg.Go(func() {
		st, _ := g.Wait()
		z.mu.Lock()
		delete(z.groups, req.ID)
		z.mu.Unlock()
		z.reply(reply{ID: req.ID, Status: st.encode()})
	})
}

func (z *zygote) reply(r reply) {
	msg := encode(r)
	z.send.Lock()
	defer z.send.Unlock()
	_, _ = z.conn.Write(msg) // the program may be gone: nothing to tell
}

// killAll kills every group still running and waits for their leaders.
func (z *zygote) killAll() {
	z.mu.Lock()
	for _, g := range z.groups {
		_ = g.Signal(syscall.SIGKILL)
	}
	z.mu.Unlock()
	z.wg.Wait()
}
