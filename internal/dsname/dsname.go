// Package dsname holds Datastore's rule for reserved names, written once
// for the three places that apply it: the emulator (which refuses such
// kinds, key names and property names as Datastore does), the Datastore
// backend's settings (DATASTORE_KIND, DATASTORE_NAMESPACE) and the lease
// service's kind. It promises only to say what Datastore reserves; every
// other rule on names is its caller's.
package dsname

import "regexp"

var reservedRE = regexp.MustCompile(`^__.*__$`)

// Reserved reports whether name has the form __*__, which Datastore keeps
// for itself (kinds such as __kind__, properties such as __key__).
func Reserved(name string) bool { return reservedRE.MatchString(name) }
