//go:build unix

package procgroup

import (
	"bytes"
	"encoding/gob"
	"fmt"
)

// The supervisor's protocol: one gob-encoded message per packet of a Unix
// SOCK_SEQPACKET socket pair (gob, not JSON: arguments and environments are
// bytes, not always UTF-8). The program sends requests; a start request
// carries the command's stdout and stderr as SCM_RIGHTS. The supervisor
// answers each start with a reply with Pid or Error, and later one with the
// command's Status. The socket's end (the program closed it, or died) makes
// the supervisor kill every group it runs, and exit.

// request is from the program to the supervisor.
type request struct {
	Op     string // "start" or "signal"
	ID     uint64
	Argv   []string
	Env    []string
	Dir    string
	Signal int
}

// reply is from the supervisor to the program.
type reply struct {
	ID     uint64
	Pid    int    // started
	Error  string // not started
	Status string // exited: Status.encode
}

const (
	opStart  = "start"
	opSignal = "signal"
	// maxRequest bounds a request (its environment, mostly): the buffer the
	// supervisor reads into, and the socket buffer the program asks for.
	maxRequest = 1 << 20
)

// encode is one message, a packet.
func encode(v any) []byte {
	var b bytes.Buffer
	if err := gob.NewEncoder(&b).Encode(v); err != nil {
		panic(fmt.Sprintf("procgroup: encoding %T: %v", v, err)) // plain data: cannot fail
	}
	return b.Bytes()
}

// decode reads one packet into v.
func decode(packet []byte, v any) error {
	return gob.NewDecoder(bytes.NewReader(packet)).Decode(v)
}
