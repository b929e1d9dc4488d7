package datastore_test

import (
	"strings"
	"testing"

	"go-leader-election/store"
	_ "go-leader-election/store/datastore"
)

// Another user of the backend (the lease service's elections) asks for a
// kind of its own: the backend refuses its own kind and those Datastore
// refuses, naming why.
func TestCheckKind(t *testing.T) {
	b, ok := store.Lookup("datastore")
	if !ok || b.CheckKind == nil {
		t.Fatal("the datastore backend has no CheckKind")
	}
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	for _, tc := range []struct {
		env  map[string]string
		kind string
		want string // "" for accepted
	}{
		{nil, "Election", ""},
		{nil, "Lease", "must differ from DATASTORE_KIND"},
		{map[string]string{"DATASTORE_KIND": " Job "}, "Job", "must differ from DATASTORE_KIND"},
		{map[string]string{"DATASTORE_KIND": "Job"}, "Lease", ""},
		{nil, "__kind__", "reserved by Datastore"},
		{nil, "El\nection", "without control characters"},
		{nil, strings.Repeat("k", 1501), "1,500 bytes"},
	} {
		err := b.CheckKind(env(tc.env), tc.kind)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("kind %q, %v: %v, want it accepted", tc.kind, tc.env, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("kind %q, %v: %v, want an error saying %q", tc.kind, tc.env, err, tc.want)
		}
	}
}
