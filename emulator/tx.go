package emulator

import (
	"context"
	"crypto/rand"
	"fmt"
	"strings"
	"time"

	pb "cloud.google.com/go/datastore/apiv1/datastorepb"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// txn is an open transaction. A read-write one remembers what it read, so
// that its commit can check nothing it saw has changed since.
type txn struct {
	id                string
	project, database string
	readOnly          bool
	expires           time.Time
	reads             map[ref]int64 // version first seen; 0 = absent
	queries           []queryRead
}

// queryRead is a query run in a transaction and a fingerprint of its results.
type queryRead struct {
	part  partition
	plan  *plan
	print string
}

const abortedMsg = "too much contention on these datastore entities. please try again."

// newTxn makes a transaction; begin also registers it. Callers hold d.mu.
func (d *db) newTxn(project, database string, opts *pb.TransactionOptions) *txn {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return &txn{
		id:       fmt.Sprintf("%x", b),
		project:  project,
		database: database,
		readOnly: opts.GetReadOnly() != nil,
		expires:  d.now().Add(d.txTimeout),
		reads:    map[ref]int64{},
	}
}

// begin opens and registers a transaction. Callers hold d.mu.
func (d *db) begin(project, database string, opts *pb.TransactionOptions) *txn {
	d.sweep()
	t := d.newTxn(project, database, opts)
	d.txs[t.id] = t
	return t
}

// sweep drops expired transactions, at most once a second. Callers hold d.mu.
func (d *db) sweep() {
	now := d.now()
	if now.Sub(d.lastSweep) < time.Second {
		return
	}
	d.lastSweep = now
	for id, t := range d.txs {
		if now.After(t.expires) {
			delete(d.txs, id)
		}
	}
}

// open returns the open transaction id, refreshing its expiry. Callers hold d.mu.
func (d *db) open(id []byte, project, database string) (*txn, error) {
	t := d.txs[string(id)]
	now := d.now()
	if t != nil && now.After(t.expires) {
		delete(d.txs, t.id)
		t = nil
	}
	if t == nil {
		return nil, invalid("the referenced transaction has expired or is no longer valid")
	}
	if t.project != project || t.database != database {
		return nil, invalid("the transaction belongs to project %q database %q", t.project, t.database)
	}
	t.expires = now.Add(d.txTimeout)
	return t, nil
}

// readTx resolves a read's options: the transaction to read in (nil when
// none) and the id of a transaction begun by this read. Callers hold d.mu.
func (d *db) readTx(project, database string, ro *pb.ReadOptions) (*txn, []byte, error) {
	switch c := ro.GetConsistencyType().(type) {
	case *pb.ReadOptions_Transaction:
		t, err := d.open(c.Transaction, project, database)
		return t, nil, err
	case *pb.ReadOptions_NewTransaction:
		t := d.begin(project, database, c.NewTransaction)
		return t, []byte(t.id), nil
	}
	return nil, nil, nil
}

// noteRead records that t saw version v of r (0 = absent); the first
// observation counts.
func (t *txn) noteRead(r ref, v int64) {
	if t == nil || t.readOnly {
		return
	}
	if _, ok := t.reads[r]; !ok {
		t.reads[r] = v
	}
}

// noteQuery records the results t saw for a query.
func (t *txn) noteQuery(part partition, p *plan, results []*record) {
	if t == nil || t.readOnly {
		return
	}
	t.queries = append(t.queries, queryRead{part, p, fingerprint(results)})
}

// unchanged reports whether everything t read is still as it saw it.
// Callers hold d.mu.
func (d *db) unchanged(t *txn) bool {
	for r, v := range t.reads {
		if d.version(r) != v {
			return false
		}
	}
	for _, q := range t.queries {
		if fingerprint(d.execute(q.part, q.plan).results) != q.print {
			return false
		}
	}
	return true
}

func fingerprint(results []*record) string {
	var b strings.Builder
	for _, r := range results {
		fmt.Fprintf(&b, "%d:%s%d;", len(r.path), r.path, r.version)
	}
	return b.String()
}

// BeginTransaction opens a read-write or read-only transaction.
func (d *db) BeginTransaction(_ context.Context, req *pb.BeginTransactionRequest) (*pb.BeginTransactionResponse, error) {
	if _, err := partitionOf(req.GetProjectId(), req.GetDatabaseId(), nil); err != nil {
		return nil, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	t := d.begin(req.GetProjectId(), req.GetDatabaseId(), req.GetTransactionOptions())
	return &pb.BeginTransactionResponse{Transaction: []byte(t.id)}, nil
}

// Rollback closes a transaction. It succeeds whatever the id: the client
// rolls back after an aborted commit, which already closed it.
func (d *db) Rollback(_ context.Context, req *pb.RollbackRequest) (*pb.RollbackResponse, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	delete(d.txs, string(req.GetTransaction()))
	return &pb.RollbackResponse{}, nil
}

// errAborted is the real service's contention error.
var errAborted = status.Error(codes.Aborted, abortedMsg)
