package schedulers

import (
	"crypto/rand"
	"encoding/hex"

	"go-leader-election/internal/balance"
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

// Member returns the identity as balance names a member: ID the holder.
func (id Identity) Member() balance.Candidate {
	return balance.Candidate{ID: id.Holder, Node: id.Node}
}
