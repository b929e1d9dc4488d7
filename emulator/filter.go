package emulator

import (
	pb "cloud.google.com/go/datastore/apiv1/datastorepb"
)

const keyProperty = "__key__"

// indexed returns the values an index holds for e's property name: none
// when it is missing or excluded from indexes, an array's indexed elements.
func indexed(e *pb.Entity, name string) []*pb.Value {
	if name == keyProperty {
		return []*pb.Value{{ValueType: &pb.Value_KeyValue{KeyValue: e.GetKey()}}}
	}
	v, ok := e.GetProperties()[name]
	if !ok || v.GetExcludeFromIndexes() {
		return nil
	}
	switch x := v.GetValueType().(type) {
	case *pb.Value_ArrayValue:
		var out []*pb.Value
		for _, el := range x.ArrayValue.GetValues() {
			if !el.GetExcludeFromIndexes() {
				out = append(out, el)
			}
		}
		return out
	case *pb.Value_EntityValue:
		return nil
	}
	return []*pb.Value{v}
}

func validFilter(f *pb.Filter) error {
	switch x := f.GetFilterType().(type) {
	case *pb.Filter_CompositeFilter:
		op := x.CompositeFilter.GetOp()
		if op != pb.CompositeFilter_AND && op != pb.CompositeFilter_OR {
			return invalid("unknown composite filter operator %v", op)
		}
		for _, sub := range x.CompositeFilter.GetFilters() {
			if err := validFilter(sub); err != nil {
				return err
			}
		}
		return nil
	case *pb.Filter_PropertyFilter:
		pf := x.PropertyFilter
		name, v := pf.GetProperty().GetName(), pf.GetValue()
		if name == "" || v == nil {
			return invalid("a property filter needs a property and a value")
		}
		switch pf.GetOp() {
		case pb.PropertyFilter_HAS_ANCESTOR:
			if name != keyProperty || v.GetKeyValue() == nil {
				return invalid("HAS_ANCESTOR needs %s and a key value", keyProperty)
			}
		case pb.PropertyFilter_IN, pb.PropertyFilter_NOT_IN:
			if v.GetArrayValue() == nil {
				return invalid("IN and NOT_IN need an array value")
			}
		case pb.PropertyFilter_EQUAL, pb.PropertyFilter_NOT_EQUAL, pb.PropertyFilter_LESS_THAN,
			pb.PropertyFilter_LESS_THAN_OR_EQUAL, pb.PropertyFilter_GREATER_THAN,
			pb.PropertyFilter_GREATER_THAN_OR_EQUAL:
			if name == keyProperty && v.GetKeyValue() == nil {
				return invalid("a filter on %s needs a key value", keyProperty)
			}
		default:
			return invalid("unknown property filter operator %v", pf.GetOp())
		}
		return nil
	}
	return invalid("a filter must be a property or a composite filter")
}

// matches evaluates a valid filter on e.
func matches(e *pb.Entity, f *pb.Filter) bool {
	if c := f.GetCompositeFilter(); c != nil {
		and := c.GetOp() == pb.CompositeFilter_AND
		for _, sub := range c.GetFilters() {
			if matches(e, sub) != and {
				return !and
			}
		}
		return and
	}
	pf := f.GetPropertyFilter()
	want := pf.GetValue()
	if pf.GetOp() == pb.PropertyFilter_HAS_ANCESTOR {
		return hasAncestor(e.GetKey(), want.GetKeyValue())
	}
	vals := indexed(e, pf.GetProperty().GetName())
	if len(vals) == 0 {
		return false
	}
	switch pf.GetOp() {
	case pb.PropertyFilter_IN:
		return anyEqual(vals, want.GetArrayValue().GetValues())
	case pb.PropertyFilter_NOT_IN:
		return !anyEqual(vals, want.GetArrayValue().GetValues())
	case pb.PropertyFilter_NOT_EQUAL:
		return !anyEqual(vals, []*pb.Value{want})
	}
	for _, v := range vals {
		if rank(v) != rank(want) {
			continue // inequalities and equality hold within one type only
		}
		c := compareValues(v, want)
		switch pf.GetOp() {
		case pb.PropertyFilter_EQUAL:
			if c == 0 {
				return true
			}
		case pb.PropertyFilter_LESS_THAN:
			if c < 0 {
				return true
			}
		case pb.PropertyFilter_LESS_THAN_OR_EQUAL:
			if c <= 0 {
				return true
			}
		case pb.PropertyFilter_GREATER_THAN:
			if c > 0 {
				return true
			}
		case pb.PropertyFilter_GREATER_THAN_OR_EQUAL:
			if c >= 0 {
				return true
			}
		}
	}
	return false
}

func anyEqual(vals, wants []*pb.Value) bool {
	for _, v := range vals {
		for _, w := range wants {
			if compareValues(v, w) == 0 {
				return true
			}
		}
	}
	return false
}

// sortValue is the value e sorts by for property name: the least indexed
// value ascending, the greatest descending; false when there is none.
func sortValue(e *pb.Entity, name string, desc bool) (*pb.Value, bool) {
	var best *pb.Value
	for _, v := range indexed(e, name) {
		if best == nil {
			best = v
			continue
		}
		if c := compareValues(v, best); (!desc && c < 0) || (desc && c > 0) {
			best = v
		}
	}
	return best, best != nil
}
