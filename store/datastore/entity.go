package datastore

import (
	"errors"
	"fmt"
	"time"

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

// propertyError reports one property of the wrong type.
type propertyError struct {
	name, got, want string
}

func (e *propertyError) Error() string {
	return fmt.Sprintf("%v: property %s holds %s, want %s", ErrBadEntity, e.name, e.got, e.want)
}

func (e *propertyError) Is(target error) bool { return target == ErrBadEntity }

// entity is the stored form of a store.Lease (without Job, which is the key's
// name). It implements datastore.PropertyLoadSaver so that it checks every
// property's type itself and keeps, and writes back unchanged, properties it
// does not know (written by a newer version, say).
type entity struct {
	lease store.Lease
	extra []datastore.Property
}

// Load implements datastore.PropertyLoadSaver. A known property of the wrong
// type is an error (matching ErrBadEntity); a missing one is left zero.
func (e *entity) Load(props []datastore.Property) error {
	var first error
	bad := func(p datastore.Property, want string) {
		if first == nil {
			first = &propertyError{name: p.Name, got: typeName(p.Value), want: want}
		}
	}
	for _, p := range props {
		switch p.Name {
		case propHolder, propNode:
			v, ok := p.Value.(string)
			if !ok {
				bad(p, "a string")
				continue
			}
			if p.Name == propHolder {
				e.lease.Holder = v
			} else {
				e.lease.Node = v
			}
		case propTerm, propTTLNanos, propVersion:
			v, ok := p.Value.(int64)
			if !ok {
				bad(p, "an integer")
				continue
			}
			switch p.Name {
			case propTerm:
				e.lease.Term = v
			case propTTLNanos:
				e.lease.TTL = time.Duration(v)
			default:
				e.lease.Version = v
			}
		case propTick, propExpires:
			v, ok := p.Value.(time.Time)
			if !ok {
				bad(p, "a timestamp")
				continue
			}
			if p.Name == propTick {
				e.lease.Tick = v.UTC()
			} else {
				e.lease.Expires = v.UTC()
			}
		case propPaused:
			v, ok := p.Value.(bool)
			if !ok {
				bad(p, "a boolean")
				continue
			}
			e.lease.Paused = v
		default:
			e.extra = append(e.extra, p)
		}
	}
	return first
}

// Save implements datastore.PropertyLoadSaver. Holder, Node, Tick, Expires
// and Paused are indexed, for people querying the console; Term, TTLNanos
// and Version are not.
func (e *entity) Save() ([]datastore.Property, error) {
	l := e.lease
	props := make([]datastore.Property, 0, 8+len(e.extra))
	props = append(props,
		datastore.Property{Name: propHolder, Value: l.Holder},
		datastore.Property{Name: propNode, Value: l.Node},
		datastore.Property{Name: propTerm, Value: l.Term, NoIndex: true},
		datastore.Property{Name: propTick, Value: l.Tick},
		datastore.Property{Name: propTTLNanos, Value: int64(l.TTL), NoIndex: true},
		datastore.Property{Name: propExpires, Value: l.Expires},
		datastore.Property{Name: propVersion, Value: l.Version, NoIndex: true},
		datastore.Property{Name: propPaused, Value: l.Paused},
	)
	return append(props, e.extra...), nil
}

func typeName(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "a string"
	case int64:
		return "an integer"
	case bool:
		return "a boolean"
	case float64:
		return "a float"
	case time.Time:
		return "a timestamp"
	case []byte:
		return "a blob"
	case *datastore.Key:
		return "a key"
	case datastore.GeoPoint:
		return "a geo point"
	case *datastore.Entity:
		return "an embedded entity"
	case []any:
		return "an array"
	default:
		return fmt.Sprintf("a %T", v)
	}
}
