package schedulers

import (
	"crypto/rand"
	"encoding/hex"
)

// Identity names a process. Node is the operator's name for the replica;
// Holder adds a per-process random suffix, so that a restarted process with
// the same node name never inherits its predecessor's live lease.
type Identity struct {
	Node   string
	Holder string
}

// NewIdentity returns node's identity for this process.
func NewIdentity(node string) Identity {
	b := make([]byte, 4)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return Identity{Node: node, Holder: node + "/" + hex.EncodeToString(b)}
}
