package emulator

import (
	"encoding/json"
	"testing"

	pb "cloud.google.com/go/datastore/apiv1/datastorepb"
	"google.golang.org/grpc/codes"
)

// pbKey is a name key in the default partition of testProject.
func pbKey(kind, name string) *pb.Key {
	return &pb.Key{PartitionId: &pb.PartitionId{ProjectId: testProject},
		Path: []*pb.Key_PathElement{{Kind: kind, IdType: &pb.Key_PathElement_Name{Name: name}}}}
}

func str(s string) *pb.Value { return &pb.Value{ValueType: &pb.Value_StringValue{StringValue: s}} }

func upsert(e *pb.Entity) *pb.Mutation {
	return &pb.Mutation{Operation: &pb.Mutation_Upsert{Upsert: e}}
}

// An applied fault carries the call out and then answers the error, so the
// caller cannot tell a lost answer from a failed call; a plain one does not
// carry it out.
func TestAppliedFault(t *testing.T) {
	s := start(t, Options{})
	rc := raw(t, s)
	ctx := t.Context()
	commit := func(name string) error {
		_, err := rc.Commit(ctx, &pb.CommitRequest{ProjectId: testProject, Mode: pb.CommitRequest_NON_TRANSACTIONAL,
			Mutations: []*pb.Mutation{upsert(&pb.Entity{Key: pbKey("K", name), Properties: map[string]*pb.Value{"v": str(name)}})}})
		return err
	}
	exists := func(name string) bool {
		resp, err := rc.Lookup(ctx, &pb.LookupRequest{ProjectId: testProject, Keys: []*pb.Key{pbKey("K", name)}})
		if err != nil {
			t.Fatal(err)
		}
		return len(resp.GetFound()) == 1
	}

	s.Faults().Set(Fault{Method: "Commit", Code: codes.Unavailable, Count: 1})
	wantCode(t, commit("lost"), codes.Unavailable)
	if exists("lost") {
		t.Error("a plain UNAVAILABLE fault applied the commit")
	}

	f, err := ParseFault("Commit:error=UNAVAILABLE,applied=true,count=1")
	if err != nil || !f.Applied || f.Code != codes.Unavailable {
		t.Fatalf("ParseFault = %+v, %v", f, err)
	}
	s.Faults().Set(f)
	wantCode(t, commit("applied"), codes.Unavailable)
	if !exists("applied") {
		t.Error("an applied fault did not apply the commit")
	}
	if rules := s.Faults().Rules(); len(rules) != 0 {
		t.Errorf("rules left after count 1: %+v", rules)
	}

	// The admin API takes it as JSON and lists it back.
	base := "http://" + s.Addr()
	httpDo(t, "POST", base+"/faults", `{"method":"Commit","error":"UNAVAILABLE","applied":true,"rate":1}`)
	var rules []Fault
	if err := json.Unmarshal([]byte(httpDo(t, "GET", base+"/faults", "")), &rules); err != nil {
		t.Fatal(err)
	}
	if want := (Fault{Method: "Commit", Code: codes.Unavailable, Applied: true, Rate: 1}); len(rules) != 1 || rules[0] != want {
		t.Fatalf("rules = %+v, want %+v", rules, want)
	}
	for _, name := range []string{"a", "b"} {
		wantCode(t, commit(name), codes.Unavailable)
		if !exists(name) {
			t.Errorf("commit %s not applied", name)
		}
	}
	httpDo(t, "DELETE", base+"/faults", "")
	if err := commit("c"); err != nil {
		t.Errorf("after DELETE /faults: %v", err)
	}

	for _, bad := range []string{"Commit:applied=true", "Commit:applied=maybe,error=UNAVAILABLE"} {
		if _, err := ParseFault(bad); err == nil {
			t.Errorf("ParseFault(%q) succeeded", bad)
		}
	}
	b, _ := json.Marshal(f)
	if string(b) != `{"method":"Commit","error":"UNAVAILABLE","applied":true,"count":1}` {
		t.Errorf("JSON %s", b)
	}
}
