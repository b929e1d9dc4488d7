//go:build unix

package procgroup

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"syscall"
)

// Supervised is a command running under a supervisor.
type Supervised struct {
	sup     *exec.Cmd
	control *os.File // the supervisor's stdin: closing it kills the group
	pid     int      // the command's, and its group's, id

	mu     sync.Mutex
	done   bool
	exited chan struct{}
	status Status
	err    error
}

// Supervise starts s under a supervisor: program (an absolute path, "/proc/self/exe"
// for this program on Linux) run with SupervisorArg, which runs the command
// in a process group of its own and kills the whole group when this program
// closes the control pipe or dies. It returns once the command has started,
// or an error wrapping ErrNotStarted with the reason it could not.
func Supervise(program string, s Spec) (*Supervised, error) {
	if len(s.Argv) == 0 || s.Argv[0] == "" {
		return nil, fmt.Errorf("procgroup: %w: an empty command", ErrNotStarted)
	}
	ctrlR, ctrlW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	statR, statW, err := os.Pipe()
	if err != nil {
		ctrlR.Close()
		ctrlW.Close()
		return nil, err
	}
	sup := exec.Command(program, append([]string{SupervisorArg, "--"}, s.Argv...)...)
	sup.Env, sup.Dir = s.Env, s.Dir
	sup.Stdin, sup.ExtraFiles = ctrlR, []*os.File{statW}
	if s.Stdout != nil {
		sup.Stdout = s.Stdout
	}
	if s.Stderr != nil {
		sup.Stderr = s.Stderr
	}
	err = sup.Start()
	ctrlR.Close()
	statW.Close()
	if err != nil {
		ctrlW.Close()
		statR.Close()
		return nil, fmt.Errorf("%w: %w", ErrNotStarted, err)
	}
	p := &Supervised{sup: sup, control: ctrlW, exited: make(chan struct{})}
	status := bufio.NewReader(statR)
	if err := p.started(status); err != nil {
		ctrlW.Close()
		statR.Close()
		_ = sup.Wait()
		return nil, err
	}
	go p.wait(status, statR)
	return p, nil
}

// started reads the supervisor's first line: "started PID" or "failed WHY".
func (p *Supervised) started(status *bufio.Reader) error {
	line, err := status.ReadString('\n')
	kind, rest, _ := strings.Cut(strings.TrimSuffix(line, "\n"), " ")
	switch {
	case err != nil:
		return fmt.Errorf("%w: the supervisor ended before starting the command (%v)", ErrNotStarted, err)
	case kind == "failed":
		return fmt.Errorf("%w: %s", ErrNotStarted, rest)
	case kind == "started":
		p.pid, err = strconv.Atoi(rest)
		return err
	}
	return fmt.Errorf("%w: the supervisor said %q", ErrNotStarted, line)
}

// wait reads the supervisor's last line, the command's status, and reaps it.
func (p *Supervised) wait(status *bufio.Reader, statR *os.File) {
	line, err := status.ReadString('\n')
	statR.Close()
	st, derr := decodeStatus(line)
	if err != nil {
		derr = fmt.Errorf("procgroup: the supervisor ended without the command's status: %w", err)
	}
	werr := p.sup.Wait()
	p.mu.Lock()
	p.done = true
	p.control.Close()
	p.mu.Unlock()
	p.status, p.err = st, derr
	if derr != nil && werr != nil {
		p.err = fmt.Errorf("%w (supervisor: %v)", derr, werr)
	}
	close(p.exited)
}

// Pid is the command's process id, which is also its group's.
func (p *Supervised) Pid() int { return p.pid }

// Signal has the supervisor send SIGTERM or SIGKILL to the command's group;
// os.ErrProcessDone once the command has ended.
func (p *Supervised) Signal(sig syscall.Signal) error {
	msg := map[syscall.Signal]byte{syscall.SIGTERM: msgTerm, syscall.SIGKILL: msgKill}[sig]
	if msg == 0 {
		return fmt.Errorf("procgroup: a supervised command takes SIGTERM and SIGKILL, not %v", sig)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.done {
		return os.ErrProcessDone
	}
	_, err := p.control.Write([]byte{msg})
	return err
}

// Exited is closed once the command and its supervisor have ended.
func (p *Supervised) Exited() <-chan struct{} { return p.exited }

// Wait waits for the command and returns how it ended.
func (p *Supervised) Wait() (Status, error) {
	<-p.exited
	return p.status, p.err
}

// SupervisorMain is the supervisor: args are what follows SupervisorArg
// ("--", then the command). It starts the command in a process group of its
// own, with this process's environment and directory, and reports on file
// descriptor 3: "started PID" or "failed WHY", then the command's status.
// It sends the group SIGTERM or SIGKILL as its standard input asks, and
// SIGKILL when its standard input ends: the program that started it closed
// it, or died. It returns the supervisor's exit status.
func SupervisorMain(args []string) int {
	// Signals meant for the program's group (a terminal's Ctrl-C) must not
	// end the supervisor: it would leave the command unwatched. They are
	// caught, not ignored, so that the command starts with default handlers.
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT)
	go func() {
		for range sigs {
		}
	}()
	report := os.NewFile(3, "status")
	if len(args) < 2 || args[0] != "--" {
		fmt.Fprintf(report, "failed the supervisor wants -- COMMAND [ARGS...], got %q\n", args)
		return 2
	}
	cmd := exec.Command(args[1], args[2:]...)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr // nil stdin: /dev/null
	g, err := Start(cmd, Options{KillLeftovers: true})
	if err != nil {
		fmt.Fprintf(report, "failed %s\n", strings.ReplaceAll(err.Error(), "\n", " "))
		return 0
	}
	fmt.Fprintf(report, "started %d\n", g.Pid())
	go obey(os.Stdin, g)
	st, _ := g.Wait()
	fmt.Fprintln(report, st.encode())
	return 0
}

// obey signals g as control asks, and kills it when control ends.
func obey(control io.Reader, g *Group) {
	b := make([]byte, 1)
	for {
		if _, err := control.Read(b); err != nil {
			_ = g.Signal(syscall.SIGKILL)
			return
		}
		switch b[0] {
		case msgTerm:
			_ = g.Signal(syscall.SIGTERM)
		case msgKill:
			_ = g.Signal(syscall.SIGKILL)
		}
	}
}
