package emulator

import (
	"fmt"
	"strings"
	"testing"

	"cloud.google.com/go/datastore"
	pb "cloud.google.com/go/datastore/apiv1/datastorepb"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// blob is an unindexed string property of n bytes.
type blob struct {
	S string `datastore:",noindex"`
}

// Each documented limit is answered INVALID_ARGUMENT, with the whole call
// refused; at the limit itself the call succeeds.
func TestLimits(t *testing.T) {
	s, c, ctx := setup(t)
	keys := func(n int) []*datastore.Key {
		out := make([]*datastore.Key, n)
		for i := range out {
			out[i] = datastore.NameKey("K", fmt.Sprint("k", i), nil)
		}
		return out
	}
	wantInvalid := func(t *testing.T, err error, msg string) {
		t.Helper()
		wantCode(t, err, codes.InvalidArgument)
		if got := status.Convert(err).Message(); !strings.Contains(got, msg) {
			t.Errorf("message %q, want it to contain %q", got, msg)
		}
	}

	t.Run("mutations per commit", func(t *testing.T) {
		vals := make([]counter, MaxCommitMutations+1)
		_, err := c.PutMulti(ctx, keys(MaxCommitMutations+1), vals)
		wantInvalid(t, err, "cannot write more than 500 entities in a single call")
		if n, _ := c.Count(ctx, datastore.NewQuery("K")); n != 0 {
			t.Errorf("%d entities written by the refused commit", n)
		}
		if _, err := c.PutMulti(ctx, keys(MaxCommitMutations), vals[1:]); err != nil {
			t.Errorf("%d mutations: %v", MaxCommitMutations, err)
		}
		_, err = c.RunInTransaction(ctx, func(tx *datastore.Transaction) error {
			_, err := tx.PutMulti(keys(MaxCommitMutations+1), vals)
			return err
		})
		wantInvalid(t, err, "cannot write more than 500 entities")
	})
	t.Run("keys per lookup", func(t *testing.T) {
		err := c.GetMulti(ctx, keys(MaxLookupKeys+1), make([]counter, MaxLookupKeys+1))
		wantInvalid(t, err, "cannot get more than 1000 keys in a single call")
		err = c.GetMulti(ctx, keys(MaxLookupKeys), make([]counter, MaxLookupKeys))
		if me, ok := err.(datastore.MultiError); !ok || len(me) != MaxLookupKeys {
			t.Errorf("%d keys: %v", MaxLookupKeys, err)
		}
	})
	// The Go client itself refuses long indexed strings and blobs at the top
	// level: send those raw.
	rc := raw(t, s)
	commit := func(v *pb.Value) error {
		_, err := rc.Commit(ctx, &pb.CommitRequest{ProjectId: testProject, Mode: pb.CommitRequest_NON_TRANSACTIONAL,
			Mutations: []*pb.Mutation{upsert(&pb.Entity{Key: pbKey("V", "raw"), Properties: map[string]*pb.Value{"p": v}})}})
		return err
	}
	blobOf := func(n int, noIndex bool) *pb.Value {
		return &pb.Value{ValueType: &pb.Value_BlobValue{BlobValue: make([]byte, n)}, ExcludeFromIndexes: noIndex}
	}
	t.Run("indexed string", func(t *testing.T) {
		wantInvalid(t, commit(str(strings.Repeat("é", 751))), `The value of property "p" is longer than 1500 bytes`)
		if err := commit(str(strings.Repeat("é", 750))); err != nil {
			t.Errorf("1,500 bytes: %v", err)
		}
		arr := &pb.Value{ValueType: &pb.Value_ArrayValue{ArrayValue: &pb.ArrayValue{Values: []*pb.Value{str("x"), str(strings.Repeat("x", 1501))}}}}
		wantInvalid(t, commit(arr), `The value of property "p" is longer than 1500 bytes`)
		nested := &pb.Value{ValueType: &pb.Value_EntityValue{EntityValue: &pb.Entity{
			Properties: map[string]*pb.Value{"In": str(strings.Repeat("x", 1501))}}}}
		wantInvalid(t, commit(nested), `The value of property "In" is longer than 1500 bytes`)
		nested.ExcludeFromIndexes = true
		if err := commit(nested); err != nil {
			t.Errorf("a long string in an unindexed entity value: %v", err)
		}
	})
	t.Run("indexed blob", func(t *testing.T) {
		wantInvalid(t, commit(blobOf(1501, false)), `The value of property "p" is longer than 1500 bytes`)
		if err := commit(blobOf(1500, false)); err != nil {
			t.Errorf("1,500 bytes: %v", err)
		}
		if err := commit(blobOf(1501, true)); err != nil {
			t.Errorf("an unindexed blob: %v", err)
		}
	})
	t.Run("unindexed value", func(t *testing.T) {
		_, err := c.Put(ctx, datastore.NameKey("V", "u", nil), &blob{S: strings.Repeat("x", MaxUnindexedBytes+1)})
		wantInvalid(t, err, `The value of property "S" is longer than 1048487 bytes`)
		if _, err := c.Put(ctx, datastore.NameKey("V", "u", nil), &blob{S: strings.Repeat("x", MaxUnindexedBytes)}); err != nil {
			t.Errorf("%d bytes unindexed: %v", MaxUnindexedBytes, err)
		}
	})
	t.Run("entity size", func(t *testing.T) {
		half := strings.Repeat("x", 600_000)
		_, err := c.Put(ctx, datastore.NameKey("V", "big", nil), &datastore.PropertyList{
			{Name: "A", Value: half, NoIndex: true}, {Name: "B", Value: half, NoIndex: true}})
		wantInvalid(t, err, "entity is too big")
	})
	t.Run("key path depth", func(t *testing.T) {
		var k *datastore.Key
		for i := range MaxKeyPathElements + 1 {
			k = datastore.IDKey("P", int64(i+1), k)
		}
		_, err := c.Put(ctx, k, &counter{})
		wantInvalid(t, err, "more than the 100 allowed")
		err = c.Get(ctx, k, &counter{})
		wantInvalid(t, err, "more than the 100 allowed")
		if _, err := c.Put(ctx, k.Parent, &counter{}); err != nil {
			t.Errorf("100 elements: %v", err)
		}
	})
	t.Run("names", func(t *testing.T) {
		long := strings.Repeat("n", MaxNameBytes+1)
		_, err := c.Put(ctx, datastore.NameKey("V", long, nil), &counter{})
		wantInvalid(t, err, "The key path element name is longer than 1500 bytes")
		_, err = c.Put(ctx, datastore.NameKey(long, "k", nil), &counter{})
		wantInvalid(t, err, "The key path element kind is longer than 1500 bytes")
		_, err = c.Put(ctx, datastore.NameKey("V", "p", nil), &datastore.PropertyList{{Name: long, Value: int64(1)}})
		wantInvalid(t, err, "The property.name is longer than 1500 bytes")
		_, err = c.Put(ctx, datastore.NameKey("V", strings.Repeat("n", MaxNameBytes), nil), &counter{})
		if err != nil {
			t.Errorf("a 1,500-byte name: %v", err)
		}
	})
	t.Run("key size", func(t *testing.T) {
		var k *datastore.Key
		for i := range 5 {
			k = datastore.NameKey("P", strings.Repeat(fmt.Sprint(i), 1400), k)
		}
		_, err := c.Put(ctx, k, &counter{})
		wantInvalid(t, err, "The key is longer than 6144 bytes")
	})
	t.Run("nesting", func(t *testing.T) {
		e := &datastore.Entity{Properties: []datastore.Property{{Name: "leaf", Value: int64(1)}}}
		for range MaxNestingDepth {
			e = &datastore.Entity{Properties: []datastore.Property{{Name: "n", Value: e}}}
		}
		_, err := c.Put(ctx, datastore.NameKey("V", "deep", nil), &datastore.PropertyList{{Name: "n", Value: e}})
		wantInvalid(t, err, "nested more than 20 deep")
		_, err = c.Put(ctx, datastore.NameKey("V", "deep", nil), &datastore.PropertyList{{Name: "n", Value: e.Properties[0].Value}})
		if err != nil {
			t.Errorf("20 deep: %v", err)
		}
	})
	t.Run("namespace", func(t *testing.T) {
		k := datastore.NameKey("V", "ns", nil)
		k.Namespace = "not/valid"
		_, err := c.Put(ctx, k, &counter{})
		wantInvalid(t, err, "namespace")
	})

	// What the Go client cannot send.
	arr := func(vs ...*pb.Value) *pb.Value {
		return &pb.Value{ValueType: &pb.Value_ArrayValue{ArrayValue: &pb.ArrayValue{Values: vs}}}
	}
	excluded := arr(str("x"))
	excluded.ExcludeFromIndexes = true
	wantInvalid(t, commit(excluded), "Exclude from indexes cannot be set on a list value")
	wantInvalid(t, commit(arr(arr(str("x")))), "cannot contain another array value")
	_, err := rc.Commit(ctx, &pb.CommitRequest{ProjectId: testProject, Mode: pb.CommitRequest_NON_TRANSACTIONAL,
		Mutations: []*pb.Mutation{upsert(&pb.Entity{Key: pbKey("V", "raw"), Properties: map[string]*pb.Value{"": str("x")}})}})
	wantInvalid(t, err, "property name must not be empty")
	var muts []*pb.Mutation
	for i := range 11 {
		muts = append(muts, upsert(&pb.Entity{Key: pbKey("V", fmt.Sprint("r", i)), Properties: map[string]*pb.Value{"b": blobOf(1_000_000, true)}}))
	}
	_, err = rc.Commit(ctx, &pb.CommitRequest{ProjectId: testProject, Mode: pb.CommitRequest_NON_TRANSACTIONAL, Mutations: muts})
	wantInvalid(t, err, "Request payload size exceeds the limit: 10485760 bytes")
}
