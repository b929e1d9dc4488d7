//go:build unix

package procgroup

// The supervisor's protocol: one JSON message per packet of a Unix
// SOCK_SEQPACKET socket pair. The program sends requests; a start request
// carries the command's stdout and stderr as SCM_RIGHTS. The supervisor
// answers each start with a reply with Pid or Error, and later one with the
// command's Status. The socket's end (the program closed it, or died) makes
// the supervisor kill every group it runs, and exit.

// request is from the program to the supervisor.
type request struct {
	Op     string   `json:"op"` // "start" or "signal"
	ID     uint64   `json:"id"`
	Argv   []string `json:"argv,omitempty"`
	Env    []string `json:"env,omitempty"`
	Dir    string   `json:"dir,omitempty"`
	Signal int      `json:"signal,omitempty"`
}

// reply is from the supervisor to the program.
type reply struct {
	ID     uint64 `json:"id"`
	Pid    int    `json:"pid,omitempty"`    // started
	Error  string `json:"error,omitempty"`  // not started
	Status string `json:"status,omitempty"` // exited: Status.encode
}

const (
	opStart  = "start"
	opSignal = "signal"
	// maxRequest bounds a request (its environment, mostly): the buffer the
	// supervisor reads into, and the socket buffer the program asks for.
	maxRequest = 1 << 20
)
