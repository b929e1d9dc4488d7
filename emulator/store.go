package emulator

import (
	"encoding/binary"
	"sync"
	"time"

	pb "cloud.google.com/go/datastore/apiv1/datastorepb"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"go-leader-election/internal/dsname"
)

// partition is where entities live: one project, database and namespace.
type partition struct{ project, database, namespace string }

// ref names one entity: its partition and its encoded key path.
type ref struct {
	part partition
	path string
}

// record is one stored entity. A record is never modified once stored;
// a write replaces it.
type record struct {
	entity           *pb.Entity // key carries the full partition
	path             string
	version          int64
	created, updated time.Time
}

// db is the emulator's state and the implementation of the Datastore service.
type db struct {
	pb.UnimplementedDatastoreServer

	now       func() time.Time
	txTimeout time.Duration
	file      string // "" = in memory only

	mu        sync.Mutex
	seq       int64 // version of the latest commit
	nextID    int64 // last id handed out for an incomplete key
	parts     map[partition]map[string]*record
	txs       map[string]*txn
	lastSweep time.Time
}

func newDB() *db {
	return &db{
		now:       time.Now,
		txTimeout: time.Minute,
		parts:     map[partition]map[string]*record{},
		txs:       map[string]*txn{},
	}
}

// get returns the stored record for r, or nil. Callers hold d.mu.
func (d *db) get(r ref) *record { return d.parts[r.part][r.path] }

// version is r's current version, 0 when absent. Callers hold d.mu.
func (d *db) version(r ref) int64 {
	if rec := d.get(r); rec != nil {
		return rec.version
	}
	return 0
}

func invalid(format string, args ...any) error {
	return status.Errorf(codes.InvalidArgument, format, args...)
}

func unimplemented(what string) error {
	return status.Errorf(codes.Unimplemented, "%s is not supported by the emulator", what)
}

// partitionOf is the partition named by a request's project and database
// and a partition id, which may repeat them or leave them empty.
func partitionOf(project, database string, p *pb.PartitionId) (partition, error) {
	if project == "" {
		return partition{}, invalid("the project id is required")
	}
	if pp := p.GetProjectId(); pp != "" && pp != project {
		return partition{}, invalid("mismatched project id %q and %q", pp, project)
	}
	if pd := p.GetDatabaseId(); pd != "" && pd != database {
		return partition{}, invalid("mismatched database id %q and %q", pd, database)
	}
	if err := checkNamespace(p.GetNamespaceId()); err != nil {
		return partition{}, err
	}
	return partition{project, database, p.GetNamespaceId()}, nil
}

// resolve validates k and returns its ref. With allowIncomplete, the last
// path element may lack an id and a name; the returned bool reports that,
// and the ref's path is then empty.
func resolve(project, database string, k *pb.Key, allowIncomplete bool) (ref, bool, error) {
	part, err := partitionOf(project, database, k.GetPartitionId())
	if err != nil {
		return ref{}, false, err
	}
	path := k.GetPath()
	if len(path) == 0 {
		return ref{}, false, invalid("a key must have a non-empty path")
	}
	if err := checkKeyLimits(k); err != nil {
		return ref{}, false, err
	}
	for i, el := range path {
		if el.GetKind() == "" {
			return ref{}, false, invalid("a key path element must have a kind")
		}
		if el.GetIdType() == nil || (el.GetName() == "" && el.GetId() == 0) {
			if i == len(path)-1 && allowIncomplete {
				return ref{part: part}, true, nil
			}
			return ref{}, false, invalid("key path element %d (kind %q) is incomplete", i, el.GetKind())
		}
		if dsname.Reserved(el.GetName()) {
			return ref{}, false, invalid("the key name %q is reserved", el.GetName())
		}
	}
	return ref{part: part, path: encodePath(path)}, false, nil
}

// encodePath encodes a complete key path unambiguously.
func encodePath(path []*pb.Key_PathElement) string {
	var b []byte
	for _, el := range path {
		b = binary.AppendUvarint(b, uint64(len(el.GetKind())))
		b = append(b, el.GetKind()...)
		if name := el.GetName(); name != "" {
			b = append(b, 'n')
			b = binary.AppendUvarint(b, uint64(len(name)))
			b = append(b, name...)
		} else {
			b = append(b, 'i')
			b = binary.AppendVarint(b, el.GetId())
		}
	}
	return string(b)
}

// fullKey is a clone of k with the partition filled in, as stored.
func fullKey(k *pb.Key, p partition) *pb.Key {
	c := proto.Clone(k).(*pb.Key)
	c.PartitionId = &pb.PartitionId{ProjectId: p.project, DatabaseId: p.database, NamespaceId: p.namespace}
	return c
}

// truncateTimes truncates every timestamp in props to microseconds.
func truncateTimes(props map[string]*pb.Value) {
	for _, v := range props {
		truncateValue(v)
	}
}

func truncateValue(v *pb.Value) {
	switch x := v.GetValueType().(type) {
	case *pb.Value_TimestampValue:
		if x.TimestampValue != nil {
			x.TimestampValue.Nanos -= x.TimestampValue.Nanos % 1000
		}
	case *pb.Value_EntityValue:
		truncateTimes(x.EntityValue.GetProperties())
	case *pb.Value_ArrayValue:
		for _, e := range x.ArrayValue.GetValues() {
			truncateValue(e)
		}
	}
}

// result renders rec for a response, with key as its key. The response
// shares rec's properties instead of copying them (copies were a third of the
// emulator's CPU): a stored record is never changed, only replaced, and
// responses are only read.
func (rec *record) result(key *pb.Key, keysOnly bool) *pb.EntityResult {
	e := &pb.Entity{Key: key}
	if !keysOnly {
		e.Properties = rec.entity.GetProperties()
	}
	return &pb.EntityResult{
		Entity:     e,
		Version:    rec.version,
		CreateTime: timestamppb.New(rec.created),
		UpdateTime: timestamppb.New(rec.updated),
	}
}
