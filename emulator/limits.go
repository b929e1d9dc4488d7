package emulator

import (
	"regexp"

	pb "cloud.google.com/go/datastore/apiv1/datastorepb"
	"google.golang.org/protobuf/proto"
)

// Datastore's documented limits
// (https://cloud.google.com/datastore/docs/concepts/limits and the
// google.datastore.v1 protos), which the emulator enforces as Datastore
// does: a request past one fails whole with INVALID_ARGUMENT, with
// Datastore's message where it is known, and nothing is written.
const (
	// MaxCommitMutations is the number of mutations one Commit may carry.
	MaxCommitMutations = 500
	// MaxLookupKeys is the number of keys one Lookup may read.
	MaxLookupKeys = 1000
	// MaxIndexedBytes bounds an indexed string (its UTF-8 encoding) or
	// blob value.
	MaxIndexedBytes = 1500
	// MaxUnindexedBytes bounds a string or blob value excluded from
	// indexes (1 MiB - 89 bytes).
	MaxUnindexedBytes = 1_048_487
	// MaxEntityBytes bounds an entity, measured as its encoded protobuf
	// (1 MiB - 4 bytes).
	MaxEntityBytes = 1_048_572
	// MaxKeyBytes bounds a key, measured as its encoded protobuf.
	MaxKeyBytes = 6 << 10
	// MaxKeyPathElements is the depth a key path may have.
	MaxKeyPathElements = 100
	// MaxNameBytes bounds a kind, a key name and a property name.
	MaxNameBytes = 1500
	// MaxNestingDepth is how deep entity values may nest in an entity.
	MaxNestingDepth = 20
	// MaxRequestBytes bounds a request, measured as its encoded protobuf
	// whichever transport carried it.
	MaxRequestBytes = 10 << 20
)

// namespacePattern is what a namespace id must match (PartitionId's doc).
var namespacePattern = regexp.MustCompile(`^[A-Za-z\d.\-_]{0,100}$`)

func checkNamespace(ns string) error {
	if !namespacePattern.MatchString(ns) {
		return invalid("the namespace id %q must match [A-Za-z0-9._-]{0,100}", ns)
	}
	return nil
}

// checkRequest bounds a whole request's size.
func checkRequest(req any) error {
	if m, ok := req.(proto.Message); ok && proto.Size(m) > MaxRequestBytes {
		return invalid("Request payload size exceeds the limit: %d bytes.", MaxRequestBytes)
	}
	return nil
}

// checkKeyLimits checks a key's depth and sizes, whether complete or not.
func checkKeyLimits(k *pb.Key) error {
	path := k.GetPath()
	if len(path) > MaxKeyPathElements {
		return invalid("The key path has %d elements, more than the %d allowed.", len(path), MaxKeyPathElements)
	}
	for _, el := range path {
		if len(el.GetKind()) > MaxNameBytes {
			return invalid("The key path element kind is longer than %d bytes.", MaxNameBytes)
		}
		if len(el.GetName()) > MaxNameBytes {
			return invalid("The key path element name is longer than %d bytes.", MaxNameBytes)
		}
	}
	if n := proto.Size(k); n > MaxKeyBytes {
		return invalid("The key is longer than %d bytes.", MaxKeyBytes)
	}
	return nil
}

// checkEntity checks an entity to be written against the value, name,
// nesting and size limits.
func checkEntity(e *pb.Entity) error {
	if err := checkProperties(e.GetProperties(), true, 0); err != nil {
		return err
	}
	if proto.Size(e) > MaxEntityBytes {
		return invalid("entity is too big")
	}
	return nil
}

// checkProperties checks the properties of an entity nested depth entity
// values deep; indexed is false inside an entity value excluded from indexes.
func checkProperties(props map[string]*pb.Value, indexed bool, depth int) error {
	for name, v := range props {
		if name == "" {
			return invalid("A property name must not be empty.")
		}
		if len(name) > MaxNameBytes {
			return invalid("The property.name is longer than %d bytes.", MaxNameBytes)
		}
		if arr := v.GetArrayValue(); arr != nil {
			if v.GetExcludeFromIndexes() {
				return invalid("Exclude from indexes cannot be set on a list value")
			}
			for _, el := range arr.GetValues() {
				if el.GetArrayValue() != nil {
					return invalid("An array value cannot contain another array value (property %q).", name)
				}
				if err := checkValue(name, el, indexed, depth); err != nil {
					return err
				}
			}
			continue
		}
		if err := checkValue(name, v, indexed, depth); err != nil {
			return err
		}
	}
	return nil
}

// checkValue checks one value, not an array, of property name.
func checkValue(name string, v *pb.Value, indexed bool, depth int) error {
	indexed = indexed && !v.GetExcludeFromIndexes()
	var n int
	switch x := v.GetValueType().(type) {
	case *pb.Value_StringValue:
		n = len(x.StringValue)
	case *pb.Value_BlobValue:
		n = len(x.BlobValue)
	case *pb.Value_KeyValue:
		return checkKeyLimits(x.KeyValue)
	case *pb.Value_EntityValue:
		if depth+1 > MaxNestingDepth {
			return invalid("Entity values of property %q are nested more than %d deep.", name, MaxNestingDepth)
		}
		return checkProperties(x.EntityValue.GetProperties(), indexed, depth+1)
	}
	if indexed && n > MaxIndexedBytes {
		return invalid("The value of property %q is longer than %d bytes.", name, MaxIndexedBytes)
	}
	if n > MaxUnindexedBytes {
		return invalid("The value of property %q is longer than %d bytes.", name, MaxUnindexedBytes)
	}
	return nil
}
