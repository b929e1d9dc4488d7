package procgroup

import (
	"os"
	"os/exec"
	"runtime"
	"sync"
	"syscall"
)

// Options tune Start.
type Options struct {
	// KillLeftovers sends SIGKILL to what is left of the group when the
	// command exits, before Wait returns: nothing the command started
	// outlives it (unless it left the group).
	KillLeftovers bool
}

// Group is a command running as the leader of its own process group.
type Group struct {
	cmd  *exec.Cmd
	pid  int
	opts Options

	mu     sync.Mutex // held while the leader is reaped, so Signal never hits a reused id
	reaped bool
	exited chan struct{} // closed once reaped
	status Status
	err    error // cmd.Wait's error, besides the exit status
}

// Start starts cmd, which must not have been started, in a process group of
// its own (it sets cmd.SysProcAttr). On Linux cmd gets SIGKILL when this
// program dies: cmd is started, and waited for, from a goroutine locked to
// its OS thread, because the parent-death signal fires when the thread that
// forked the child ends, and the Go runtime may otherwise retire that
// thread while the child runs. The goroutine never unlocks, so its thread
// ends with it, once the child has been reaped.
func Start(cmd *exec.Cmd, o Options) (*Group, error) {
	cmd.SysProcAttr = sysProcAttr()
	g := &Group{cmd: cmd, opts: o, exited: make(chan struct{})}
	started := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		if err := cmd.Start(); err != nil {
			started <- err
			return
		}
		g.pid = cmd.Process.Pid
		started <- nil
		g.wait()
	}()
	if err := <-started; err != nil {
		return nil, err
	}
	return g, nil
}

// Pid is the command's process id, which is also the group's id.
func (g *Group) Pid() int { return g.pid }

// wait reaps the leader. Where the leader's exit can be seen before it is
// reaped (Linux), the leftovers are killed and Signal is held off until it
// is reaped, so that neither can reach a group whose id was reused.
func (g *Group) wait() {
	if awaitExit(g.pid) {
		g.mu.Lock()
		if g.opts.KillLeftovers {
			_ = killGroup(g.cmd, syscall.SIGKILL)
		}
		g.err = g.cmd.Wait()
		g.reaped = true
		g.mu.Unlock()
	} else {
		err := g.cmd.Wait()
		g.mu.Lock()
		g.err = err
		g.reaped = true
		if g.opts.KillLeftovers {
			_ = killGroup(g.cmd, syscall.SIGKILL)
		}
		g.mu.Unlock()
	}
	g.status = statusOf(g.cmd.ProcessState)
	close(g.exited)
}

// Signal sends sig to every process of the group; os.ErrProcessDone once the
// command has been reaped.
func (g *Group) Signal(sig syscall.Signal) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.reaped {
		return os.ErrProcessDone
	}
	return killGroup(g.cmd, sig)
}

// Exited is closed once the command has exited and been reaped.
func (g *Group) Exited() <-chan struct{} { return g.exited }

// Wait waits for the command and returns how it ended. The error is
// cmd.Wait's, when it is more than the exit status (copying output failed).
func (g *Group) Wait() (Status, error) {
	<-g.exited
	if _, ok := g.err.(*exec.ExitError); ok {
		return g.status, nil
	}
	return g.status, g.err
}
