package dsname

import "testing"

func TestReserved(t *testing.T) {
	for name, want := range map[string]bool{
		"__key__": true, "__kind__": true, "____": true, "__a b__": true,
		"": false, "__": false, "___": false, "Lease": false, "__Lease": false, "Lease__": false, "_a_": false,
		"__a\nb__": false, // as Datastore's pattern: "." stops at a line break
	} {
		if got := Reserved(name); got != want {
			t.Errorf("Reserved(%q) = %v, want %v", name, got, want)
		}
	}
}
