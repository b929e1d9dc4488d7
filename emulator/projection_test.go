package emulator

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"cloud.google.com/go/datastore"
	pb "cloud.google.com/go/datastore/apiv1/datastorepb"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

type person struct {
	Name string
	Age  int64
	City string
	Tags []string
	Bio  string `datastore:",noindex"`
	Born time.Time
}

var born = time.Date(1990, 5, 6, 7, 8, 9, 123456000, time.UTC)

// seedPeople stores p1..p5; p5 has no Age and no Tags.
func seedPeople(t *testing.T, c *datastore.Client) {
	t.Helper()
	people := []person{
		{Name: "ann", Age: 30, City: "paris", Tags: []string{"a", "b"}, Bio: "x", Born: born},
		{Name: "bob", Age: 25, City: "lyon", Tags: []string{"b", "c", "b"}, Bio: "y", Born: born},
		{Name: "cid", Age: 35, City: "paris", Tags: []string{"c"}, Bio: "z", Born: born},
		{Name: "dan", Age: 25, City: "nice", Tags: []string{"a"}, Bio: "w", Born: born},
	}
	var keys []*datastore.Key
	for i := range people {
		keys = append(keys, datastore.NameKey("P", fmt.Sprint("p", i+1), nil))
	}
	if _, err := c.PutMulti(t.Context(), keys, people); err != nil {
		t.Fatal(err)
	}
	p5 := datastore.PropertyList{{Name: "Name", Value: "eve"}, {Name: "City", Value: "lyon"}}
	if _, err := c.Put(t.Context(), datastore.NameKey("P", "p5", nil), &p5); err != nil {
		t.Fatal(err)
	}
}

// rowsOf runs q and renders each result as "key:prop=value,..." with the
// properties in the order of props.
func rowsOf(t *testing.T, c *datastore.Client, q *datastore.Query, props ...string) []string {
	t.Helper()
	var got []datastore.PropertyList
	keys, err := c.GetAll(t.Context(), q, &got)
	if err != nil {
		t.Fatal(err)
	}
	out := []string{}
	for i, pl := range got {
		m := map[string]any{}
		for _, p := range pl {
			m[p.Name] = p.Value
		}
		var parts []string
		for _, name := range props {
			parts = append(parts, fmt.Sprintf("%s=%v", name, m[name]))
		}
		if len(pl) != len(props) {
			parts = append(parts, fmt.Sprintf("(%d properties)", len(pl)))
		}
		out = append(out, keys[i].Name+":"+strings.Join(parts, ","))
	}
	return out
}

func TestProjection(t *testing.T) {
	_, c, _ := setup(t)
	seedPeople(t, c)
	q := datastore.NewQuery("P")
	for _, tc := range []struct {
		name  string
		q     *datastore.Query
		props []string
		want  []string
	}{
		{"two properties", q.Project("Name", "Age").Order("Age").Order("Name"), []string{"Name", "Age"},
			[]string{"p2:Name=bob,Age=25", "p4:Name=dan,Age=25", "p1:Name=ann,Age=30", "p3:Name=cid,Age=35"}},
		{"missing property: not in the index", q.Project("Age"), []string{"Age"},
			[]string{"p1:Age=30", "p2:Age=25", "p3:Age=35", "p4:Age=25"}},
		{"one result per array value, duplicates once", q.Project("Tags"), []string{"Tags"},
			[]string{"p1:Tags=a", "p1:Tags=b", "p2:Tags=b", "p2:Tags=c", "p3:Tags=c", "p4:Tags=a"}},
		{"array values ordered by value", q.Project("Tags").Order("-Tags"), []string{"Tags"},
			[]string{"p2:Tags=c", "p3:Tags=c", "p1:Tags=b", "p2:Tags=b", "p1:Tags=a", "p4:Tags=a"}},
		{"inequality on a projected array sees each value", q.Project("Tags").FilterField("Tags", ">", "a"), []string{"Tags"},
			[]string{"p1:Tags=b", "p2:Tags=b", "p2:Tags=c", "p3:Tags=c"}},
		{"filter on another property", q.Project("Name").FilterField("City", "=", "paris"), []string{"Name"},
			[]string{"p1:Name=ann", "p3:Name=cid"}},
		{"unindexed property: nothing", q.Project("Bio"), []string{"Bio"}, []string{}},
		{"distinct on", q.Project("City").DistinctOn("City"), []string{"City"},
			[]string{"p2:City=lyon", "p4:City=nice", "p1:City=paris"}},
		{"distinct on, ordered", q.Project("City", "Age").DistinctOn("City").Order("-City").Order("Age"), []string{"City", "Age"},
			[]string{"p1:City=paris,Age=30", "p4:City=nice,Age=25", "p2:City=lyon,Age=25"}},
		{"distinct on an array", q.Project("Tags").DistinctOn("Tags"), []string{"Tags"},
			[]string{"p1:Tags=a", "p1:Tags=b", "p2:Tags=c"}},
		{"distinct (all projected)", q.Project("Age").Distinct(), []string{"Age"},
			[]string{"p2:Age=25", "p1:Age=30", "p3:Age=35"}},
		{"limit and offset count rows", q.Project("Tags").Offset(1).Limit(3), []string{"Tags"},
			[]string{"p1:Tags=b", "p2:Tags=b", "p2:Tags=c"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := rowsOf(t, c, tc.q, tc.props...); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got  %q\nwant %q", got, tc.want)
			}
		})
	}

	// Cursors page through rows.
	it := c.Run(t.Context(), q.Project("Tags").Limit(4))
	for range 4 {
		if _, err := it.Next(&datastore.PropertyList{}); err != nil {
			t.Fatal(err)
		}
	}
	cur, err := it.Cursor()
	if err != nil {
		t.Fatal(err)
	}
	if got := rowsOf(t, c, q.Project("Tags").Start(cur), "Tags"); !reflect.DeepEqual(got, []string{"p3:Tags=c", "p4:Tags=a"}) {
		t.Errorf("from the cursor: %q", got)
	}
	n, err := c.Count(t.Context(), q.Project("Tags"))
	if err != nil {
		t.Fatal(err)
	}
	if n != 6 {
		t.Errorf("count of the projection = %d rows, want 6", n)
	}
}

func TestProjectionErrors(t *testing.T) {
	_, c, ctx := setup(t)
	seedPeople(t, c)
	q := datastore.NewQuery("P")
	for _, tc := range []struct {
		name string
		q    *datastore.Query
		msg  string
	}{
		{"equality on a projected property", q.Project("Name").FilterField("Name", "=", "ann"),
			"cannot use projection on a property with an equality filter"},
		{"IN on a projected property", q.Project("Age").FilterField("Age", "in", []any{int64(25), int64(30)}),
			"cannot use projection on a property with an equality filter"},
		{"equality on a distinct property", q.Project("Age").DistinctOn("City").FilterField("City", "=", "paris"),
			"cannot use group by on a property with an equality filter"},
		{"distinct not ordered first", q.Project("City", "Age").DistinctOn("City").Order("Age").Order("City"),
			"must specify all group by orderings before any non group by orderings"},
		{"projected twice", q.Project("Name", "Name"), "cannot project a property multiple times"},
		{"reserved property", q.Project("__name__"), "projections are not supported for the property"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := c.GetAll(ctx, tc.q, &[]datastore.PropertyList{})
			wantCode(t, err, codes.InvalidArgument)
			if !strings.Contains(status.Convert(err).Message(), tc.msg) {
				t.Errorf("message %q, want %q", status.Convert(err).Message(), tc.msg)
			}
		})
	}
}

// The protocol details the Go client hides: the result type, projected
// timestamps as integers with meaning 18 (as Datastore answers them), and
// DISTINCT ON without a projection returning whole entities.
func TestProjectionProtocol(t *testing.T) {
	s, c, ctx := setup(t)
	seedPeople(t, c)
	rc := raw(t, s)
	prop := func(n string) *pb.PropertyReference { return &pb.PropertyReference{Name: n} }
	run := func(q *pb.Query) *pb.QueryResultBatch {
		t.Helper()
		q.Kind = []*pb.KindExpression{{Name: "P"}}
		resp, err := rc.RunQuery(ctx, &pb.RunQueryRequest{ProjectId: testProject, QueryType: &pb.RunQueryRequest_Query{Query: q}})
		if err != nil {
			t.Fatal(err)
		}
		return resp.GetBatch()
	}
	b := run(&pb.Query{Projection: []*pb.Projection{{Property: prop("Born")}, {Property: prop("__key__")}},
		Filter: &pb.Filter{FilterType: &pb.Filter_PropertyFilter{PropertyFilter: &pb.PropertyFilter{
			Property: prop("__key__"), Op: pb.PropertyFilter_EQUAL,
			Value: &pb.Value{ValueType: &pb.Value_KeyValue{KeyValue: pbKey("P", "p1")}}}}}})
	if b.GetEntityResultType() != pb.EntityResult_PROJECTION || len(b.GetEntityResults()) != 1 {
		t.Fatalf("batch %v", b)
	}
	e := b.GetEntityResults()[0].GetEntity()
	v := e.GetProperties()["Born"]
	if len(e.GetProperties()) != 1 || v.GetIntegerValue() != born.UnixMicro() || v.GetMeaning() != meaningTimestamp {
		t.Errorf("projected timestamp: %v", e)
	}

	b = run(&pb.Query{DistinctOn: []*pb.PropertyReference{prop("City")}})
	if b.GetEntityResultType() != pb.EntityResult_FULL || len(b.GetEntityResults()) != 3 {
		t.Fatalf("distinct on without projection: %v", b)
	}
	if got := len(b.GetEntityResults()[0].GetEntity().GetProperties()); got != 6 {
		t.Errorf("first result (p2, lyon) has %d properties, want all 6", got)
	}
	b = run(&pb.Query{Projection: []*pb.Projection{{Property: prop("__key__")}}, DistinctOn: []*pb.PropertyReference{prop("Age")}})
	if b.GetEntityResultType() != pb.EntityResult_KEY_ONLY || len(b.GetEntityResults()) != 3 {
		t.Errorf("keys-only distinct on: %v", b)
	}
}
