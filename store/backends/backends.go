// Package backends registers every store backend the daemon can be
// configured with (STORE). Importing it is all a program needs; adding a
// backend is its package plus one line here.
package backends

import (
	_ "go-leader-election/store/datastore" // STORE=datastore
	_ "go-leader-election/store/memory"    // STORE=memory, the default
	_ "go-leader-election/store/postgres"  // STORE=postgres
)
