package emulator

import (
	"context"
	"fmt"

	pb "cloud.google.com/go/datastore/apiv1/datastorepb"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// RunAggregationQuery computes COUNT, SUM and AVG over a nested query.
func (d *db) RunAggregationQuery(_ context.Context, req *pb.RunAggregationQueryRequest) (*pb.RunAggregationQueryResponse, error) {
	if req.GetGqlQuery() != nil {
		return nil, unimplemented("GQL")
	}
	if req.GetExplainOptions() != nil {
		return nil, unimplemented("explain options")
	}
	aq := req.GetAggregationQuery()
	for _, a := range aq.GetAggregations() {
		switch {
		case a.GetCount() != nil:
		case a.GetSum() != nil && a.GetSum().GetProperty().GetName() != "":
		case a.GetAvg() != nil && a.GetAvg().GetProperty().GetName() != "":
		default:
			return nil, invalid("an aggregation must be a COUNT, or a SUM or AVG of a property")
		}
	}
	resp := &pb.RunAggregationQueryResponse{}
	var err error
	resp.Transaction, err = d.runQuery(req.GetProjectId(), req.GetDatabaseId(), req.GetPartitionId(),
		aq.GetNestedQuery(), req.GetReadOptions(), func(_ *plan, r execResult) {
			props := map[string]*pb.Value{}
			for i, a := range aq.GetAggregations() {
				alias := a.GetAlias()
				if alias == "" {
					alias = fmt.Sprintf("property_%d", i+1)
				}
				props[alias] = aggregate(a, r.results)
			}
			resp.Batch = &pb.AggregationResultBatch{
				AggregationResults: []*pb.AggregationResult{{AggregateProperties: props}},
				MoreResults:        pb.QueryResultBatch_NO_MORE_RESULTS,
				ReadTime:           timestamppb.New(d.now()),
			}
		})
	if err != nil {
		return nil, err
	}
	return resp, nil
}

func aggregate(a *pb.AggregationQuery_Aggregation, results []*record) *pb.Value {
	if c := a.GetCount(); c != nil {
		n := int64(len(results))
		if up := c.GetUpTo(); up != nil && up.GetValue() > 0 && n > up.GetValue() {
			n = up.GetValue()
		}
		return &pb.Value{ValueType: &pb.Value_IntegerValue{IntegerValue: n}}
	}
	name := a.GetSum().GetProperty().GetName()
	if a.GetAvg() != nil {
		name = a.GetAvg().GetProperty().GetName()
	}
	var isum int64
	var fsum float64
	n, float := 0, false
	for _, rec := range results {
		v := rec.entity.GetProperties()[name]
		if v.GetExcludeFromIndexes() {
			continue
		}
		switch x := v.GetValueType().(type) {
		case *pb.Value_IntegerValue:
			if s := isum + x.IntegerValue; (s > isum) != (x.IntegerValue > 0) {
				float = true // overflow
			} else {
				isum = s
			}
			fsum += float64(x.IntegerValue)
		case *pb.Value_DoubleValue:
			float = true
			fsum += x.DoubleValue
		default:
			continue
		}
		n++
	}
	switch {
	case a.GetAvg() != nil && n == 0:
		return &pb.Value{ValueType: &pb.Value_NullValue{NullValue: structpb.NullValue_NULL_VALUE}}
	case a.GetAvg() != nil:
		return &pb.Value{ValueType: &pb.Value_DoubleValue{DoubleValue: fsum / float64(n)}}
	case float:
		return &pb.Value{ValueType: &pb.Value_DoubleValue{DoubleValue: fsum}}
	}
	return &pb.Value{ValueType: &pb.Value_IntegerValue{IntegerValue: isum}}
}
