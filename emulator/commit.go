package emulator

import (
	"context"

	pb "cloud.google.com/go/datastore/apiv1/datastorepb"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"go-leader-election/internal/dsname"
)

type opKind int

const (
	opInsert opKind = iota
	opUpdate
	opUpsert
	opDelete
)

// op is one validated mutation.
type op struct {
	kind        opKind
	key         *pb.Key // as sent
	r           ref     // path empty when incomplete
	incomplete  bool
	entity      *pb.Entity // nil for a delete
	baseVersion *int64
}

func parseMutation(project, database string, m *pb.Mutation) (op, error) {
	if len(m.GetPropertyTransforms()) > 0 {
		return op{}, unimplemented("a property transform")
	}
	if m.GetPropertyMask() != nil {
		return op{}, unimplemented("a property mask")
	}
	var o op
	switch s := m.GetConflictDetectionStrategy().(type) {
	case *pb.Mutation_BaseVersion:
		o.baseVersion = &s.BaseVersion
	case *pb.Mutation_UpdateTime:
		return op{}, unimplemented("an update_time precondition")
	}
	switch x := m.GetOperation().(type) {
	case *pb.Mutation_Insert:
		o.kind, o.entity = opInsert, x.Insert
	case *pb.Mutation_Update:
		o.kind, o.entity = opUpdate, x.Update
	case *pb.Mutation_Upsert:
		o.kind, o.entity = opUpsert, x.Upsert
	case *pb.Mutation_Delete:
		o.kind, o.key = opDelete, x.Delete
	default:
		return op{}, invalid("a mutation must have an operation")
	}
	if o.kind != opDelete {
		if o.entity == nil {
			return op{}, invalid("a mutation must have an entity")
		}
		o.key = o.entity.GetKey()
	}
	var err error
	o.r, o.incomplete, err = resolve(project, database, o.key, o.kind == opInsert || o.kind == opUpsert)
	if err != nil {
		return op{}, err
	}
	for _, el := range o.key.GetPath() {
		if dsname.Reserved(el.GetKind()) {
			return op{}, invalid("the kind %q is reserved", el.GetKind())
		}
	}
	if o.entity != nil {
		if err := checkEntity(o.entity); err != nil {
			return op{}, err
		}
	}
	return o, nil
}

// Commit applies mutations, in a transaction or not, all or none.
func (d *db) Commit(_ context.Context, req *pb.CommitRequest) (*pb.CommitResponse, error) {
	project, database := req.GetProjectId(), req.GetDatabaseId()
	if _, err := partitionOf(project, database, nil); err != nil {
		return nil, err
	}
	if n := len(req.GetMutations()); n > MaxCommitMutations {
		return nil, invalid("cannot write more than %d entities in a single call", MaxCommitMutations)
	}
	ops := make([]op, len(req.GetMutations()))
	for i, m := range req.GetMutations() {
		o, err := parseMutation(project, database, m)
		if err != nil {
			return nil, err
		}
		ops[i] = o
	}
	sel := req.GetTransactionSelector()
	switch req.GetMode() {
	case pb.CommitRequest_TRANSACTIONAL:
		if sel == nil {
			return nil, invalid("a transactional commit needs a transaction")
		}
	case pb.CommitRequest_NON_TRANSACTIONAL:
		if sel != nil {
			return nil, invalid("a non-transactional commit cannot name a transaction")
		}
	}

	d.mu.Lock()
	defer d.mu.Unlock()
	var t *txn
	switch s := sel.(type) {
	case *pb.CommitRequest_Transaction:
		var err error
		if t, err = d.open(s.Transaction, project, database); err != nil {
			return nil, err
		}
		delete(d.txs, t.id) // closed, whatever the outcome
	case *pb.CommitRequest_SingleUseTransaction:
		t = d.newTxn(project, database, s.SingleUseTransaction)
	}
	if t != nil {
		if t.readOnly && len(ops) > 0 {
			return nil, invalid("a read-only transaction cannot write")
		}
		if !d.unchanged(t) {
			return nil, errAborted
		}
	}
	return d.apply(ops)
}

// apply runs ops against the store atomically: on any error nothing is
// written. Callers hold d.mu.
func (d *db) apply(ops []op) (*pb.CommitResponse, error) {
	now := d.now()
	version := d.seq + 1
	pending := map[ref]*record{} // nil value = deleted
	current := func(r ref) *record {
		if rec, ok := pending[r]; ok {
			return rec
		}
		return d.get(r)
	}
	resp := &pb.CommitResponse{CommitTime: timestamppb.New(now)}
	for _, o := range ops {
		res := &pb.MutationResult{Version: version, UpdateTime: timestamppb.New(now)}
		resp.MutationResults = append(resp.MutationResults, res)
		key, r := o.key, o.r
		if o.incomplete {
			key, r = d.allocate(o.r.part, o.key, func(r ref) bool { return current(r) != nil })
			res.Key = key
		}
		cur := current(r)
		var curVersion int64
		if cur != nil {
			curVersion = cur.version
		}
		if o.baseVersion != nil && *o.baseVersion != curVersion {
			res.ConflictDetected, res.Version = true, curVersion
			continue
		}
		switch {
		case o.kind == opInsert && cur != nil:
			return nil, status.Error(codes.AlreadyExists, "entity already exists")
		case o.kind == opUpdate && cur == nil:
			return nil, status.Error(codes.NotFound, "no entity to update")
		case o.kind == opDelete:
			pending[r] = nil
			continue
		}
		created := now
		if cur != nil {
			created = cur.created
		}
		e := o.entity // the request's own, which gRPC hands over and never reuses
		e.Key = fullKey(key, r.part)
		truncateTimes(e.GetProperties())
		pending[r] = &record{entity: e, path: r.path, version: version, created: created, updated: now}
		res.CreateTime = timestamppb.New(created)
	}
	if len(pending) == 0 {
		return resp, nil
	}
	d.seq = version
	for r, rec := range pending {
		m := d.parts[r.part]
		if rec == nil {
			delete(m, r.path)
			continue
		}
		if m == nil {
			m = map[string]*record{}
			d.parts[r.part] = m
		}
		m[r.path] = rec
	}
	resp.IndexUpdates = int32(len(pending))
	if err := d.save(); err != nil {
		return nil, status.Errorf(codes.Internal, "emulator: applied but not saved: %v", err)
	}
	return resp, nil
}

// allocate completes the incomplete key k with a fresh id no entity uses.
// Callers hold d.mu.
func (d *db) allocate(part partition, k *pb.Key, taken func(ref) bool) (*pb.Key, ref) {
	for {
		d.nextID++
		c := proto.Clone(k).(*pb.Key)
		c.Path[len(c.Path)-1].IdType = &pb.Key_PathElement_Id{Id: d.nextID}
		if r := (ref{part, encodePath(c.Path)}); !taken(r) {
			return c, r
		}
	}
}

// AllocateIds completes incomplete keys with unique ids.
func (d *db) AllocateIds(_ context.Context, req *pb.AllocateIdsRequest) (*pb.AllocateIdsResponse, error) {
	refs := make([]ref, len(req.GetKeys()))
	for i, k := range req.GetKeys() {
		r, incomplete, err := resolve(req.GetProjectId(), req.GetDatabaseId(), k, true)
		if err != nil {
			return nil, err
		}
		if !incomplete {
			return nil, invalid("AllocateIds needs incomplete keys")
		}
		refs[i] = r
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	resp := &pb.AllocateIdsResponse{}
	for i, k := range req.GetKeys() {
		key, _ := d.allocate(refs[i].part, k, func(r ref) bool { return d.get(r) != nil })
		resp.Keys = append(resp.Keys, key)
	}
	return resp, nil
}

// ReserveIds accepts complete keys; later allocations stay above their ids.
func (d *db) ReserveIds(_ context.Context, req *pb.ReserveIdsRequest) (*pb.ReserveIdsResponse, error) {
	for _, k := range req.GetKeys() {
		if _, _, err := resolve(req.GetProjectId(), req.GetDatabaseId(), k, false); err != nil {
			return nil, err
		}
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, k := range req.GetKeys() {
		path := k.GetPath()
		if id := path[len(path)-1].GetId(); id > d.nextID && id < 1<<53 {
			d.nextID = id
		}
	}
	return &pb.ReserveIdsResponse{}, nil
}
