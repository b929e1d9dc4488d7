package emulator

import (
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"cloud.google.com/go/datastore"
	pb "cloud.google.com/go/datastore/apiv1/datastorepb"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

type counter struct{ N int64 }

func TestRunInTransaction(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts []datastore.TransactionOption
	}{{"begin", nil}, {"begin later", []datastore.TransactionOption{datastore.BeginLater}}} {
		t.Run(tc.name, func(t *testing.T) {
			s, c, ctx := setup(t)
			k := datastore.NameKey("Counter", "c", nil)
			for i := range 3 {
				_, err := c.RunInTransaction(ctx, func(tx *datastore.Transaction) error {
					var v counter
					if err := tx.Get(k, &v); err != nil && err != datastore.ErrNoSuchEntity {
						return err
					}
					if v.N != int64(i) {
						t.Errorf("read %d, want %d", v.N, i)
					}
					v.N++
					_, err := tx.Put(k, &v)
					return err
				}, tc.opts...)
				if err != nil {
					t.Fatal(err)
				}
			}
			var v counter
			if err := c.Get(ctx, k, &v); err != nil || v.N != 3 {
				t.Errorf("counter = %d, %v", v.N, err)
			}
			calls := s.Calls()
			if tc.opts == nil && calls["BeginTransaction"] != 3 {
				t.Errorf("BeginTransaction calls = %d, want 3", calls["BeginTransaction"])
			}
			if tc.opts != nil && calls["BeginTransaction"] != 0 {
				t.Errorf("BeginLater still called BeginTransaction %d times", calls["BeginTransaction"])
			}
		})
	}
}

func TestConflictAborts(t *testing.T) {
	for _, present := range []bool{true, false} {
		name := map[bool]string{true: "present", false: "absent"}[present]
		t.Run(name, func(t *testing.T) {
			_, c, ctx := setup(t)
			k := datastore.NameKey("Counter", "c", nil)
			if present {
				if _, err := c.Put(ctx, k, &counter{N: 1}); err != nil {
					t.Fatal(err)
				}
			}
			tx1, err := c.NewTransaction(ctx)
			if err != nil {
				t.Fatal(err)
			}
			tx2, err := c.NewTransaction(ctx, datastore.BeginLater)
			if err != nil {
				t.Fatal(err)
			}
			for _, tx := range []*datastore.Transaction{tx1, tx2} {
				if err := tx.Get(k, &counter{}); err != nil && err != datastore.ErrNoSuchEntity {
					t.Fatal(err)
				}
				if _, err := tx.Put(k, &counter{N: 10}); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := tx1.Commit(); err != nil {
				t.Fatalf("first commit: %v", err)
			}
			if _, err := tx2.Commit(); err != datastore.ErrConcurrentTransaction {
				t.Fatalf("second commit = %v, want ErrConcurrentTransaction", err)
			}
			if err := tx2.Rollback(); err != nil {
				t.Errorf("Rollback after abort: %v", err)
			}
		})
	}
}

// TestPhantomAborts checks that a query read in a transaction is validated:
// a matching entity created concurrently aborts the commit.
func TestPhantomAborts(t *testing.T) {
	_, c, ctx := setup(t)
	tx, err := c.NewTransaction(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var got []lease
	if _, err := c.GetAll(ctx, datastore.NewQuery("Lease").FilterField("Node", "=", "a").Transaction(tx), &got); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Put(ctx, datastore.NameKey("Lease", "new", nil), &lease{Node: "a"}); err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Put(datastore.NameKey("Lease", "summary", nil), &lease{Term: int64(len(got))}); err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Commit(); err != datastore.ErrConcurrentTransaction {
		t.Fatalf("commit after a phantom = %v", err)
	}
}

func TestReadOnlyTransaction(t *testing.T) {
	_, c, ctx := setup(t)
	k := datastore.NameKey("Counter", "c", nil)
	if _, err := c.Put(ctx, k, &counter{N: 5}); err != nil {
		t.Fatal(err)
	}
	var v counter
	if _, err := c.RunInTransaction(ctx, func(tx *datastore.Transaction) error {
		return tx.Get(k, &v)
	}, datastore.ReadOnly); err != nil || v.N != 5 {
		t.Fatalf("read-only transaction: %d, %v", v.N, err)
	}
	_, err := c.RunInTransaction(ctx, func(tx *datastore.Transaction) error {
		_, err := tx.Put(k, &counter{N: 6})
		return err
	}, datastore.ReadOnly)
	wantCode(t, err, codes.InvalidArgument)
}

// TestProtocol checks wire details the client hides.
func TestProtocol(t *testing.T) {
	s, _, ctx := setup(t)
	rc := raw(t, s)
	key := &pb.Key{PartitionId: &pb.PartitionId{NamespaceId: "ns"}, Path: []*pb.Key_PathElement{{Kind: "K", IdType: &pb.Key_PathElement_Name{Name: "a"}}}}

	lr, err := rc.Lookup(ctx, &pb.LookupRequest{ProjectId: testProject, Keys: []*pb.Key{key},
		ReadOptions: &pb.ReadOptions{ConsistencyType: &pb.ReadOptions_NewTransaction{NewTransaction: &pb.TransactionOptions{}}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(lr.Missing) != 1 || lr.Missing[0].Entity.Key.PartitionId.NamespaceId != "ns" || len(lr.Transaction) == 0 || lr.ReadTime == nil {
		t.Fatalf("lookup response %v", lr)
	}
	tx := lr.Transaction

	// Someone else creates the entity: the transaction read it absent.
	if _, err := rc.Commit(ctx, &pb.CommitRequest{ProjectId: testProject, Mode: pb.CommitRequest_NON_TRANSACTIONAL,
		Mutations: []*pb.Mutation{{Operation: &pb.Mutation_Upsert{Upsert: &pb.Entity{Key: key}}}}}); err != nil {
		t.Fatal(err)
	}
	_, err = rc.Commit(ctx, &pb.CommitRequest{ProjectId: testProject, Mode: pb.CommitRequest_TRANSACTIONAL,
		TransactionSelector: &pb.CommitRequest_Transaction{Transaction: tx},
		Mutations:           []*pb.Mutation{{Operation: &pb.Mutation_Upsert{Upsert: &pb.Entity{Key: key}}}}})
	wantCode(t, err, codes.Aborted)
	if st, _ := status.FromError(err); st.Message() != abortedMsg {
		t.Errorf("abort message %q", st.Message())
	}
	// The aborted transaction is closed.
	_, err = rc.Lookup(ctx, &pb.LookupRequest{ProjectId: testProject, Keys: []*pb.Key{key},
		ReadOptions: &pb.ReadOptions{ConsistencyType: &pb.ReadOptions_Transaction{Transaction: tx}}})
	wantCode(t, err, codes.InvalidArgument)
	if _, err := rc.Rollback(ctx, &pb.RollbackRequest{ProjectId: testProject, Transaction: tx}); err != nil {
		t.Errorf("Rollback of a closed transaction: %v", err)
	}

	// Invalid keys.
	_, err = rc.Commit(ctx, &pb.CommitRequest{ProjectId: testProject, Mode: pb.CommitRequest_NON_TRANSACTIONAL,
		Mutations: []*pb.Mutation{{Operation: &pb.Mutation_Upsert{Upsert: &pb.Entity{Key: &pb.Key{}}}}}})
	wantCode(t, err, codes.InvalidArgument)

	// Mutation results carry versions; a single-use transaction commits.
	cr, err := rc.Commit(ctx, &pb.CommitRequest{ProjectId: testProject, Mode: pb.CommitRequest_TRANSACTIONAL,
		TransactionSelector: &pb.CommitRequest_SingleUseTransaction{SingleUseTransaction: &pb.TransactionOptions{}},
		Mutations:           []*pb.Mutation{{Operation: &pb.Mutation_Delete{Delete: key}}}})
	if err != nil || len(cr.MutationResults) != 1 || cr.MutationResults[0].Version == 0 || cr.CommitTime == nil {
		t.Fatalf("commit = %v, %v", cr, err)
	}
}

func TestTransactionExpires(t *testing.T) {
	s, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	now := time.Now()
	s.db.now = func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.setListener(l)
	go s.Serve(l)
	t.Cleanup(func() { s.Close() })
	c := client(t, s, "")
	tx, err := c.NewTransaction(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	now = now.Add(2 * time.Minute)
	mu.Unlock()
	err = tx.Get(datastore.NameKey("K", "a", nil), &counter{})
	wantCode(t, err, codes.InvalidArgument)
}

func TestConcurrentIncrements(t *testing.T) {
	for _, present := range []bool{true, false} {
		name := map[bool]string{true: "present", false: "absent"}[present]
		t.Run(name, func(t *testing.T) {
			_, c, ctx := setup(t)
			k := datastore.NameKey("Counter", "c", nil)
			if present {
				if _, err := c.Put(ctx, k, &counter{}); err != nil {
					t.Fatal(err)
				}
			}
			const n = 50
			var ok atomic.Int64
			var wg sync.WaitGroup
			for i := range n {
				opts := []datastore.TransactionOption{datastore.MaxAttempts(50)}
				if i%2 == 1 {
					opts = append(opts, datastore.BeginLater)
				}
				wg.Go(func() {
					_, err := c.RunInTransaction(ctx, func(tx *datastore.Transaction) error {
						var v counter
						if err := tx.Get(k, &v); err != nil && err != datastore.ErrNoSuchEntity {
							return err
						}
						v.N++
						_, err := tx.Put(k, &v)
						return err
					}, opts...)
					if err == nil {
						ok.Add(1)
					}
				})
			}
			wg.Wait()
			var v counter
			if err := c.Get(ctx, k, &v); err != nil {
				t.Fatal(err)
			}
			if v.N != ok.Load() || v.N == 0 {
				t.Fatalf("counter = %d, successful transactions = %d", v.N, ok.Load())
			}
			t.Logf("%d of %d transactions committed", ok.Load(), n)
		})
	}
}
