package emulator

import (
	"bytes"
	"cmp"
	"strings"

	pb "cloud.google.com/go/datastore/apiv1/datastorepb"
)

// rank orders value types: null < integer < timestamp < boolean < bytes <
// string < double < geo point < key < entity < array.
func rank(v *pb.Value) int {
	switch v.GetValueType().(type) {
	case *pb.Value_NullValue, nil:
		return 0
	case *pb.Value_IntegerValue:
		return 1
	case *pb.Value_TimestampValue:
		return 2
	case *pb.Value_BooleanValue:
		return 3
	case *pb.Value_BlobValue:
		return 4
	case *pb.Value_StringValue:
		return 5
	case *pb.Value_DoubleValue:
		return 6
	case *pb.Value_GeoPointValue:
		return 7
	case *pb.Value_KeyValue:
		return 8
	case *pb.Value_EntityValue:
		return 9
	default:
		return 10
	}
}

// compareValues orders two values; values of different types order by rank.
// Entities and arrays of the same rank compare equal.
func compareValues(a, b *pb.Value) int {
	if c := cmp.Compare(rank(a), rank(b)); c != 0 {
		return c
	}
	switch x := a.GetValueType().(type) {
	case *pb.Value_IntegerValue:
		return cmp.Compare(x.IntegerValue, b.GetIntegerValue())
	case *pb.Value_TimestampValue:
		ta, tb := x.TimestampValue, b.GetTimestampValue()
		if c := cmp.Compare(ta.GetSeconds(), tb.GetSeconds()); c != 0 {
			return c
		}
		return cmp.Compare(ta.GetNanos(), tb.GetNanos())
	case *pb.Value_BooleanValue:
		return compareBool(x.BooleanValue, b.GetBooleanValue())
	case *pb.Value_BlobValue:
		return bytes.Compare(x.BlobValue, b.GetBlobValue())
	case *pb.Value_StringValue:
		return strings.Compare(x.StringValue, b.GetStringValue())
	case *pb.Value_DoubleValue:
		return cmp.Compare(x.DoubleValue, b.GetDoubleValue())
	case *pb.Value_GeoPointValue:
		ga, gb := x.GeoPointValue, b.GetGeoPointValue()
		if c := cmp.Compare(ga.GetLatitude(), gb.GetLatitude()); c != 0 {
			return c
		}
		return cmp.Compare(ga.GetLongitude(), gb.GetLongitude())
	case *pb.Value_KeyValue:
		return compareKeys(x.KeyValue, b.GetKeyValue())
	}
	return 0
}

func compareBool(a, b bool) int {
	switch {
	case a == b:
		return 0
	case !a:
		return -1
	}
	return 1
}

// compareKeys orders keys by namespace, then path element by element (kind,
// then ids before names); an ancestor sorts before its descendants. Project
// and database are ignored: queries never span them.
func compareKeys(a, b *pb.Key) int {
	if c := strings.Compare(a.GetPartitionId().GetNamespaceId(), b.GetPartitionId().GetNamespaceId()); c != 0 {
		return c
	}
	xa, xb := a.GetPath(), b.GetPath()
	for i := 0; i < len(xa) && i < len(xb); i++ {
		ea, eb := xa[i], xb[i]
		if c := strings.Compare(ea.GetKind(), eb.GetKind()); c != 0 {
			return c
		}
		na, nb := ea.GetName() != "", eb.GetName() != ""
		switch {
		case na != nb:
			return compareBool(na, nb)
		case na:
			if c := strings.Compare(ea.GetName(), eb.GetName()); c != 0 {
				return c
			}
		default:
			if c := cmp.Compare(ea.GetId(), eb.GetId()); c != 0 {
				return c
			}
		}
	}
	return cmp.Compare(len(xa), len(xb))
}

// hasAncestor reports whether anc's path is a prefix of k's path (k is its
// own ancestor, as in the real service).
func hasAncestor(k, anc *pb.Key) bool {
	pk, pa := k.GetPath(), anc.GetPath()
	if len(pa) == 0 || len(pa) > len(pk) {
		return false
	}
	trimmed := &pb.Key{PartitionId: k.GetPartitionId(), Path: pk[:len(pa)]}
	withNS := &pb.Key{PartitionId: k.GetPartitionId(), Path: pa}
	return compareKeys(trimmed, withNS) == 0
}
