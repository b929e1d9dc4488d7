package datastore

import (
	"fmt"
	"strings"
	"time"

	"cloud.google.com/go/datastore"
)

// field is one property of a stored record: its name, the Go value it
// loads into and saves from, and whether Datastore indexes it.
type field struct {
	name string
	// ptr is a *string, *int64, *bool, *time.Time (loaded as UTC) or
	// *time.Duration (stored as integer nanoseconds).
	ptr     any
	noIndex bool
}

// loadFields sets every field named in props, checking each property's
// type itself. A property of the wrong type leaves its field alone and is
// reported (the first one, as a propertyError of kind); a missing one
// leaves it zero. It returns the properties no field names.
func loadFields(props []datastore.Property, fields []field, kind error) (unknown []datastore.Property, err error) {
	var first *propertyError
	for _, p := range props {
		f := fieldNamed(fields, p.Name)
		if f == nil {
			unknown = append(unknown, p)
			continue
		}
		if want := load(f.ptr, p.Value); want != "" && first == nil {
			first = &propertyError{kind: kind, name: p.Name, got: typeName(p.Value), want: want}
		}
	}
	if first != nil {
		return unknown, first
	}
	return unknown, nil
}

func fieldNamed(fields []field, name string) *field {
	for i := range fields {
		if fields[i].name == name {
			return &fields[i]
		}
	}
	return nil
}

// load sets *ptr to v, or returns the type wanted ("a string", ...),
// leaving *ptr alone, when v is not of it.
func load(ptr, v any) (want string) {
	switch dst := ptr.(type) {
	case *string:
		return set(dst, v, "a string", func(s string) string { return s })
	case *int64:
		return set(dst, v, "an integer", func(n int64) int64 { return n })
	case *bool:
		return set(dst, v, "a boolean", func(b bool) bool { return b })
	case *time.Time:
		return set(dst, v, "a timestamp", time.Time.UTC)
	case *time.Duration:
		return set(dst, v, "an integer", func(n int64) time.Duration { return time.Duration(n) })
	case *[]string: // names, one per line: a job name never holds a newline
		return set(dst, v, "a string", splitLines)
	}
	panic(fmt.Sprintf("datastore: field of type %T", ptr)) // a programming error
}

// splitLines is the list a joined string holds; none for "".
func splitLines(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

// set sets *dst from v when v is a T, else returns want.
func set[T, F any](dst *F, v any, want string, from func(T) F) string {
	t, ok := v.(T)
	if !ok {
		return want
	}
	*dst = from(t)
	return ""
}

// saveFields returns the fields as properties, in their order.
func saveFields(fields []field) []datastore.Property {
	props := make([]datastore.Property, len(fields))
	for i, f := range fields {
		var v any
		switch src := f.ptr.(type) {
		case *string:
			v = *src
		case *int64:
			v = *src
		case *bool:
			v = *src
		case *time.Time:
			v = *src
		case *time.Duration:
			v = int64(*src)
		case *[]string:
			v = strings.Join(*src, "\n")
		default:
			panic(fmt.Sprintf("datastore: field of type %T", f.ptr)) // a programming error
		}
		props[i] = datastore.Property{Name: f.name, Value: v, NoIndex: f.noIndex}
	}
	return props
}

// propertyError reports one property of the wrong type in a record of
// kind (ErrBadEntity, store.ErrBadMember), which it matches.
type propertyError struct {
	kind            error
	name, got, want string
}

func (e *propertyError) Error() string {
	return fmt.Sprintf("%v: property %s holds %s, want %s", e.kind, e.name, e.got, e.want)
}

func (e *propertyError) Is(target error) bool { return target == e.kind }

func typeName(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "a string"
	case int64:
		return "an integer"
	case bool:
		return "a boolean"
	case float64:
		return "a float"
	case time.Time:
		return "a timestamp"
	case []byte:
		return "a blob"
	case *datastore.Key:
		return "a key"
	case datastore.GeoPoint:
		return "a geo point"
	case *datastore.Entity:
		return "an embedded entity"
	case []any:
		return "an array"
	default:
		return fmt.Sprintf("a %T", v)
	}
}
