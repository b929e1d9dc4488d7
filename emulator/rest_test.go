package emulator

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"cloud.google.com/go/datastore"
	pb "cloud.google.com/go/datastore/apiv1/datastorepb"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// restPost posts body to url and returns the HTTP status and the body.
func restPost(t *testing.T, url, body string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), "POST", url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, b
}

// rest calls verb with req over the REST API and decodes the answer into
// resp; it returns the error body when the status is not 200.
func rest(t *testing.T, s *Server, verb string, req, resp proto.Message) *restError {
	t.Helper()
	body, err := protojson.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	code, out := restPost(t, "http://"+s.Addr()+"/v1/projects/"+testProject+":"+verb, string(body))
	if code != http.StatusOK {
		var e restError
		if err := json.Unmarshal(out, &e); err != nil {
			t.Fatalf("%s: status %d, body %s: %v", verb, code, out, err)
		}
		if e.Error.Code != code {
			t.Errorf("%s: status %d, error code %d", verb, code, e.Error.Code)
		}
		return &e
	}
	if err := protojson.Unmarshal(out, resp); err != nil {
		t.Fatalf("%s: %s: %v", verb, out, err)
	}
	return nil
}

func wantREST(t *testing.T, e *restError, code int, status string) {
	t.Helper()
	if e == nil || e.Error.Code != code || e.Error.Status != status {
		t.Fatalf("got error %+v, want %d %s", e, code, status)
	}
}

// Every method over REST, on the same data as gRPC.
func TestREST(t *testing.T) {
	s, c, ctx := setup(t)
	k := datastore.NameKey("K", "a", nil)
	if _, err := c.Put(ctx, k, &counter{N: 7}); err != nil {
		t.Fatal(err)
	}

	var look pb.LookupResponse
	if e := rest(t, s, "lookup", &pb.LookupRequest{Keys: []*pb.Key{pbKey("K", "a"), pbKey("K", "b")}}, &look); e != nil {
		t.Fatal(e)
	}
	if len(look.GetFound()) != 1 || look.GetFound()[0].GetEntity().GetProperties()["N"].GetIntegerValue() != 7 || len(look.GetMissing()) != 1 {
		t.Fatalf("lookup %v", &look)
	}

	// A transaction: begin, read, commit; a second commit of it fails.
	var begin pb.BeginTransactionResponse
	if e := rest(t, s, "beginTransaction", &pb.BeginTransactionRequest{}, &begin); e != nil {
		t.Fatal(e)
	}
	tx := begin.GetTransaction()
	if e := rest(t, s, "lookup", &pb.LookupRequest{Keys: []*pb.Key{pbKey("K", "a")},
		ReadOptions: &pb.ReadOptions{ConsistencyType: &pb.ReadOptions_Transaction{Transaction: tx}}}, &look); e != nil {
		t.Fatal(e)
	}
	write := &pb.CommitRequest{Mode: pb.CommitRequest_TRANSACTIONAL, TransactionSelector: &pb.CommitRequest_Transaction{Transaction: tx},
		Mutations: []*pb.Mutation{upsert(&pb.Entity{Key: pbKey("K", "a"), Properties: map[string]*pb.Value{
			"N": {ValueType: &pb.Value_IntegerValue{IntegerValue: 8}}}})}}
	var commit pb.CommitResponse
	if e := rest(t, s, "commit", write, &commit); e != nil {
		t.Fatal(e)
	}
	var got counter
	if err := c.Get(ctx, k, &got); err != nil || got.N != 8 {
		t.Fatalf("after the REST commit, gRPC reads %+v, %v", got, err)
	}
	wantREST(t, rest(t, s, "commit", write, &commit), 400, "INVALID_ARGUMENT")

	// Contention: a transaction whose read changed is ABORTED, 409.
	if e := rest(t, s, "beginTransaction", &pb.BeginTransactionRequest{}, &begin); e != nil {
		t.Fatal(e)
	}
	write.TransactionSelector = &pb.CommitRequest_Transaction{Transaction: begin.GetTransaction()}
	if e := rest(t, s, "lookup", &pb.LookupRequest{Keys: []*pb.Key{pbKey("K", "a")},
		ReadOptions: &pb.ReadOptions{ConsistencyType: &pb.ReadOptions_Transaction{Transaction: begin.GetTransaction()}}}, &look); e != nil {
		t.Fatal(e)
	}
	if _, err := c.Put(ctx, k, &counter{N: 9}); err != nil {
		t.Fatal(err)
	}
	wantREST(t, rest(t, s, "commit", write, &commit), 409, "ABORTED")
	var rb pb.RollbackResponse
	if e := rest(t, s, "rollback", &pb.RollbackRequest{Transaction: begin.GetTransaction()}, &rb); e != nil {
		t.Fatal(e)
	}

	// Queries and aggregations.
	seedPeople(t, c)
	var rq pb.RunQueryResponse
	q := &pb.Query{Kind: []*pb.KindExpression{{Name: "P"}}, Projection: []*pb.Projection{{Property: &pb.PropertyReference{Name: "Name"}}},
		Order: []*pb.PropertyOrder{{Property: &pb.PropertyReference{Name: "Name"}, Direction: pb.PropertyOrder_DESCENDING}},
		Limit: wrapperspb.Int32(2)}
	if e := rest(t, s, "runQuery", &pb.RunQueryRequest{QueryType: &pb.RunQueryRequest_Query{Query: q}}, &rq); e != nil {
		t.Fatal(e)
	}
	var names []string
	for _, r := range rq.GetBatch().GetEntityResults() {
		names = append(names, r.GetEntity().GetProperties()["Name"].GetStringValue())
	}
	if fmt.Sprint(names) != "[eve dan]" || rq.GetBatch().GetMoreResults() != pb.QueryResultBatch_MORE_RESULTS_AFTER_LIMIT ||
		rq.GetBatch().GetEntityResultType() != pb.EntityResult_PROJECTION {
		t.Errorf("runQuery %v", &rq)
	}
	var agg pb.RunAggregationQueryResponse
	aq := &pb.AggregationQuery{QueryType: &pb.AggregationQuery_NestedQuery{NestedQuery: &pb.Query{Kind: []*pb.KindExpression{{Name: "P"}}}},
		Aggregations: []*pb.AggregationQuery_Aggregation{{Alias: "n", Operator: &pb.AggregationQuery_Aggregation_Count_{Count: &pb.AggregationQuery_Aggregation_Count{}}}}}
	if e := rest(t, s, "runAggregationQuery", &pb.RunAggregationQueryRequest{QueryType: &pb.RunAggregationQueryRequest_AggregationQuery{AggregationQuery: aq}}, &agg); e != nil {
		t.Fatal(e)
	}
	if n := agg.GetBatch().GetAggregationResults()[0].GetAggregateProperties()["n"].GetIntegerValue(); n != 5 {
		t.Errorf("count = %d", n)
	}

	// Ids.
	var alloc pb.AllocateIdsResponse
	incomplete := &pb.Key{Path: []*pb.Key_PathElement{{Kind: "K"}}}
	if e := rest(t, s, "allocateIds", &pb.AllocateIdsRequest{Keys: []*pb.Key{incomplete, incomplete}}, &alloc); e != nil {
		t.Fatal(e)
	}
	if len(alloc.GetKeys()) != 2 || alloc.GetKeys()[0].GetPath()[0].GetId() == 0 {
		t.Errorf("allocateIds %v", &alloc)
	}
	reserved := &pb.Key{Path: []*pb.Key_PathElement{{Kind: "K", IdType: &pb.Key_PathElement_Id{Id: 1 << 40}}}}
	var reserve pb.ReserveIdsResponse
	if e := rest(t, s, "reserveIds", &pb.ReserveIdsRequest{Keys: []*pb.Key{reserved}}, &reserve); e != nil {
		t.Fatal(e)
	}
	if e := rest(t, s, "allocateIds", &pb.AllocateIdsRequest{Keys: []*pb.Key{incomplete}}, &alloc); e != nil || alloc.GetKeys()[0].GetPath()[0].GetId() <= 1<<40 {
		t.Errorf("allocateIds after reserveIds: %v %v", &alloc, e)
	}
	if calls := s.Calls(); calls["Lookup"] < 3 || calls["Commit"] < 3 || calls["AllocateIds"] != 2 || calls["ReserveIds"] != 1 {
		t.Errorf("REST calls not counted with gRPC's: %v", calls)
	}
}

// The same request gets the same answer on either transport.
func TestRESTMatchesGRPC(t *testing.T) {
	s, c, ctx := setup(t)
	seedPeople(t, c)
	rc := raw(t, s)
	same := func(what string, grpc, rest proto.Message) {
		t.Helper()
		if !proto.Equal(grpc, rest) {
			t.Errorf("%s differs:\ngRPC %v\nREST %v", what, grpc, rest)
		}
	}

	lreq := &pb.LookupRequest{ProjectId: testProject, Keys: []*pb.Key{pbKey("P", "p1"), pbKey("P", "nope"), pbKey("P", "p2")}}
	want, err := rc.Lookup(ctx, lreq)
	if err != nil {
		t.Fatal(err)
	}
	var got pb.LookupResponse
	if e := rest(t, s, "lookup", lreq, &got); e != nil {
		t.Fatal(e)
	}
	want.ReadTime, got.ReadTime = nil, nil
	same("lookup", want, &got)

	qreq := &pb.RunQueryRequest{ProjectId: testProject, QueryType: &pb.RunQueryRequest_Query{Query: &pb.Query{
		Kind: []*pb.KindExpression{{Name: "P"}}, Projection: []*pb.Projection{{Property: &pb.PropertyReference{Name: "Tags"}}, {Property: &pb.PropertyReference{Name: "Born"}}},
		Filter: &pb.Filter{FilterType: &pb.Filter_PropertyFilter{PropertyFilter: &pb.PropertyFilter{
			Property: &pb.PropertyReference{Name: "Age"}, Op: pb.PropertyFilter_GREATER_THAN, Value: &pb.Value{ValueType: &pb.Value_IntegerValue{IntegerValue: 26}}}}}}}}
	wantQ, err := rc.RunQuery(ctx, qreq)
	if err != nil {
		t.Fatal(err)
	}
	var gotQ pb.RunQueryResponse
	if e := rest(t, s, "runQuery", qreq, &gotQ); e != nil {
		t.Fatal(e)
	}
	wantQ.Batch.ReadTime, gotQ.Batch.ReadTime = nil, nil
	same("runQuery", wantQ, &gotQ)
	if n := len(gotQ.GetBatch().GetEntityResults()); n != 3 {
		t.Errorf("%d rows, want 3", n)
	}
}

// Errors come back in Google's JSON shape with the matching HTTP status,
// whatever the path (gcloud's DATASTORE_EMULATOR_HOST_PATH prefix too);
// databaseId is honoured; enums can be numbers.
func TestRESTProtocol(t *testing.T) {
	s, _, ctx := setup(t)
	base := "http://" + s.Addr()
	for _, tc := range []struct {
		path, body string
		code       int
		status     string
	}{
		{"/v1/projects/p:lookup", `{"keys":[{"path":[{"kind":"K"}]}]}`, 400, "INVALID_ARGUMENT"},
		{"/v1/projects/p:lookup", `{"keys": [`, 400, "INVALID_ARGUMENT"},
		{"/v1/projects/p:lookup", `{"unknownField":1}`, 400, "INVALID_ARGUMENT"},
		{"/v1/projects/p:lookup", `{"projectId":"other"}`, 400, "INVALID_ARGUMENT"},
		{"/v1/projects/p:frobnicate", `{}`, 404, "NOT_FOUND"},
		{"/v1/projects/p", `{}`, 404, "NOT_FOUND"},
		{"/v1/projects/p:commit", `{"mode":"NON_TRANSACTIONAL","mutations":[{"update":{"key":{"path":[{"kind":"K","name":"x"}]}}}]}`, 404, "NOT_FOUND"},
		{"/datastore/v1/projects/p:runQuery", `{"gqlQuery":{"queryString":"SELECT *"}}`, 501, "UNIMPLEMENTED"},
		{"/datastore/v1/projects/p:commit", `{"mode":"NON_TRANSACTIONAL","mutations":[{"upsert":{"key":{"path":[{"kind":"K","name":"x"}]},` +
			`"properties":{"s":{"stringValue":"` + strings.Repeat("x", 1501) + `"}}}}]}`, 400, "INVALID_ARGUMENT"},
	} {
		code, body := restPost(t, base+tc.path, tc.body)
		var e restError
		if err := json.Unmarshal(body, &e); err != nil || code != tc.code || e.Error.Code != tc.code || e.Error.Status != tc.status || e.Error.Message == "" {
			t.Errorf("POST %s %.60s: %d %s, want %d %s", tc.path, tc.body, code, body, tc.code, tc.status)
		}
	}

	// An injected fault is a REST error too, and counted.
	s.Faults().Set(Fault{Method: "BeginTransaction", Code: codes.Unavailable, Count: 1})
	code, body := restPost(t, base+"/v1/projects/p:beginTransaction", `{}`)
	if code != 503 || !strings.Contains(string(body), `"status":"UNAVAILABLE"`) {
		t.Errorf("fault: %d %s", code, body)
	}
	if s.Calls()["BeginTransaction"] != 1 {
		t.Errorf("calls %v", s.Calls())
	}

	// databaseId and namespace pick the partition.
	code, body = restPost(t, base+"/v1/projects/"+testProject+":commit", `{"databaseId":"db2","mode":"NON_TRANSACTIONAL","mutations":[`+
		`{"insert":{"key":{"partitionId":{"namespaceId":"ns"},"path":[{"kind":"K","name":"x"}]},"properties":{"N":{"integerValue":"3"}}}}]}`)
	if code != 200 {
		t.Fatalf("commit to db2: %d %s", code, body)
	}
	k := datastore.NameKey("K", "x", nil)
	k.Namespace = "ns"
	var got counter
	if err := client(t, s, "db2").Get(ctx, k, &got); err != nil || got.N != 3 {
		t.Errorf("db2 over gRPC: %+v, %v", got, err)
	}
	if err := client(t, s, "").Get(ctx, k, &got); err != datastore.ErrNoSuchEntity {
		t.Errorf("the default database has it: %v", err)
	}

	// The $alt=json;enum-encoding=int that Google's REST clients send.
	q := `{"databaseId":"db2","partitionId":{"namespaceId":"ns"},"query":{"kind":[{"name":"K"}]}}`
	_, body = restPost(t, base+"/v1/projects/"+testProject+":runQuery?$alt=json%3Benum-encoding=int", q)
	if !strings.Contains(string(body), `"moreResults":3`) || !strings.Contains(string(body), `"entityResultType":1`) {
		t.Errorf("numeric enums: %s", body)
	}
	_, body = restPost(t, base+"/v1/projects/"+testProject+":runQuery", q)
	if !strings.Contains(string(body), `"moreResults":"NO_MORE_RESULTS"`) {
		t.Errorf("enum names: %s", body)
	}
}
