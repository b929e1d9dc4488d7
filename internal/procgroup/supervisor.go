//go:build unix

package procgroup

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"sync"
	"syscall"
)

// Supervisor is one process, this program run again with SupervisorArg,
// that starts commands for it, each in a process group of its own, and
// kills every one of those groups when this program closes it or dies (the
// kernel closes the socket between them then, kill -9 included). One
// supervisor serves every command: a command costs a message and a fork,
// not a program start.
type Supervisor struct {
	program string

	send sync.Mutex // one writer at a time on conn
	mu   sync.Mutex
	conn *net.UnixConn // nil once the process has died, until Start starts another
	proc *os.Process
	gone chan struct{} // closed when the current process has been reaped
	runs map[uint64]*Supervised
	next uint64
	shut bool
}

// NewSupervisor starts the supervisor: program (an absolute path;
// procgroup.Self() for this program) run with SupervisorArg, whose main must
// then call SupervisorMain. Close it when no command runs any more.
func NewSupervisor(program string) (*Supervisor, error) {
	s := &Supervisor{program: program, runs: map[uint64]*Supervised{}}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.spawn(); err != nil {
		return nil, err
	}
	return s, nil
}

// spawn starts the supervisor process (s.mu held).
func (s *Supervisor) spawn() error {
	fds, err := seqpacketPair()
	if err != nil {
		return fmt.Errorf("procgroup: supervisor socket: %w", err)
	}
	ours, theirs := os.NewFile(uintptr(fds[0]), "supervisor"), os.NewFile(uintptr(fds[1]), "supervisor")
	defer ours.Close() // FileConn keeps a copy
	cmd := exec.Command(s.program, SupervisorArg)
	cmd.ExtraFiles = []*os.File{theirs} // its fd 3
	err = cmd.Start()
	theirs.Close()
	if err != nil {
		return fmt.Errorf("procgroup: starting the supervisor: %w", err)
	}
	c, err := net.FileConn(ours)
	if err != nil {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		return fmt.Errorf("procgroup: supervisor socket: %w", err)
	}
	conn := c.(*net.UnixConn)
	_ = conn.SetWriteBuffer(maxRequest) // the kernel may grant less: a larger environment fails its start
	s.conn, s.proc, s.gone = conn, cmd.Process, make(chan struct{})
	go s.read(conn, cmd, s.gone)
	return nil
}

// Start starts spec under the supervisor, which it restarts first if it
// has died. It returns once the command has started, or an error wrapping
// ErrNotStarted with the reason it could not.
func (s *Supervisor) Start(spec Spec) (*Supervised, error) {
	if len(spec.Argv) == 0 || spec.Argv[0] == "" {
		return nil, fmt.Errorf("%w: an empty command", ErrNotStarted)
	}
	stdout, stderr, closeNull, err := outputs(spec)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrNotStarted, err)
	}
	defer closeNull()
	p, conn, err := s.register()
	if err != nil {
		return nil, err
	}
	msg := encode(request{Op: opStart, ID: p.id, Argv: spec.Argv, Env: spec.Env, Dir: spec.Dir})
	if err := s.write(conn, msg, syscall.UnixRights(int(stdout.Fd()), int(stderr.Fd()))); err != nil {
		s.forget(p.id)
		return nil, fmt.Errorf("%w: the supervisor: %w", ErrNotStarted, err)
	}
	r := <-p.started
	if r.Error != "" {
		s.forget(p.id)
		return nil, fmt.Errorf("%w: %s", ErrNotStarted, r.Error)
	}
	return p, nil
}

// outputs are spec's stdout and stderr, /dev/null for those not given.
func outputs(spec Spec) (stdout, stderr *os.File, closeNull func(), err error) {
	stdout, stderr, closeNull = spec.Stdout, spec.Stderr, func() {}
	if stdout != nil && stderr != nil {
		return stdout, stderr, closeNull, nil
	}
	null, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		return nil, nil, nil, err
	}
	if stdout == nil {
		stdout = null
	}
	if stderr == nil {
		stderr = null
	}
	return stdout, stderr, func() { null.Close() }, nil
}

// register makes a run's entry, restarting the supervisor if it died.
func (s *Supervisor) register() (*Supervised, *net.UnixConn, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.shut {
		return nil, nil, fmt.Errorf("%w: the supervisor is closed", ErrNotStarted)
	}
	if s.conn == nil {
		if err := s.spawn(); err != nil {
			return nil, nil, fmt.Errorf("%w: %w", ErrNotStarted, err)
		}
	}
	s.next++
	p := &Supervised{s: s, id: s.next, started: make(chan reply, 1), exited: make(chan struct{})}
	s.runs[p.id] = p
	return p, s.conn, nil
}

func (s *Supervisor) forget(id uint64) {
	s.mu.Lock()
	delete(s.runs, id)
	s.mu.Unlock()
}

func (s *Supervisor) write(conn *net.UnixConn, msg, oob []byte) error {
	s.send.Lock()
	defer s.send.Unlock()
	_, _, err := conn.WriteMsgUnix(msg, oob, nil)
	return err
}

// read dispatches the supervisor's replies until it ends, then reaps it and
// fails the runs it had: their commands got the parent-death signal from
// it, and what is left of their groups gets SIGKILL from here.
func (s *Supervisor) read(conn *net.UnixConn, cmd *exec.Cmd, gone chan struct{}) {
	buf := make([]byte, 64<<10)
	for {
		n, err := conn.Read(buf)
		if err != nil || n == 0 {
			break
		}
		var r reply
		if decode(buf[:n], &r) != nil {
			continue
		}
		s.mu.Lock()
		p := s.runs[r.ID]
		if r.Status != "" {
			delete(s.runs, r.ID)
		}
		s.mu.Unlock()
		switch {
		case p == nil:
		case r.Status != "":
			st, err := decodeStatus(r.Status)
			p.exit(st, err)
		default:
			p.mu.Lock()
			p.pid = r.Pid
			p.mu.Unlock()
			p.started <- r
		}
	}
	conn.Close()
	_ = cmd.Wait()
	s.mu.Lock()
	orphans := s.runs
	s.runs = map[uint64]*Supervised{}
	if s.conn == conn {
		s.conn = nil
	}
	s.mu.Unlock()
	for _, p := range orphans {
		p.orphaned()
	}
	close(gone)
}

// Close ends the supervisor, which kills every command it still runs, and
// waits for it to exit.
func (s *Supervisor) Close() error {
	s.mu.Lock()
	s.shut = true
	conn, gone := s.conn, s.gone
	s.mu.Unlock()
	if conn == nil {
		return nil
	}
	err := conn.CloseWrite() // the supervisor reads the end, kills, exits; read reaps it
	<-gone
	return err
}

// Supervised is a command running under a Supervisor.
type Supervised struct {
	s       *Supervisor
	id      uint64
	pid     int
	started chan reply

	mu     sync.Mutex
	done   bool
	exited chan struct{}
	status Status
	err    error
}

// exit records how the command ended.
func (p *Supervised) exit(st Status, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.done {
		return
	}
	p.done, p.status, p.err = true, st, err
	close(p.exited)
}

// orphaned ends a run whose supervisor died. It runs on the reader's
// goroutine, after every reply it got: a run without a pid was never
// answered, and its Start waits.
func (p *Supervised) orphaned() {
	pid := p.Pid()
	if pid == 0 {
		p.started <- reply{ID: p.id, Error: ErrSupervisorDied.Error()}
		return
	}
	_ = syscall.Kill(-pid, syscall.SIGKILL) // its group: the command is dead or dying
	p.exit(Status{Code: -1, Signal: syscall.SIGKILL}, ErrSupervisorDied)
}

// Pid is the command's process id, which is also its group's.
func (p *Supervised) Pid() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.pid
}

// Signal has the supervisor send sig to the command's whole group;
// os.ErrProcessDone once the command has ended.
func (p *Supervised) Signal(sig syscall.Signal) error {
	p.mu.Lock()
	done := p.done
	p.mu.Unlock()
	if done {
		return os.ErrProcessDone
	}
	p.s.mu.Lock()
	conn := p.s.conn
	p.s.mu.Unlock()
	if conn == nil {
		return os.ErrProcessDone
	}
	msg := encode(request{Op: opSignal, ID: p.id, Signal: int(sig)})
	if err := p.s.write(conn, msg, nil); err != nil {
		return fmt.Errorf("procgroup: signalling through the supervisor: %w", err)
	}
	return nil
}

// Exited is closed once the command has ended.
func (p *Supervised) Exited() <-chan struct{} { return p.exited }

// Wait waits for the command and returns how it ended; with
// ErrSupervisorDied if the supervisor died first.
func (p *Supervised) Wait() (Status, error) {
	<-p.exited
	return p.status, p.err
}
