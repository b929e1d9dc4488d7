package emulator

import (
	"context"

	pb "cloud.google.com/go/datastore/apiv1/datastorepb"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// Lookup answers every key in found or missing, each with the key as sent.
func (d *db) Lookup(_ context.Context, req *pb.LookupRequest) (*pb.LookupResponse, error) {
	if req.GetPropertyMask() != nil {
		return nil, unimplemented("a property mask")
	}
	project, database := req.GetProjectId(), req.GetDatabaseId()
	if len(req.GetKeys()) > MaxLookupKeys {
		return nil, invalid("cannot get more than %d keys in a single call", MaxLookupKeys)
	}
	refs := make([]ref, len(req.GetKeys()))
	for i, k := range req.GetKeys() {
		r, _, err := resolve(project, database, k, false)
		if err != nil {
			return nil, err
		}
		refs[i] = r
	}
	if _, err := partitionOf(project, database, nil); err != nil {
		return nil, err
	}

	d.mu.Lock()
	defer d.mu.Unlock()
	t, newID, err := d.readTx(project, database, req.GetReadOptions())
	if err != nil {
		return nil, err
	}
	resp := &pb.LookupResponse{Transaction: newID, ReadTime: timestamppb.New(d.now())}
	for i, r := range refs {
		key := req.GetKeys()[i]
		rec := d.get(r)
		if rec == nil {
			t.noteRead(r, 0)
			resp.Missing = append(resp.Missing, &pb.EntityResult{
				Entity:  &pb.Entity{Key: proto.Clone(key).(*pb.Key)},
				Version: d.seq,
			})
			continue
		}
		t.noteRead(r, rec.version)
		resp.Found = append(resp.Found, rec.result(key, false))
	}
	return resp, nil
}
