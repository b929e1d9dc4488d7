package emulator

import (
	"encoding/binary"
	"maps"
	"slices"

	pb "cloud.google.com/go/datastore/apiv1/datastorepb"
	"google.golang.org/protobuf/proto"

	"go-leader-election/internal/dsname"
)

// Projection and DISTINCT ON queries are answered from index rows, as
// Datastore answers them: an entity has one row per combination of the
// indexed values of the properties the query projects or makes distinct, so
// an array gives one result per value, and an entity that lacks one of those
// properties, or has it excluded from indexes, gives none. Filters and
// orders on a projected array property see one value per row.

// projection is a query's validated projection and DISTINCT ON.
type projection struct {
	props    []string // projected properties, __key__ aside; empty for none
	distinct []string // DISTINCT ON properties
	split    []string // props then the distinct ones not projected: the row columns
}

// meaningTimestamp marks an integer that holds a timestamp in microseconds,
// which is how Datastore answers a projected timestamp.
const meaningTimestamp = 18

// compileProjection validates q's projection and DISTINCT ON against its
// filter and order. It returns whether the query is keys-only, and a nil
// projection when the query needs no index rows.
func compileProjection(q *pb.Query) (keysOnly bool, pr *projection, err error) {
	var keyProjected bool
	var projected []string
	for _, p := range q.GetProjection() {
		if name := p.GetProperty().GetName(); name == keyProperty {
			keyProjected = true
		} else {
			projected = append(projected, name)
		}
	}
	pr = &projection{}
	seen, err := checkNames(projected, &pr.props, nameRules{empty: "a projection needs a property name",
		reserved: "projections are not supported for the property: %s", repeated: "cannot project a property multiple times"})
	if err != nil {
		return false, nil, err
	}
	var distinctOn []string
	for _, d := range q.GetDistinctOn() {
		distinctOn = append(distinctOn, d.GetName())
	}
	distinct, err := checkNames(distinctOn, &pr.distinct, nameRules{empty: "distinct on needs a property name",
		reserved: "group by is not supported for the property: %s", repeated: "cannot group by a property multiple times"})
	if err != nil {
		return false, nil, err
	}
	ordered := 0
	for _, o := range q.GetOrder() {
		switch {
		case distinct[o.GetProperty().GetName()]:
			ordered++
		case ordered != len(pr.distinct):
			return false, nil, invalid("must specify all group by orderings before any non group by orderings")
		}
	}
	if err := checkEqualities(q.GetFilter(), seen, distinct); err != nil {
		return false, nil, err
	}
	keysOnly = keyProjected && len(pr.props) == 0
	if len(pr.props) == 0 && len(pr.distinct) == 0 {
		return keysOnly, nil, nil
	}
	pr.split = slices.Clone(pr.props)
	for _, d := range pr.distinct {
		if !seen[d] {
			pr.split = append(pr.split, d)
		}
	}
	return keysOnly, pr, nil
}

// nameRules are Datastore's errors for the property names of a projection
// or a DISTINCT ON: an empty name, a reserved one (reserved takes the name
// for its %s), a name given twice.
type nameRules struct{ empty, reserved, repeated string }

// checkNames appends names to *list and returns them as a set, or the error
// of the first name that is empty, reserved or repeated.
func checkNames(names []string, list *[]string, r nameRules) (map[string]bool, error) {
	set := map[string]bool{}
	for _, name := range names {
		switch {
		case name == "":
			return nil, invalid("%s", r.empty)
		case dsname.Reserved(name):
			return nil, invalid(r.reserved, name)
		case set[name]:
			return nil, invalid("%s", r.repeated)
		}
		set[name] = true
		*list = append(*list, name)
	}
	return set, nil
}

// checkEqualities refuses an equality (or IN) filter on a projected or
// distinct property: its value is known, Datastore will not return it.
func checkEqualities(f *pb.Filter, projected, distinct map[string]bool) error {
	if c := f.GetCompositeFilter(); c != nil {
		for _, sub := range c.GetFilters() {
			if err := checkEqualities(sub, projected, distinct); err != nil {
				return err
			}
		}
		return nil
	}
	pf := f.GetPropertyFilter()
	if op := pf.GetOp(); op != pb.PropertyFilter_EQUAL && op != pb.PropertyFilter_IN {
		return nil
	}
	switch name := pf.GetProperty().GetName(); {
	case projected[name]:
		return invalid("cannot use projection on a property with an equality filter")
	case distinct[name]:
		return invalid("cannot use group by on a property with an equality filter")
	}
	return nil
}

// orders are the orders rows sort by: the query's, then any DISTINCT ON
// property it does not order by, ascending, so that the first row of each
// distinct combination is well defined.
func (pr *projection) orders(given []*pb.PropertyOrder) []*pb.PropertyOrder {
	out := slices.Clone(given)
	for _, d := range pr.distinct {
		if !slices.ContainsFunc(given, func(o *pb.PropertyOrder) bool { return o.GetProperty().GetName() == d }) {
			out = append(out, &pb.PropertyOrder{Property: &pb.PropertyReference{Name: d}})
		}
	}
	return out
}

// rows are e's index rows: e with each split property holding one of its
// indexed values, for every combination of them.
func (pr *projection) rows(e *pb.Entity) []*pb.Entity {
	cols := make([][]*pb.Value, len(pr.split))
	for i, name := range pr.split {
		for _, v := range indexed(e, name) {
			if !slices.ContainsFunc(cols[i], func(w *pb.Value) bool { return compareValues(v, w) == 0 && rank(v) == rank(w) }) {
				cols[i] = append(cols[i], bare(v))
			}
		}
		if len(cols[i]) == 0 {
			return nil // not in the index
		}
	}
	var out []*pb.Entity
	pick := make([]int, len(cols))
	for {
		row := &pb.Entity{Key: e.GetKey(), Properties: maps.Clone(e.GetProperties())}
		for i, name := range pr.split {
			row.Properties[name] = cols[i][pick[i]]
		}
		out = append(out, row)
		i := len(pick) - 1
		for ; i >= 0; i-- {
			if pick[i]++; pick[i] < len(cols[i]) {
				break
			}
			pick[i] = 0
		}
		if i < 0 {
			return out
		}
	}
}

// bare is v as an index holds it: no index exclusion, no meaning.
func bare(v *pb.Value) *pb.Value {
	if !v.GetExcludeFromIndexes() && v.GetMeaning() == 0 {
		return v
	}
	c := proto.Clone(v).(*pb.Value)
	c.ExcludeFromIndexes, c.Meaning = false, 0
	return c
}

// compareRows orders two rows of the same entity by their split values.
func (pr *projection) compareRows(a, b *pb.Entity) int {
	for _, name := range pr.split {
		if c := compareValues(a.GetProperties()[name], b.GetProperties()[name]); c != 0 {
			return c
		}
	}
	return 0
}

// distinctKey names a row's combination of DISTINCT ON values.
func (pr *projection) distinctKey(row *pb.Entity) string {
	var b []byte
	for _, name := range pr.distinct {
		enc, _ := proto.MarshalOptions{Deterministic: true}.Marshal(row.GetProperties()[name])
		b = binary.AppendUvarint(b, uint64(len(enc)))
		b = append(b, enc...)
	}
	return string(b)
}

// projected are a row's projected properties as Datastore answers them.
func (pr *projection) projected(row *pb.Entity) map[string]*pb.Value {
	out := make(map[string]*pb.Value, len(pr.props))
	for _, name := range pr.props {
		v := row.GetProperties()[name]
		if ts := v.GetTimestampValue(); ts != nil {
			v = &pb.Value{Meaning: meaningTimestamp, ValueType: &pb.Value_IntegerValue{
				IntegerValue: ts.GetSeconds()*1_000_000 + int64(ts.GetNanos()/1000)}}
		}
		out[name] = v
	}
	return out
}
