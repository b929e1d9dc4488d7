package emulator

import (
	"reflect"
	"testing"

	"cloud.google.com/go/datastore"
	pb "cloud.google.com/go/datastore/apiv1/datastorepb"
	"google.golang.org/api/iterator"
)

// seed stores leases named n0..n5 with Term i and Node "even" or "odd",
// plus one in namespace "ns" and one of another kind.
func seed(t *testing.T, c *datastore.Client) {
	t.Helper()
	var keys []*datastore.Key
	var ls []lease
	for i := range 6 {
		node := "even"
		if i%2 == 1 {
			node = "odd"
		}
		keys = append(keys, datastore.NameKey("Lease", "n"+string(rune('0'+i)), nil))
		ls = append(ls, lease{Holder: keys[i].Name, Node: node, Term: int64(i), Strs: []string{"all", node}})
	}
	ns := datastore.NameKey("Lease", "n9", nil)
	ns.Namespace = "ns"
	keys = append(keys, ns, datastore.NameKey("Other", "o", nil))
	ls = append(ls, lease{Holder: "n9", Node: "even"}, lease{Holder: "o", Node: "even"})
	if _, err := c.PutMulti(t.Context(), keys, ls); err != nil {
		t.Fatal(err)
	}
}

func holders(ls []lease) []string {
	out := []string{}
	for _, l := range ls {
		out = append(out, l.Holder)
	}
	return out
}

func TestQueries(t *testing.T) {
	_, c, ctx := setup(t)
	seed(t, c)
	for _, tc := range []struct {
		name string
		q    *datastore.Query
		want []string
	}{
		{"kind", datastore.NewQuery("Lease"), []string{"n0", "n1", "n2", "n3", "n4", "n5"}},
		{"namespace", datastore.NewQuery("Lease").Namespace("ns"), []string{"n9"}},
		{"equality", datastore.NewQuery("Lease").FilterField("Node", "=", "odd"), []string{"n1", "n3", "n5"}},
		{"and", datastore.NewQuery("Lease").FilterField("Node", "=", "even").FilterField("Term", "=", int64(2)), []string{"n2"}},
		{"array element", datastore.NewQuery("Lease").FilterField("Strs", "=", "odd"), []string{"n1", "n3", "n5"}},
		{"limit", datastore.NewQuery("Lease").Limit(2), []string{"n0", "n1"}},
		{"offset", datastore.NewQuery("Lease").Offset(4), []string{"n4", "n5"}},
		{"inequality and order", datastore.NewQuery("Lease").FilterField("Term", ">=", int64(3)).Order("-Term"), []string{"n5", "n4", "n3"}},
		{"in", datastore.NewQuery("Lease").FilterField("Term", "in", []interface{}{int64(1), int64(4)}), []string{"n1", "n4"}},
		{"or", datastore.NewQuery("Lease").FilterEntity(datastore.OrFilter{Filters: []datastore.EntityFilter{
			datastore.PropertyFilter{FieldName: "Term", Operator: "=", Value: int64(0)},
			datastore.PropertyFilter{FieldName: "Term", Operator: "=", Value: int64(5)}}}), []string{"n0", "n5"}},
		{"key filter", datastore.NewQuery("Lease").FilterField("__key__", ">", datastore.NameKey("Lease", "n3", nil)), []string{"n4", "n5"}},
		{"unindexed", datastore.NewQuery("Lease").FilterField("NoIndex", "=", ""), []string{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []lease
			if _, err := c.GetAll(ctx, tc.q, &got); err != nil {
				t.Fatal(err)
			}
			if h := holders(got); !reflect.DeepEqual(h, tc.want) {
				t.Errorf("got %v, want %v", h, tc.want)
			}
		})
	}
}

func TestKeysOnlyAndIterator(t *testing.T) {
	_, c, ctx := setup(t)
	seed(t, c)
	keys, err := c.GetAll(ctx, datastore.NewQuery("Lease").FilterField("Node", "=", "even").KeysOnly(), nil)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, k := range keys {
		names = append(names, k.Name)
	}
	if !reflect.DeepEqual(names, []string{"n0", "n2", "n4"}) {
		t.Errorf("keys-only = %v", names)
	}

	// Resume from a cursor after a limited page.
	it := c.Run(ctx, datastore.NewQuery("Lease").Limit(4))
	for range 4 {
		if _, err := it.Next(&lease{}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := it.Next(&lease{}); err != iterator.Done {
		t.Fatalf("after the limit: %v", err)
	}
	cur, err := it.Cursor()
	if err != nil {
		t.Fatal(err)
	}
	var rest []lease
	if _, err := c.GetAll(ctx, datastore.NewQuery("Lease").Start(cur), &rest); err != nil {
		t.Fatal(err)
	}
	if h := holders(rest); !reflect.DeepEqual(h, []string{"n4", "n5"}) {
		t.Errorf("from cursor: %v", h)
	}

	n, err := c.Count(ctx, datastore.NewQuery("Lease"))
	if err != nil || n != 6 {
		t.Errorf("Count = %d, %v", n, err)
	}
}

func TestAggregation(t *testing.T) {
	_, c, ctx := setup(t)
	seed(t, c)
	aq := datastore.NewQuery("Lease").FilterField("Node", "=", "odd").NewAggregationQuery().
		WithCount("count").WithSum("Term", "sum").WithAvg("Term", "avg")
	res, err := c.RunAggregationQuery(ctx, aq)
	if err != nil {
		t.Fatal(err)
	}
	if got := res["count"].(*pb.Value).GetIntegerValue(); got != 3 {
		t.Errorf("count = %d", got)
	}
	if got := res["sum"].(*pb.Value).GetIntegerValue(); got != 9 {
		t.Errorf("sum = %d", got)
	}
	if got := res["avg"].(*pb.Value).GetDoubleValue(); got != 3 {
		t.Errorf("avg = %v", got)
	}
}
