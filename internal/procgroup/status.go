package procgroup

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// Status is how a process ended: an exit status, or a signal.
type Status struct {
	// Code is the exit status, or -1 when a signal ended the process.
	Code int
	// Signal is the signal that ended the process, when Code is -1.
	Signal syscall.Signal
}

// String is "exit 3" or "signal: terminated".
func (s Status) String() string {
	if s.Code >= 0 {
		return "exit " + strconv.Itoa(s.Code)
	}
	return "signal: " + s.Signal.String()
}

// ShellCode is the shell's view of the status: the exit status, or 128 plus
// the signal's number.
func (s Status) ShellCode() int {
	if s.Code >= 0 {
		return s.Code
	}
	return 128 + int(s.Signal)
}

// statusOf reads ps, which may be nil (the process was not waited for).
func statusOf(ps *os.ProcessState) Status {
	if ps == nil {
		return Status{Code: 1}
	}
	if ws, ok := ps.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return Status{Code: -1, Signal: ws.Signal()}
	}
	if code := ps.ExitCode(); code >= 0 {
		return Status{Code: code}
	}
	return Status{Code: 1}
}

// encode writes s for the supervisor's status pipe: "exit N" or "signal N".
func (s Status) encode() string {
	if s.Code >= 0 {
		return "exit " + strconv.Itoa(s.Code)
	}
	return "signal " + strconv.Itoa(int(s.Signal))
}

// decodeStatus reads what encode wrote.
func decodeStatus(line string) (Status, error) {
	kind, num, _ := strings.Cut(strings.TrimSpace(line), " ")
	n, err := strconv.Atoi(num)
	switch {
	case err != nil:
	case kind == "exit" && n >= 0:
		return Status{Code: n}, nil
	case kind == "signal" && n > 0:
		return Status{Code: -1, Signal: syscall.Signal(n)}, nil
	}
	return Status{}, fmt.Errorf("procgroup: the supervisor reported %q, not a status", line)
}
