package emulator

import (
	"bytes"
	"context"
	"encoding/binary"
	"slices"

	pb "cloud.google.com/go/datastore/apiv1/datastorepb"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// plan is a validated query.
type plan struct {
	kind       string // "" = every kind
	filter     *pb.Filter
	orders     []*pb.PropertyOrder
	keysOnly   bool
	proj       *projection // nil: whole entities, one result each
	offset     int
	limit      int // -1 = none
	start, end int // positions from cursors; end -1 = none
}

func compile(q *pb.Query) (*plan, error) {
	p := &plan{filter: q.GetFilter(), orders: q.GetOrder(), offset: int(q.GetOffset()), limit: -1, end: -1}
	switch len(q.GetKind()) {
	case 0:
	case 1:
		p.kind = q.GetKind()[0].GetName()
	default:
		return nil, invalid("a query can name at most one kind")
	}
	if q.GetFindNearest() != nil {
		return nil, unimplemented("find_nearest")
	}
	if p.filter != nil {
		if err := validFilter(p.filter); err != nil {
			return nil, err
		}
	}
	for _, o := range p.orders {
		if o.GetProperty().GetName() == "" {
			return nil, invalid("an order needs a property")
		}
	}
	var err error
	if p.keysOnly, p.proj, err = compileProjection(q); err != nil {
		return nil, err
	}
	if p.proj != nil {
		p.orders = p.proj.orders(p.orders)
	}
	if p.offset < 0 {
		return nil, invalid("the offset must not be negative")
	}
	if l := q.GetLimit(); l != nil {
		if l.GetValue() < 0 {
			return nil, invalid("the limit must not be negative")
		}
		p.limit = int(l.GetValue())
	}
	if p.start, err = decodeCursor(q.GetStartCursor(), 0); err != nil {
		return nil, err
	}
	if p.end, err = decodeCursor(q.GetEndCursor(), -1); err != nil {
		return nil, err
	}
	return p, nil
}

// Cursors are positions in the query's sorted results.
var cursorMagic = []byte("emu1")

func cursor(pos int) []byte { return binary.AppendUvarint(slices.Clone(cursorMagic), uint64(pos)) }

func decodeCursor(b []byte, none int) (int, error) {
	if len(b) == 0 {
		return none, nil
	}
	rest, ok := bytes.CutPrefix(b, cursorMagic)
	pos, n := binary.Uvarint(rest)
	if !ok || n <= 0 || n != len(rest) || pos > 1<<31 {
		return 0, invalid("invalid query cursor")
	}
	return int(pos), nil
}

// execResult is a query's window of results.
type execResult struct {
	results     []*record
	rows        []*pb.Entity // with a projection: the index row of each result
	skipped     int
	begin, stop int // positions of the first result and after the last
	more        pb.QueryResultBatch_MoreResultsType
}

// execute runs p over a partition. Callers hold d.mu.
func (d *db) execute(part partition, p *plan) execResult {
	type cand struct {
		rec  *record
		row  *pb.Entity // what the filter and orders see: the entity or one of its rows
		vals []*pb.Value
	}
	var all []cand
	for _, rec := range d.parts[part] {
		path := rec.entity.GetKey().GetPath()
		if p.kind != "" && path[len(path)-1].GetKind() != p.kind {
			continue
		}
		one := [1]*pb.Entity{rec.entity}
		rows := one[:]
		if p.proj != nil {
			rows = p.proj.rows(rec.entity)
		}
	next:
		for _, row := range rows {
			if p.filter != nil && !matches(row, p.filter) {
				continue
			}
			c := cand{rec: rec, row: row}
			for _, o := range p.orders {
				v, ok := sortValue(row, o.GetProperty().GetName(), o.GetDirection() == pb.PropertyOrder_DESCENDING)
				if !ok {
					continue next // not in the order's index
				}
				c.vals = append(c.vals, v)
			}
			all = append(all, c)
		}
	}
	slices.SortFunc(all, func(a, b cand) int {
		for i, o := range p.orders {
			c := compareValues(a.vals[i], b.vals[i])
			if o.GetDirection() == pb.PropertyOrder_DESCENDING {
				c = -c
			}
			if c != 0 {
				return c
			}
		}
		if c := compareKeys(a.rec.entity.GetKey(), b.rec.entity.GetKey()); c != 0 || p.proj == nil {
			return c
		}
		return p.proj.compareRows(a.row, b.row)
	})
	if p.proj != nil && len(p.proj.distinct) > 0 {
		seen := map[string]bool{}
		all = slices.DeleteFunc(all, func(c cand) bool {
			k := p.proj.distinctKey(c.row)
			dup := seen[k]
			seen[k] = true
			return dup
		})
	}

	r := execResult{more: pb.QueryResultBatch_NO_MORE_RESULTS, stop: len(all)}
	if p.end >= 0 && p.end < r.stop {
		r.stop, r.more = p.end, pb.QueryResultBatch_MORE_RESULTS_AFTER_CURSOR
	}
	r.begin = min(p.start, r.stop)
	r.skipped = min(p.offset, r.stop-r.begin)
	r.begin += r.skipped
	if p.limit >= 0 && r.begin+p.limit < r.stop {
		r.stop, r.more = r.begin+p.limit, pb.QueryResultBatch_MORE_RESULTS_AFTER_LIMIT
	}
	for _, c := range all[r.begin:r.stop] {
		r.results = append(r.results, c.rec)
		if p.proj != nil {
			r.rows = append(r.rows, c.row)
		}
	}
	return r
}

// runQuery compiles and runs q with read options ro, recording it in a
// transaction when there is one, and calls build with the results while
// holding d.mu. It returns the id of a transaction begun by ro.
func (d *db) runQuery(project, database string, pid *pb.PartitionId, q *pb.Query, ro *pb.ReadOptions,
	build func(p *plan, r execResult)) ([]byte, error) {
	if q == nil {
		return nil, invalid("a query is required")
	}
	part, err := partitionOf(project, database, pid)
	if err != nil {
		return nil, err
	}
	p, err := compile(q)
	if err != nil {
		return nil, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	t, newID, err := d.readTx(project, database, ro)
	if err != nil {
		return nil, err
	}
	r := d.execute(part, p)
	t.noteQuery(part, p, r.results)
	build(p, r)
	return newID, nil
}

// RunQuery runs a structured query and returns all its results in one batch.
func (d *db) RunQuery(_ context.Context, req *pb.RunQueryRequest) (*pb.RunQueryResponse, error) {
	if req.GetGqlQuery() != nil {
		return nil, unimplemented("GQL")
	}
	if req.GetPropertyMask() != nil {
		return nil, unimplemented("a property mask")
	}
	if req.GetExplainOptions() != nil {
		return nil, unimplemented("explain options")
	}
	resp := &pb.RunQueryResponse{}
	var err error
	resp.Transaction, err = d.runQuery(req.GetProjectId(), req.GetDatabaseId(), req.GetPartitionId(),
		req.GetQuery(), req.GetReadOptions(), func(p *plan, r execResult) {
			b := &pb.QueryResultBatch{
				SkippedResults:   int32(r.skipped),
				EntityResultType: pb.EntityResult_FULL,
				EndCursor:        cursor(r.stop),
				MoreResults:      r.more,
				SnapshotVersion:  d.seq,
				ReadTime:         timestamppb.New(d.now()),
			}
			projected := p.proj != nil && len(p.proj.props) > 0
			switch {
			case p.keysOnly:
				b.EntityResultType = pb.EntityResult_KEY_ONLY
			case projected:
				b.EntityResultType = pb.EntityResult_PROJECTION
			}
			if r.skipped > 0 {
				b.SkippedCursor = cursor(r.begin)
			}
			for i, rec := range r.results {
				er := rec.result(rec.entity.GetKey(), p.keysOnly || projected)
				if projected {
					er.Entity.Properties = p.proj.projected(r.rows[i])
				}
				er.Cursor = cursor(r.begin + i + 1)
				b.EntityResults = append(b.EntityResults, er)
			}
			resp.Batch = b
		})
	if err != nil {
		return nil, err
	}
	return resp, nil
}
