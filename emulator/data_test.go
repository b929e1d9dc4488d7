package emulator

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"cloud.google.com/go/datastore"
	"google.golang.org/grpc/codes"
)

type lease struct {
	Holder  string
	Node    string
	Term    int64
	Tick    time.Time
	TTL     int64
	Expires time.Time
	Version int64
	F       float64
	B       bool
	Bs      []byte
	Strs    []string
	Nested  *datastore.Key
	Zero    time.Time
	NoIndex string `datastore:",noindex"`
}

func TestRoundTripStruct(t *testing.T) {
	_, c, ctx := setup(t)
	tick := time.Date(2025, 3, 4, 5, 6, 7, 123456789, time.UTC)
	in := lease{
		Holder: "node-a/1", Node: "node-a", Term: 7, Tick: tick, TTL: int64(10 * time.Second),
		Expires: tick.Add(time.Minute), Version: -3, F: 1.5, B: true, Bs: []byte{0, 1, 255},
		Strs: []string{"x", "y"}, Nested: datastore.NameKey("Parent", "p", datastore.IDKey("Root", 9, nil)),
		NoIndex: "long text",
	}
	k := datastore.NameKey("Lease", "job-1", nil)
	if _, err := c.Put(ctx, k, &in); err != nil {
		t.Fatal(err)
	}
	var out lease
	if err := c.Get(ctx, k, &out); err != nil {
		t.Fatal(err)
	}
	want := in
	want.Tick = tick.Truncate(time.Microsecond)
	want.Expires = in.Expires.Truncate(time.Microsecond)
	if out.Tick.Nanosecond() != 123456000 {
		t.Errorf("Tick nanoseconds = %d, want truncation to microseconds", out.Tick.Nanosecond())
	}
	if !out.Zero.IsZero() {
		t.Errorf("zero time came back as %v", out.Zero)
	}
	for _, p := range []struct{ got, want *time.Time }{{&out.Tick, &want.Tick}, {&out.Expires, &want.Expires}, {&out.Zero, &want.Zero}} {
		if !p.got.Equal(*p.want) {
			t.Errorf("time %v, want %v", *p.got, *p.want)
		}
		*p.got = *p.want // compare the rest with DeepEqual
	}
	if !reflect.DeepEqual(out, want) {
		t.Errorf("round trip:\n got %+v\nwant %+v", out, want)
	}
}

func TestRoundTripEveryValueType(t *testing.T) {
	_, c, ctx := setup(t)
	when := time.Date(2030, 1, 2, 3, 4, 5, 6000, time.UTC)
	in := datastore.PropertyList{
		{Name: "Null", Value: nil},
		{Name: "Int", Value: int64(-42)},
		{Name: "Bool", Value: true},
		{Name: "String", Value: "héllo"},
		{Name: "Float", Value: 3.25},
		{Name: "Bytes", Value: []byte("raw")},
		{Name: "Time", Value: when},
		{Name: "Geo", Value: datastore.GeoPoint{Lat: 48.85, Lng: 2.35}},
		{Name: "Key", Value: datastore.IDKey("K", 5, nil)},
		{Name: "Entity", Value: &datastore.Entity{Properties: []datastore.Property{{Name: "Inner", Value: "v"}}}},
		{Name: "Array", Value: []interface{}{int64(1), "two", 3.0}},
	}
	k := datastore.IDKey("All", 1, nil)
	if _, err := c.Put(ctx, k, &in); err != nil {
		t.Fatal(err)
	}
	var out datastore.PropertyList
	if err := c.Get(ctx, k, &out); err != nil {
		t.Fatal(err)
	}
	got := map[string]interface{}{}
	for _, p := range out {
		got[p.Name] = p.Value
	}
	for _, p := range in {
		g := got[p.Name]
		if tm, ok := p.Value.(time.Time); ok {
			if gt, ok := g.(time.Time); !ok || !gt.Equal(tm) {
				t.Errorf("%s = %v, want %v", p.Name, g, p.Value)
			}
			continue
		}
		if !reflect.DeepEqual(g, p.Value) {
			t.Errorf("%s = %#v, want %#v", p.Name, g, p.Value)
		}
	}
}

func TestMissingKeys(t *testing.T) {
	_, c, ctx := setup(t)
	keys := []*datastore.Key{
		datastore.NameKey("Lease", "a", nil),
		datastore.NameKey("Lease", "missing-1", nil),
		datastore.NameKey("Lease", "b", nil),
		datastore.IDKey("Lease", 99, nil),
	}
	for _, i := range []int{0, 2} {
		if _, err := c.Put(ctx, keys[i], &lease{Holder: keys[i].Name}); err != nil {
			t.Fatal(err)
		}
	}
	dst := make([]lease, len(keys))
	err := c.GetMulti(ctx, keys, dst)
	var me datastore.MultiError
	if !errors.As(err, &me) || len(me) != len(keys) {
		t.Fatalf("GetMulti error = %v, want a MultiError of %d", err, len(keys))
	}
	for i, want := range []error{nil, datastore.ErrNoSuchEntity, nil, datastore.ErrNoSuchEntity} {
		if me[i] != want {
			t.Errorf("index %d: error %v, want %v", i, me[i], want)
		}
	}
	if dst[0].Holder != "a" || dst[2].Holder != "b" {
		t.Errorf("found entities not loaded: %+v", dst)
	}
	if err := c.Get(ctx, keys[1], &lease{}); err != datastore.ErrNoSuchEntity {
		t.Errorf("Get of a missing key = %v", err)
	}
}

func TestPartitionsIsolate(t *testing.T) {
	s, c, ctx := setup(t)
	other := client(t, s, "other-db")
	k := datastore.NameKey("Lease", "same", nil)
	nsKey := datastore.NameKey("Lease", "same", nil)
	nsKey.Namespace = "tenant"
	for _, w := range []struct {
		c      *datastore.Client
		k      *datastore.Key
		holder string
	}{{c, k, "default"}, {c, nsKey, "namespaced"}, {other, k, "other-db"}} {
		if _, err := w.c.Put(ctx, w.k, &lease{Holder: w.holder}); err != nil {
			t.Fatal(err)
		}
	}
	for _, r := range []struct {
		c    *datastore.Client
		k    *datastore.Key
		want string
	}{{c, k, "default"}, {c, nsKey, "namespaced"}, {other, k, "other-db"}} {
		var got lease
		if err := r.c.Get(ctx, r.k, &got); err != nil || got.Holder != r.want {
			t.Errorf("Get %v = %q, %v; want %q", r.k, got.Holder, err, r.want)
		}
	}
	if err := other.Get(ctx, nsKey, &lease{}); err != datastore.ErrNoSuchEntity {
		t.Errorf("named database sees the default database's namespace: %v", err)
	}
	if err := c.Delete(ctx, k); err != nil {
		t.Fatal(err)
	}
	if err := other.Get(ctx, k, &lease{}); err != nil {
		t.Errorf("delete in one database removed another's entity: %v", err)
	}
}

func TestMutations(t *testing.T) {
	_, c, ctx := setup(t)
	k := datastore.NameKey("Lease", "x", nil)
	if _, err := c.Mutate(ctx, datastore.NewInsert(k, &lease{Holder: "first"})); err != nil {
		t.Fatal(err)
	}
	_, err := c.Mutate(ctx, datastore.NewInsert(k, &lease{Holder: "second"}))
	wantCode(t, err, codes.AlreadyExists)
	var got lease
	if err := c.Get(ctx, k, &got); err != nil || got.Holder != "first" {
		t.Fatalf("after a failed insert: %+v, %v", got, err)
	}
	_, err = c.Mutate(ctx, datastore.NewUpdate(datastore.NameKey("Lease", "absent", nil), &lease{}))
	wantCode(t, err, codes.NotFound)

	// A failing mutation fails the whole commit.
	_, err = c.Mutate(ctx,
		datastore.NewUpsert(datastore.NameKey("Lease", "y", nil), &lease{}),
		datastore.NewInsert(k, &lease{}))
	wantCode(t, err, codes.AlreadyExists)
	if err := c.Get(ctx, datastore.NameKey("Lease", "y", nil), &lease{}); err != datastore.ErrNoSuchEntity {
		t.Errorf("a failed commit applied part of its mutations: %v", err)
	}

	keys, err := c.PutMulti(ctx, []*datastore.Key{datastore.IncompleteKey("Lease", nil), datastore.IncompleteKey("Lease", nil)},
		[]lease{{Holder: "p"}, {Holder: "q"}})
	if err != nil {
		t.Fatal(err)
	}
	if keys[0].ID == 0 || keys[1].ID == 0 || keys[0].ID == keys[1].ID {
		t.Errorf("allocated keys %v", keys)
	}
	ids, err := c.AllocateIDs(ctx, []*datastore.Key{datastore.IncompleteKey("Lease", nil)})
	if err != nil || ids[0].ID == 0 || ids[0].ID == keys[0].ID || ids[0].ID == keys[1].ID {
		t.Errorf("AllocateIDs = %v, %v", ids, err)
	}
	if err := c.DeleteMulti(ctx, keys); err != nil {
		t.Fatal(err)
	}
	if err := c.Get(ctx, keys[0], &lease{}); err != datastore.ErrNoSuchEntity {
		t.Errorf("after delete: %v", err)
	}
}
