package datastore

import (
	"errors"

	"cloud.google.com/go/datastore"

	"go-leader-election/store"
)

// Property names of a lease entity.
const (
	propHolder   = "Holder"
	propNode     = "Node"
	propTerm     = "Term"
	propTick     = "Tick"
	propTTLNanos = "TTLNanos"
	propExpires  = "Expires"
	propVersion  = "Version"
	propPaused   = "Paused"
)

// ErrBadEntity is matched (errors.Is) by the error Get, Claim, Renew and
// Release return when the stored entity has a property of the wrong type, as
// when something other than this package wrote it. Such an entity is never
// overwritten.
var ErrBadEntity = errors.New("bad lease entity")

// entity is the stored form of a store.Lease (without Job, which is the key's
// name). It implements datastore.PropertyLoadSaver so that it checks every
// property's type itself and keeps, and writes back unchanged, properties it
// does not know (written by a newer version, say).
type entity struct {
	lease store.Lease
	extra []datastore.Property
}

// fields are the entity's properties, in the order they are saved.
// Holder, Node, Tick, Expires and Paused are indexed, for people querying
// the console; Term, TTLNanos and Version are not.
func (e *entity) fields() []field {
	l := &e.lease
	return []field{
		{name: propHolder, ptr: &l.Holder},
		{name: propNode, ptr: &l.Node},
		{name: propTerm, ptr: &l.Term, noIndex: true},
		{name: propTick, ptr: &l.Tick},
		{name: propTTLNanos, ptr: &l.TTL, noIndex: true},
		{name: propExpires, ptr: &l.Expires},
		{name: propVersion, ptr: &l.Version, noIndex: true},
		{name: propPaused, ptr: &l.Paused},
	}
}

// Load implements datastore.PropertyLoadSaver. A known property of the wrong
// type is an error (matching ErrBadEntity); a missing one is left zero.
func (e *entity) Load(props []datastore.Property) error {
	unknown, err := loadFields(props, e.fields(), ErrBadEntity)
	e.extra = append(e.extra, unknown...)
	return err
}

// Save implements datastore.PropertyLoadSaver.
func (e *entity) Save() ([]datastore.Property, error) {
	return append(saveFields(e.fields()), e.extra...), nil
}
